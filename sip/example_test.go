package sip_test

import (
	"context"
	"log/slog"
	"net/netip"
	"os"

	"github.com/ringdesk/ringdesk/sip"
)

// A SIP server that registers phones and turns away every call with 486,
// until the context ends. Package calls provides the real Handler.
func ExampleServer() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv, err := sip.NewServer(sip.Config{
		Listen: []sip.Listen{{Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		Users:  []sip.User{{Name: "1001", Password: "secret"}},
	}, &sip.MemoryBindings{}, log)
	if err != nil {
		log.Error("sip", "error", err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	stop() // an example: stop at once
	err = srv.Serve(ctx, sip.HandlerFunc(func(call *sip.InboundCall) {
		_ = call.Reject(486, "")
	}))
	if err != nil {
		log.Error("sip", "error", err)
	}
}
