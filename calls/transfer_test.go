package calls_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// target registers 1003, a phone answered by hand, with its RTP peer.
func target(tb testing.TB, h *harness) (*siptest.Phone, *rtpPeer) {
	tb.Helper()
	return h.register(tb, "1003", answer(siptest.Manual)), newRTPPeer(tb, "1003")
}

// answerTarget answers the INVITE 1003 received and returns it, with
// Ringdesk's media address on that leg.
func answerTarget(tb testing.TB, h *harness, ph *siptest.Phone, peer *rtpPeer) (*siptest.IncomingCall, *stream) {
	tb.Helper()
	ic := incoming(tb, ph)
	side := ringdeskMedia(tb, ic.SDP)
	h.ring(tb, ic)
	respond(tb, ic, 200, peer.SDP())
	if err := ic.WaitAck(ctxFor(tb)); err != nil {
		tb.Fatalf("1003 got no ACK: %v", err)
	}
	// the ACK goes out before the call has joined 1003 in
	waitEvent(tb, h.Obs, func(e calls.Event) bool {
		switch e := e.(type) {
		case calls.LegConnected:
			return e.Leg.SIPCallID == ic.CallID()
		case calls.CallAnswered:
			return e.Leg.SIPCallID == ic.CallID()
		}
		return false
	})
	return ic, peer.newStream(side.RemoteAddr(), 0, 0xC3C3)
}

// relays checks that packets marked b from one stream reach the peer
// unchanged (the two talk to each other). It sends a few every 100 ms, as
// the media may be rewired a moment after the event the test waited for.
func relays(tb testing.TB, from *stream, to *rtpPeer, b byte) {
	tb.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		from.fill(tb, b, 3)
		time.Sleep(100 * time.Millisecond) // paced resending, bounded by waitFor
		if len(matching(to.packets(), filled(b))) >= 3 {
			return
		}
	}
	tb.Fatalf("packets marked %#x from %s did not reach %s within %s", b, from.from.name, to.name, waitFor)
}

// transferEnded waits for the n-th TransferEnded (1-based).
func transferEnded(tb testing.TB, h *harness, n int) calls.TransferEnded {
	tb.Helper()
	return waitNth[calls.TransferEnded](tb, h.Obs, n)[n-1]
}

