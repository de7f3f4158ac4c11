package sip_test

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	sipgo "github.com/emiago/sipgo/sip"

	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// BenchmarkRegister is one full registration per op over loopback UDP:
// REGISTER, 401 challenge, REGISTER with digest credentials, 200 listing
// the binding (MemoryBindings).
func BenchmarkRegister(b *testing.B) {
	ts := startServer(b)
	p := ts.phone(b, "1001")
	ctx := context.Background()
	n := 0
	for b.Loop() {
		res, err := p.Register(ctx, 600)
		if err != nil || res.Code != 200 {
			b.Fatalf("REGISTER: %v %v", res, err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "registers/s")
}

// BenchmarkOptions is one OPTIONS round trip per op from a plain UDP
// socket: the server's cost per stateless-ish request.
func BenchmarkOptions(b *testing.B) {
	ts := startServer(b)
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ts.UDP))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 65536)
	n := 0
	for b.Loop() {
		id := "bench" + testkit.RandHex(12)
		if _, err := conn.Write(siptest.RawOptions(ts.UDP, id)); err != nil {
			b.Fatal(err)
		}
		for {
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			m, err := conn.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			if bytes.Contains(buf[:m], []byte(id)) {
				if !bytes.HasPrefix(buf[:m], []byte("SIP/2.0 200 ")) {
					b.Fatalf("got %q", buf[:m])
				}
				break
			}
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "options/s")
}

// BenchmarkParse is sipgo's parse of a typical INVITE with SDP, for
// reference: readFilter pays it once more per UDP datagram.
func BenchmarkParse(b *testing.B) {
	msg := loadTestdata(b, "valid/invite.sip", "127.0.0.1:5060", "bench")
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sipgo.ParseMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
}
