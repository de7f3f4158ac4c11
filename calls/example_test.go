package calls_test

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/sip"
)

// Wiring a PBX: the Switch is the SIP server's Handler and places calls
// through it; the media Engine anchors every call's RTP; the Observer learns
// how each call went.
func ExampleNewSwitch() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv, err := sip.NewServer(sip.Config{
		Listen: []sip.Listen{{Network: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:0")}},
		Users:  []sip.User{{Name: "1001", Password: "a"}, {Name: "1002", Password: "b"}},
	}, &sip.MemoryBindings{}, log)
	if err != nil {
		log.Error("sip", "error", err)
		return
	}
	engine, err := media.NewEngine(media.Config{Address: netip.MustParseAddr("127.0.0.1")}, log)
	if err != nil {
		log.Error("media", "error", err)
		return
	}
	sw, err := calls.NewSwitch(calls.Config{
		RingTimeout: 20 * time.Second,
		Extensions:  []calls.Extension{{Number: "1001", Name: "Alice"}, {Number: "1002", Name: "Bob"}},
	}, srv, engine, calls.ObserverFunc(func(e calls.Event) {
		if ended, ok := e.(calls.CallEnded); ok {
			log.Info("call ended", "cause", ended.Record.Cause, "talk", ended.Record.TalkDuration)
		}
	}), log)
	if err != nil {
		log.Error("calls", "error", err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	stop() // an example: stop at once
	_ = srv.Serve(ctx, sw)
	sw.Close()
}