// TestConsultation: the agent (the callee, 1002) consults 1003 while the
// caller hears hold music. Cancelled, the caller is back with the agent;
// not answered, the same; completed, the caller talks to 1003 and the agent
// is released.
func TestConsultation(t *testing.T) {
	h := newHarness(t, withCalls(func(c *calls.Config) { c.RingTimeout = time.Second }))
	p := h.connect(t, nil, nil)
	c := liveCall(t, h, p.id)
	ctx := ctxFor(t)
	ph, peer := target(t, h)
	up, down := p.up(0), p.down(0)

	// 1. answered, then cancelled
	if err := c.StartConsult(ctx, "", "1003"); err != nil {
		t.Fatalf("StartConsult: %v", err)
	}
	waitEvent(t, h.Obs, func(e calls.PartyHeld) bool { return e.Leg == p.callerLeg })
	if err := c.StartConsult(ctx, "", "1003"); err == nil {
		t.Error("a second consultation started during the first")
	}
	ic, fromTarget := answerTarget(t, h, ph, peer)
	relays(t, down, peer, 0x21)
	relays(t, fromTarget, p.calleeRTP, 0x22)
	n := len(matching(p.callerRTP.packets(), filled(0x22)))
	if err := c.CancelConsult(ctx); err != nil {
		t.Fatalf("CancelConsult: %v", err)
	}
	waitBye(t, "1003", ic)
	if m := len(matching(p.callerRTP.packets(), filled(0x22))); m != n {
		t.Errorf("the held caller heard the consultation (%d packets)", m-n)
	}
	if e := transferEnded(t, h, 1); e.Transfer.Outcome != "cancelled" || e.Transfer.Kind != calls.TransferAttended {
		t.Errorf("first TransferEnded %+v, want an attended transfer cancelled", e.Transfer)
	}
	waitEvent(t, h.Obs, func(e calls.PartyResumed) bool { return e.Leg == p.callerLeg })
	relays(t, up, p.calleeRTP, 0x23)
	relays(t, down, p.callerRTP, 0x24)

	// 2. not answered: the ringing stops after the ring timeout
	if err := c.StartConsult(ctx, "", "1003"); err != nil {
		t.Fatalf("StartConsult: %v", err)
	}
	ic = incoming(t, ph)
	h.ring(t, ic)
	if err := c.CompleteConsult(ctx); err == nil {
		t.Error("CompleteConsult succeeded before 1003 answered")
	}
	waitCancel(t, ic)
	if e := transferEnded(t, h, 2); e.Transfer.Outcome != "failed" || e.Recalled {
		t.Errorf("second TransferEnded %+v, want failed, no recall", e)
	}
	relays(t, up, p.calleeRTP, 0x25)
	relays(t, down, p.callerRTP, 0x26)

	// 3. completed
	if err := c.StartConsult(ctx, "", "1003"); err != nil {
		t.Fatalf("StartConsult: %v", err)
	}
	ic, fromTarget = answerTarget(t, h, ph, peer)
	if err := c.CompleteConsult(ctx); err != nil {
		t.Fatalf("CompleteConsult: %v", err)
	}
	waitBye(t, "the agent", p.ic)
	if e := transferEnded(t, h, 3); e.Transfer.Outcome != "completed" {
		t.Errorf("third TransferEnded %+v, want completed", e.Transfer)
	}
	relays(t, up, peer, 0x27)
	relays(t, fromTarget, p.callerRTP, 0x28)
	if code, err := ic.Bye(ctx); err != nil || code != 200 {
		t.Fatalf("1003's BYE: %d %v", code, err)
	}
	waitBye(t, "caller", p.call)
	rec := h.ended(t)
	if len(rec.Transfers) != 3 {
		t.Fatalf("record transfers %+v, want three", rec.Transfers)
	}
	for i, want := range []string{"cancelled", "failed", "completed"} {
		if tr := rec.Transfers[i]; tr.Outcome != want || tr.Target != "1003" || tr.By != p.calleeLeg {
			t.Errorf("transfer %d: %+v, want %s by %s to 1003", i, tr, want, p.calleeLeg)
		}
	}
}

