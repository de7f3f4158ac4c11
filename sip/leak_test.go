package sip_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/sip"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// TestNoGoroutineLeaks runs every kind of exchange against a server, closes
// the server and phones, and checks that the goroutine count returns to
// where it was. Not parallel: it counts the whole process's goroutines.
func TestNoGoroutineLeaks(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Run("scenario", func(t *testing.T) {
		ts := startServer(t, withTCP())
		// Registrations over UDP and TCP.
		callee := ts.registered(t, "1002", withAnswer(siptest.AnswerWith(sdpOf(50000))))
		tcpPhone := ts.registered(t, "1003", func(o *siptest.Options) { o.Transport = "tcp" })
		ringer := ts.registered(t, "1004", withAnswer(siptest.NoAnswer))
		silent := ts.registered(t, "1005", withAnswer(siptest.Manual))

		// Inbound: answered, re-INVITE, INFO, BYE.
		_, call, in := answered(t, ts)
		go func() {
			offer := waitEvent[sip.OfferReceived](t, in.ev)
			offer.Respond(200, sdpOf(40000, "recvonly"))
		}()
		if code, _, err := call.ReInvite(ctxFor(t), sdpOf(30000, "sendonly")); err != nil || code != 200 {
			t.Fatalf("re-INVITE %d %v", code, err)
		}
		if _, err := call.Info(ctxFor(t), "application/dtmf-relay", []byte("Signal=1\r\n")); err != nil {
			t.Fatal(err)
		}
		if _, err := call.Bye(ctxFor(t)); err != nil {
			t.Fatal(err)
		}
		waitEvent[sip.ByeReceived](t, in.ev)

		// Inbound: cancelled, and rejected, and unanswered at shutdown.
		_, call, in = dial(t, ts, sdpOf(30000))
		if err := in.Progress(180, nil); err != nil {
			t.Fatal(err)
		}
		if err := call.WaitProvisional(ctxFor(t), 180); err != nil {
			t.Fatal(err)
		}
		if _, err := call.Cancel(ctxFor(t)); err != nil {
			t.Fatal(err)
		}
		waitEvent[sip.Cancelled](t, in.ev)
		_, _, in = dial(t, ts, sdpOf(30000))
		_ = in.Reject(603, "")
		_, _, _ = dial(t, ts, sdpOf(30000)) // left ringing: Serve answers 503 when it stops

		// Outbound: answered and hung up, over UDP and TCP; cancelled; never answered.
		out, ev := ts.invite(t, "1002", sdpOf(20000), nil)
		waitEvent[sip.Answered](t, ev)
		if err := incoming(t, callee).WaitAck(ctxFor(t)); err != nil {
			t.Fatal(err)
		}
		if err := out.Hangup(ctxFor(t), ""); err != nil {
			t.Fatal(err)
		}
		out, ev = ts.invite(t, "1003", sdpOf(20000), nil)
		incoming(t, tcpPhone)
		waitEvent[sip.Answered](t, ev)
		if err := out.Hangup(ctxFor(t), ""); err != nil {
			t.Fatal(err)
		}
		out, ev = ts.invite(t, "1004", sdpOf(20000), nil)
		incoming(t, ringer)
		waitEvent[sip.ProgressReceived](t, ev)
		out.Cancel("")
		waitEvent[sip.Rejected](t, ev)
		_, _ = ts.invite(t, "1005", sdpOf(20000), nil) // still trying at shutdown
		incoming(t, silent)

		// Odd requests and datagrams.
		p := ts.phone(t, "1006")
		for _, m := range []string{"FOO", "SUBSCRIBE", "CANCEL", "BYE"} {
			if _, err := p.Do(ctxFor(t), siptest.Request{Method: m, User: "1002"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range []string{"missing-call-id.sip", "content-length-too-large.sip", "missing-cseq.sip"} {
			if _, err := siptest.SendRaw(ctxFor(t), ts.UDP.String(), loadMalformed(t, f, ts.UDP.String(), "leak"+testkit.RandHex(6))); err != nil {
				t.Fatal(err)
			}
		}
	})
	if t.Failed() {
		return
	}
	testkit.CheckGoroutines(t, base, 10*time.Second)
	if s := testkit.Goroutines(); strings.Contains(s, "ringdesk/sip.") {
		t.Errorf("goroutines of package sip still running:\n%s", s)
	}
}
