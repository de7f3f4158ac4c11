package sip_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// loadMalformed reads testdata/malformed/name, filled in by fillTestdata.
func loadMalformed(t testing.TB, name, server, id string) []byte {
	t.Helper()
	return loadTestdata(t, filepath.Join("malformed", name), server, id)
}

// loadTestdata reads testdata/rel and fills in the server's address
// ({{SERVER}}, {{HOST}}) and an id ({{ID}}).
func loadTestdata(t testing.TB, rel, server, id string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ := strings.Cut(server, ":")
	b = bytes.ReplaceAll(b, []byte("{{SERVER}}"), []byte(server))
	b = bytes.ReplaceAll(b, []byte("{{HOST}}"), []byte(host))
	b = bytes.ReplaceAll(b, []byte("{{ID}}"), []byte(id))
	return b
}

// statusOf returns the status code of a raw response, 0 for none.
func statusOf(t testing.TB, res []byte) int {
	t.Helper()
	if res == nil {
		return 0
	}
	line, _, _ := bytes.Cut(res, []byte("\r\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 || !strings.HasPrefix(f[0], "SIP/") {
		t.Fatalf("not a response: %q", line)
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("status line %q", line)
	}
	return code
}

// RFC 4475 §3.1.2-style invalid messages, one UDP datagram each. A request
// with the headers a client needs to match a response gets 400; anything
// else gets nothing; the server never panics and keeps working.
func TestMalformedDatagrams(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	type malformedCase struct {
		file string
		want int // status, 0 for no response
	}
	cases := []malformedCase{
		{file: "missing-call-id.sip", want: 400},
		{file: "missing-cseq.sip", want: 400},
		{file: "missing-from.sip", want: 400},
		{file: "missing-via.sip", want: 400}, // sipgo's stateless 400 goes to the source
		{file: "from-without-tag.sip", want: 400},
		{file: "cseq-method-mismatch.sip", want: 400},     // RFC 4475 3.1.2.17
		{file: "unknown-method-mismatch.sip", want: 400},  // RFC 4475 3.1.2.18
		{file: "content-length-too-large.sip", want: 400}, // 3.1.2.2; RFC 3261 §18.3
		{file: "content-length-negative.sip", want: 400},  // 3.1.2.3
		{file: "overlarge-scalars.sip", want: 400},        // 3.1.2.4
		{file: "unterminated-quote.sip", want: 400},       // 3.1.2.6
		{file: "request-uri-in-brackets.sip", want: 400},  // 3.1.2.7
		{file: "header-without-colon.sip", want: 400},
		{file: "bad-via.sip", want: 400},
		{file: "no-end-of-headers.sip", want: 400},
		// 60 KB: sipgo reads 32 KB of a datagram, the rest is cut off.
		{file: "huge-header.sip", want: 400},
		// Not authenticated: the registrar challenges before it looks at
		// Expires (RFC 3261 §10.3 step 3 before 6); the authenticated case
		// is in TestRegisterExpires.
		{file: "expires-not-a-number.sip", want: 401},
		{file: "garbage-start-line.sip", want: 0},
		{file: "bad-response.sip", want: 0},
		{file: "nul-bytes.sip", want: 400},
		{file: "unknown-version.sip", want: 505},
		{file: "max-forwards-zero.sip", want: 483},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "malformed", "*.sip"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !slices.ContainsFunc(cases, func(c malformedCase) bool { return c.file == filepath.Base(f) }) {
			t.Errorf("%s has no expectation in this table", f)
		}
	}
	t.Run("datagrams", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(strings.TrimSuffix(tc.file, ".sip"), func(t *testing.T) {
				t.Parallel()
				id := "m" + testkit.RandHex(12)
				res, err := siptest.SendRaw(ctxFor(t), ts.UDP.String(), loadMalformed(t, tc.file, ts.UDP.String(), id))
				if err != nil {
					t.Fatal(err)
				}
				if got := statusOf(t, res); got != tc.want {
					t.Fatalf("got %d, want %d; response:\n%s", got, tc.want, res)
				}
				if tc.want == 400 && tc.file != "missing-via.sip" && tc.file != "bad-via.sip" {
					// The client can match the 400 to its request.
					if !bytes.Contains(res, []byte("branch=z9hG4bK"+id)) {
						t.Errorf("400 does not echo the Via branch:\n%s", res)
					}
				}
			})
		}
	})
	// The server still works.
	p := ts.phone(t, "1001")
	if res, err := p.Register(ctxFor(t), 600); err != nil || res.Code != 200 {
		t.Fatalf("REGISTER after the malformed datagrams: %v, %v", res, err)
	}
}
