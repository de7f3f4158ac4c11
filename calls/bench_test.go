package calls_test

import (
	"context"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// BenchmarkCallSetup measures a whole call through the switch, one at a
// time: INVITE, 407 and INVITE with digest, a fresh RTP session per leg,
// INVITE to the callee's phone, 180, 200 and ACK on both legs, BYE from the
// caller and BYE to the callee, and the call record. It reports calls per
// second; allocs/op are the whole process's (phones included) per call.
func BenchmarkCallSetup(b *testing.B) {
	ended := make(chan calls.CallRecord, 1)
	obs := calls.ObserverFunc(func(e calls.Event) {
		if ce, ok := e.(calls.CallEnded); ok {
			ended <- ce.Record
		}
	})
	h := newHarness(b, withObserver(obs), withoutTrace(),
		// Ports rest for a millisecond, not 2 s, or a fast loop runs
		// out of them.
		withMedia(func(c *media.Config) { c.Quarantine = time.Millisecond }))
	callee := h.register(b, "1002", answer(siptest.AnswerWith(newRTPPeer(b, "callee").SDP())))
	caller := h.phone(b, "1001")
	offer := newRTPPeer(b, "caller").SDP()

	b.ReportAllocs()
	n := 0
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		call, err := caller.Dial(ctx, "1002", offer)
		if err != nil {
			b.Fatal(err)
		}
		var ic *siptest.IncomingCall
		select {
		case ic = <-callee.Incoming():
		case <-ctx.Done():
			b.Fatal("the callee was not rung")
		}
		if code, _, err := call.WaitAnswer(ctx); err != nil || code != 200 {
			b.Fatalf("call %d: %d %v", n, code, err)
		}
		if err := ic.WaitAck(ctx); err != nil {
			b.Fatal(err)
		}
		if code, err := call.Bye(ctx); err != nil || code != 200 {
			b.Fatalf("BYE: %d %v", code, err)
		}
		if _, err := ic.WaitBye(ctx); err != nil {
			b.Fatal(err)
		}
		select {
		case rec := <-ended:
			if rec.Cause != calls.CauseNormal {
				b.Fatalf("call ended with %s", rec.Cause)
			}
		case <-ctx.Done():
			b.Fatal("no CallEnded")
		}
		cancel()
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "calls/s")
}
