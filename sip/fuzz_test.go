package sip_test

import (
	"bytes"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// seedMessages returns the valid and malformed corpus in testdata, filled
// in for a server at server.
func seedMessages(t testing.TB, server string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, dir := range []string{"valid", "malformed"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.sip"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			out = append(out, loadTestdata(t, filepath.Join(dir, filepath.Base(f)), server, "seed"+testkit.RandHex(8)))
		}
	}
	return out
}

// probeEvery is how many fuzz inputs go by between checks that the server
// still answers.
const probeEvery = 250

// FuzzServerRequest sends arbitrary bytes as one UDP datagram to a running
// server (one server per fuzzing process). The server must never panic (a
// panic in sipgo's goroutines kills the process; one recovered by
// Server.guard is logged and fails the input) and must still answer OPTIONS.
func FuzzServerRequest(f *testing.F) {
	ts := startServer(f)
	for _, s := range seedMessages(f, ts.UDP.String()) {
		f.Add(s)
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ts.UDP))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = conn.Close() })
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, data []byte) {
		before := len(ts.logs.Grep("panicked"))
		_, _ = conn.Write(data) // oversize datagrams fail to send: fine
		if n.Add(1)%probeEvery != 0 {
			return
		}
		res, err := siptest.SendRaw(ctxFor(t), ts.UDP.String(), siptest.RawOptions(ts.UDP, "probe"+testkit.RandHex(10)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(res, []byte("SIP/2.0 200 ")) {
			t.Fatalf("after %d inputs the server no longer answers OPTIONS (got %q); last input %q", n.Load(), res, data)
		}
		if p := ts.logs.Grep("panicked"); len(p) > before {
			t.Fatalf("the server recovered from a panic: %s", p[len(p)-1])
		}
	})
}
