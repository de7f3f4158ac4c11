package sip

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sipgo "github.com/emiago/sipgo/sip"
)

// FuzzReadFilter calls Server.readFilter directly with the testdata corpus
// as seeds. Properties: it never panics and never returns an error (an error
// stops sipgo's UDP read loop for good); what it passes on parses, and what
// it drops does not; TCP data passes untouched.
func FuzzReadFilter(f *testing.F) {
	s, err := NewServer(Config{
		Listen: []Listen{{Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		Users:  []User{{Name: "1001", Password: "pw-1001"}},
	}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.close)
	// Where stateless 400s go; nobody reads them.
	sink, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = sink.Close() })
	server := s.Addrs()[0].Addr.String()
	host, _, _ := strings.Cut(server, ":")
	fill := strings.NewReplacer("{{SERVER}}", server, "{{HOST}}", host, "{{ID}}", "seed1")
	for _, dir := range []string{"valid", "malformed"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.sip"))
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add([]byte(fill.Replace(string(b))))
		}
	}
	udp := sipgo.TransportReadProps{Transport: "UDP", LocalAddr: s.listeners[0].packet.LocalAddr(), RemoteAddr: sink.LocalAddr()}
	tcp := sipgo.TransportReadProps{Transport: "TCP", LocalAddr: s.listeners[0].packet.LocalAddr(), RemoteAddr: sink.LocalAddr()}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := bytes.Clone(data)
		out, err := s.readFilter(udp, data)
		if err != nil {
			t.Fatalf("readFilter returned %v: sipgo would stop reading the socket", err)
		}
		if !bytes.Equal(data, in) {
			t.Fatal("readFilter modified its input")
		}
		_, perr := sipgo.ParseMessage(in)
		switch {
		case len(in) <= 4:
			if !bytes.Equal(out, in) {
				t.Fatalf("keep-alive-sized input %q not passed on", in)
			}
		case out == nil:
			if perr == nil {
				t.Fatalf("dropped a datagram that parses: %q", in)
			}
		default:
			if perr != nil || !bytes.Equal(out, in) {
				t.Fatalf("passed on %q (parse error %v)", out, perr)
			}
		}
		if out, err := s.readFilter(tcp, data); err != nil || !bytes.Equal(out, in) {
			t.Fatalf("TCP data changed: %q, %v", out, err)
		}
	})
}
