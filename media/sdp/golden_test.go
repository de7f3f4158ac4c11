package sdp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestGoldenAnswers answers every offer in testdata/offers with goldenLocal.
// testdata/answers/NAME.txt describes the offer, and what was negotiated or
// the error; testdata/answers/NAME.sdp is the answer, if there is one.
func TestGoldenAnswers(t *testing.T) {
	for _, name := range testdataNames(t, "offers") {
		t.Run(name, func(t *testing.T) {
			o, err := ParseOffer(readTestdata(t, "offers/"+name+".sdp"))
			if err != nil {
				t.Fatalf("ParseOffer: %v", err)
			}
			var summary strings.Builder
			summary.WriteString("offer:      " + describeMedia(o.Media()) + "\n")
			a, n, err := o.Answer(goldenLocal())
			if err != nil {
				if !errors.Is(err, ErrNoCommonCodec) {
					t.Errorf("Answer error %v does not match ErrNoCommonCodec", err)
				}
				summary.WriteString("error:      " + err.Error() + "\n")
				golden(t, "answers/"+name+".txt", []byte(summary.String()))
				noGolden(t, "answers/"+name+".sdp")
				return
			}
			summary.WriteString("answer:     " + describeMedia(a.Media()) + "\n")
			summary.WriteString("negotiated: " + describeNegotiated(n) + "\n")
			golden(t, "answers/"+name+".txt", []byte(summary.String()))
			body := a.Marshal()
			golden(t, "answers/"+name+".sdp", body)
			assertWellFormed(t, body)
		})
	}
}

// assertWellFormed checks Marshal's output: CRLF line endings, a final CRLF,
// the RFC 4566 §5 session level that Ringdesk writes.
func assertWellFormed(t *testing.T, body []byte) {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Errorf("no final CRLF")
	}
	if n, crlf := bytes.Count(body, []byte("\n")), bytes.Count(body, []byte("\r\n")); n != crlf {
		t.Errorf("%d LF without CR", n-crlf)
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n")
	if len(lines) < 5 || lines[0] != "v=0" || !strings.HasPrefix(lines[1], "o=") || lines[2] != "s=-" ||
		!strings.HasPrefix(lines[3], "c=IN IP") || lines[4] != "t=0 0" {
		t.Errorf("session level is not v= o= s=- c= t=0 0:\n%s", body)
	}
}