// TestBlindTransferAPI: the agent is released at once, the caller hears
// ringback until 1003 answers and then talks to it.
func TestBlindTransferAPI(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	c := liveCall(t, h, p.id)
	ph, peer := target(t, h)
	if err := c.BlindTransfer(ctxFor(t), p.calleeLeg, "9999"); err == nil {
		t.Error("a blind transfer to no extension was accepted")
	}
	if err := c.BlindTransfer(ctxFor(t), p.calleeLeg, "1003"); err != nil {
		t.Fatalf("BlindTransfer: %v", err)
	}
	waitBye(t, "the agent", p.ic)
	ic := incoming(t, ph)
	h.ring(t, ic)
	from, to := window(time.Second)
	rb := heardBetween(p.callerRTP, from, to)
	if toneShare(rb, 440)+toneShare(rb, 480) < 0.5 { // the default (us) ringback is 440+480 Hz
		t.Errorf("the caller does not hear ringback while 1003 rings")
	}
	respond(t, ic, 200, peer.SDP())
	if err := ic.WaitAck(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	fromTarget := peer.newStream(ringdeskMedia(t, ic.SDP).RemoteAddr(), 0, 0xC3C3)
	if e := transferEnded(t, h, 1); e.Transfer.Outcome != "completed" || e.Transfer.Kind != calls.TransferBlind {
		t.Errorf("TransferEnded %+v", e.Transfer)
	}
	relays(t, p.up(0), peer, 0x31)
	relays(t, fromTarget, p.callerRTP, 0x32)
	p.call.Bye(ctxFor(t)) //nolint:errcheck // the BYE's arrival is what is checked
	waitBye(t, "1003", ic)
	h.ended(t)
}

// replacesURI is a Refer-To for an attended transfer to 1003 that replaces
// dialog d (RFC 3891 in a URI header, escaped).
func replacesURI(h *harness, d interface {
	CallID() string
	LocalTag() string
	RemoteTag() string
},
) string {
	rep := d.CallID() + ";to-tag=" + d.RemoteTag() + ";from-tag=" + d.LocalTag()
	return "<sip:1003@" + h.UDP.String() + "?Replaces=" + url.QueryEscape(rep) + ">"
}

// TestReferWithReplaces: an agent's desk phone does an attended transfer
// itself: it has the customer's call and a call to 1003, and sends REFER
// with Replaces on one of them naming the other. Ringdesk joins the
// customer and 1003, releases both of the phone's calls, reports the
// transfer's success by NOTIFY, and ends the call that gave its party away.
func TestReferWithReplaces(t *testing.T) {
	for _, tc := range []struct {
		name string
		// onCustomerCall: the REFER goes on the customer's call and
		// replaces the consultation (the usual way); otherwise the reverse.
		onCustomerCall bool
	}{{"on the customer's call", true}, {"on the consultation", false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			p := h.connect(t, nil, nil) // the customer 1001 calls the agent 1002
			ph, peer := target(t, h)
			agentPeer := newRTPPeer(t, "agent-consult")
			consult := dial(t, p.callee, "1003", agentPeer.SDP())
			ic, fromTarget := answerTarget(t, h, ph, peer)
			if code, _ := waitFinal(t, consult); code != 200 {
				t.Fatalf("the consultation got %d", code)
			}
			consultID := waitEvent(t, h.Obs, func(e calls.CallAnswered) bool { return e.Leg.SIPCallID == ic.CallID() }).Call()

			var res *siptest.Response
			var err error
			var referDialog *siptest.Dialog
			if tc.onCustomerCall {
				referDialog = p.ic.Dialog
				res, err = p.ic.Dialog.Request(ctxFor(t), "REFER", "", nil, siptest.Header{Name: "Refer-To", Value: replacesURI(h, consult)})
			} else {
				referDialog = consult.Dialog
				res, err = consult.Request(ctxFor(t), "REFER", "", nil, siptest.Header{Name: "Refer-To", Value: replacesURI(h, p.ic)})
			}
			if err != nil || res.Code != 202 {
				t.Fatalf("REFER: %v %v", res, err)
			}
			// both of the agent's calls end
			waitBye(t, "the agent's first call", p.ic)
			waitBye(t, "the agent's consultation", consult)
			notify := lastNotify(t, referDialog)
			if !strings.Contains(string(notify.Body), "SIP/2.0 200") {
				t.Errorf("the last NOTIFY says %q, want 200", notify.Body)
			}
			// the customer and 1003 talk
			relays(t, p.up(0), peer, 0x41)
			relays(t, fromTarget, p.callerRTP, 0x42)
			gone, stays := consultID, p.id
			if !tc.onCustomerCall {
				gone, stays = p.id, consultID
			}
			goneRec := waitEvent(t, h.Obs, func(e calls.CallEnded) bool { return e.Call() == gone }).Record
			if goneRec.Cause != calls.CauseTransferred {
				t.Errorf("the call that gave its party away ended with %s, want transferred", goneRec.Cause)
			}
			// its record keeps its own legs, the one given away included
			own := map[calls.LegID]bool{}
			for _, l := range goneRec.Legs {
				own[l.ID] = strings.HasPrefix(string(l.ID), string(gone))
			}
			if len(goneRec.Legs) != 2 || !own[goneRec.AnsweredBy] {
				t.Errorf("the record of the call that gave its party away: answered by %s, legs %+v", goneRec.AnsweredBy, goneRec.Legs)
			}
			for id, ok := range own {
				if !ok {
					t.Errorf("that record names leg %s of another call", id)
				}
			}
			// the customer hangs up: 1003 is told
			p.call.Bye(ctxFor(t)) //nolint:errcheck // the BYE's arrival is what is checked
			waitBye(t, "1003", ic)
			rec := waitEvent(t, h.Obs, func(e calls.CallEnded) bool { return e.Call() == stays }).Record
			if len(rec.Transfers) != 1 || rec.Transfers[0].Kind != calls.TransferAttended || rec.Transfers[0].Outcome != "completed" {
				t.Errorf("the surviving call's transfers %+v, want one attended, completed", rec.Transfers)
			}
		})
	}
}

