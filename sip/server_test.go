package sip_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/sip"
)

// failingStore is a BindingStore whose LoadBindings fails.
type failingStore struct{ sip.MemoryBindings }

func (*failingStore) LoadBindings(context.Context) ([]sip.Binding, error) {
	return nil, errors.New("disk on fire")
}

func TestServeReturnsStoreError(t *testing.T) {
	t.Parallel()
	srv, err := sip.NewServer(sip.Config{
		Listen: []sip.Listen{{Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		Users:  testUsers(),
	}, &failingStore{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := srv.Serve(ctx, sip.HandlerFunc(func(*sip.InboundCall) {})); err == nil {
		t.Fatal("Serve succeeded with a store that cannot load")
	}
}

// When Serve fails to load the stored bindings it returns without closing
// the sockets Listen bound: the port stays taken for the life of the process.
func TestServeStoreErrorReleasesSockets(t *testing.T) {
	t.Parallel()
	srv, err := sip.NewServer(sip.Config{
		Listen: []sip.Listen{{Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		Users:  testUsers(),
	}, &failingStore{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addrs()[0].Addr
	_ = srv.Serve(context.Background(), sip.HandlerFunc(func(*sip.InboundCall) {}))
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatalf("after Serve failed, %s is still bound: %v", addr, err)
	}
	_ = c.Close()
}

func TestServeTwice(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := ts.Serve(ctx, sip.HandlerFunc(func(*sip.InboundCall) {})); err == nil {
		t.Error("a second Serve succeeded")
	}
}

func TestNewServerRejectsBadConfig(t *testing.T) {
	t.Parallel()
	udp := []sip.Listen{{Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:0")}}
	for _, tc := range []struct {
		name string
		cfg  sip.Config
	}{
		{"no listener", sip.Config{}},
		{"unknown algorithm", sip.Config{Listen: udp, DigestAlgorithms: []string{"SHA-512"}}},
		{"min above max", sip.Config{Listen: udp, MinExpires: time.Hour, MaxExpires: time.Minute}},
		{"user without secret", sip.Config{Listen: udp, Users: []sip.User{{Name: "1001"}}}},
		{"duplicate user", sip.Config{Listen: udp, Users: []sip.User{{Name: "1", Password: "a"}, {Name: "1", Password: "b"}}}},
		{"tls without certificate", sip.Config{Listen: []sip.Listen{{Network: "tls", Addr: netip.MustParseAddrPort("127.0.0.1:0")}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := sip.NewServer(tc.cfg, nil, slog.New(slog.DiscardHandler)); err == nil {
				t.Error("NewServer accepted it")
			}
		})
	}
}