// lastNotify waits for a NOTIFY whose sipfrag is final and returns it.
func lastNotify(tb testing.TB, d *siptest.Dialog) *siptest.Message {
	tb.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		for _, m := range d.Received() {
			if m.Method == "NOTIFY" && !strings.Contains(string(m.Body), "SIP/2.0 1") {
				return m
			}
		}
		time.Sleep(10 * time.Millisecond) // bounded poll of the phone's requests
	}
	for _, m := range d.Received() {
		tb.Logf("received %s %q", m.Method, m.Body)
	}
	tb.Fatalf("no final NOTIFY within %s", waitFor)
	return nil
}

// TestReferBlind: the agent's phone transfers the caller with REFER. When
// 1003 answers, the phone gets NOTIFY 200 and then BYE, and the caller
// talks to 1003. When nobody answers, the phone gets the failure NOTIFY; if
// it then hangs up (as baresip does), it is rung again and takes the
// caller back.
func TestReferBlind(t *testing.T) {
	t.Run("answered", func(t *testing.T) {
		h := newHarness(t)
		p := h.connect(t, nil, nil)
		ph, peer := target(t, h)
		res, err := p.ic.Dialog.Request(ctxFor(t), "REFER", "", nil, siptest.Header{Name: "Refer-To", Value: "<sip:1003@" + h.UDP.String() + ">"})
		if err != nil || res.Code != 202 {
			t.Fatalf("REFER: %v %v", res, err)
		}
		ic, fromTarget := answerTarget(t, h, ph, peer)
		waitBye(t, "the agent", p.ic)
		if n := lastNotify(t, p.ic.Dialog); !strings.Contains(string(n.Body), "SIP/2.0 200") {
			t.Errorf("final NOTIFY %q, want 200", n.Body)
		}
		relays(t, p.up(0), peer, 0x51)
		relays(t, fromTarget, p.callerRTP, 0x52)
		p.call.Bye(ctxFor(t)) //nolint:errcheck // the BYE's arrival is what is checked
		waitBye(t, "1003", ic)
		if rec := h.ended(t); len(rec.Transfers) != 1 || rec.Transfers[0].Outcome != "completed" {
			t.Errorf("transfers %+v", rec.Transfers)
		}
	})
	t.Run("no answer, the phone hangs up", func(t *testing.T) {
		h := newHarness(t, withCalls(func(c *calls.Config) { c.RingTimeout = time.Second }))
		p := h.connect(t, nil, nil)
		ph, _ := target(t, h)
		res, err := p.ic.Dialog.Request(ctxFor(t), "REFER", "", nil, siptest.Header{Name: "Refer-To", Value: "<sip:1003@" + h.UDP.String() + ">"})
		if err != nil || res.Code != 202 {
			t.Fatalf("REFER: %v %v", res, err)
		}
		h.ring(t, incoming(t, ph))
		n := lastNotify(t, p.ic.Dialog)
		if strings.Contains(string(n.Body), "SIP/2.0 200") {
			t.Fatalf("final NOTIFY %q, want a failure", n.Body)
		}
		if e := transferEnded(t, h, 1); e.Transfer.Outcome != "failed" {
			t.Errorf("TransferEnded %+v", e)
		}
		if code, err := p.ic.Bye(ctxFor(t)); err != nil || code != 200 {
			t.Fatalf("the agent's BYE: %d %v", code, err)
		}
		again := incoming(t, p.callee)
		respond(t, again, 200, p.calleeRTP.SDP())
		if err := again.WaitAck(ctxFor(t)); err != nil {
			t.Fatal(err)
		}
		waitEvent[calls.TransferRecalled](t, h.Obs, nil)
		waitEvent(t, h.Obs, func(e calls.LegConnected) bool { return e.Leg.SIPCallID == again.CallID() })
		if got := count[calls.TransferEnded](h.Obs); got != 1 {
			t.Errorf("%d TransferEnded, want 1", got)
		}
		relays(t, p.up(0), p.calleeRTP, 0x53)
		relays(t, p.calleeRTP.newStream(ringdeskMedia(t, again.SDP).RemoteAddr(), 0, 0xD4D4), p.callerRTP, 0x54)
		p.call.Bye(ctxFor(t)) //nolint:errcheck // the BYE's arrival is what is checked
		waitBye(t, "the agent's phone", again)
		h.ended(t)
	})
}
