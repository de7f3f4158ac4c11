package calls_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// TestCancelAnswerRace: the caller's CANCEL and the callee's 200 cross, in
// both orders, 20 times each. Whatever wins, every call ends exactly once,
// a callee that answered is hung up, and nothing leaks.
func TestCancelAnswerRace(t *testing.T) {
	h := newHarness(t)
	callee := h.register(t, "1002", answer(siptest.Manual))
	caller := h.register(t, "1001")
	callerRTP, calleeRTP := newRTPPeer(t, "caller"), newRTPPeer(t, "callee")
	for _, order := range []string{"cancel first", "answer first"} {
		for i := range 20 {
			name := fmt.Sprintf("%s #%d", order, i)
			call := dial(t, caller, "1002", callerRTP.SDP())
			ic := incoming(t, callee)
			h.ring(t, ic)
			if err := call.WaitProvisional(ctxFor(t), 180); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var wg sync.WaitGroup
			var answerErr error
			cancel := func() { wg.Go(func() { _, _ = call.Cancel(ctxFor(t)) }) }
			answer := func() { answerErr = ic.Respond(200, calleeRTP.SDP()) }
			if order == "cancel first" {
				cancel()
				answer()
			} else {
				answer()
				cancel()
			}
			wg.Wait()
			code, _ := waitFinal(t, call)
			switch code {
			case 487:
			case 200:
				// The 2xx won: the call is up for the caller, who
				// hangs up as RFC 3261 §9.1 says (Ringdesk may have
				// already, if it had taken the CANCEL).
				_, _ = call.Bye(ctxFor(t))
			default:
				t.Fatalf("%s: caller got %d, want 487 or 200", name, code)
			}
			if answerErr == nil {
				if err := ic.WaitAck(ctxFor(t)); err != nil {
					t.Fatalf("%s: the callee's 200 was never acknowledged", name)
				}
				if _, err := ic.WaitBye(ctxWithin(t, expectFor)); err != nil {
					t.Fatalf("%s: the callee answered (caller got %d) and was never hung up: %v", name, code, err)
				}
			}
			ended := waitNth[calls.CallEnded](t, h.Obs, count[calls.CallStarted](h.Obs))
			rec := ended[len(ended)-1].Record
			if code == 487 && (rec.Cause != calls.CauseCancelled || rec.Status != 487) {
				t.Errorf("%s: caller got 487, record says cause %s status %d hung up by %s", name, rec.Cause, rec.Status, rec.HungUpBy)
			}
			if !h.pollIdle(expectFor) {
				t.Fatalf("%s: not idle after the call: %s", name, h.idleState())
			}
		}
	}
}

// holdOnRinging makes the call's supervisor block in the observer when the
// leg with SIP Call-ID callID is reported ringing, until the gate opens:
// events queue up meanwhile, so a test can decide what the supervisor finds
// when it goes on. The returned channel is closed once it blocks.
func holdOnRinging(h *harness, callID func() string, g *gate) <-chan struct{} {
	held := make(chan struct{})
	var once sync.Once
	h.Obs.setHook(func(e calls.Event) {
		if r, ok := e.(calls.LegRinging); ok && r.Leg.SIPCallID == callID() {
			once.Do(func() { close(held) })
			g.wait()
		}
	})
	return held
}

// waitHeld waits until the supervisor blocks in holdOnRinging's hook.
func waitHeld(tb testing.TB, held <-chan struct{}) {
	tb.Helper()
	select {
	case <-held:
	case <-time.After(waitFor):
		tb.Fatal("the call's supervisor did not report the phone ringing")
	}
}

// TestCancelThenLateAnswer: the supervisor takes the caller's CANCEL while
// the callee's 200 has already been acknowledged by the SIP layer (it
// crossed Ringdesk's CANCEL). The callee must be hung up with BYE (RFC 3261
// §9.1, §15): it believes it is in a call.
func TestCancelThenLateAnswer(t *testing.T) {
	h := newHarness(t)
	callee := h.register(t, "1002", answer(siptest.Manual))
	caller := h.register(t, "1001")
	var id string
	var mu sync.Mutex
	g := newGate()
	defer g.open()
	held := holdOnRinging(h, func() string { mu.Lock(); defer mu.Unlock(); return id }, g)

	call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
	ic := incoming(t, callee)
	mu.Lock()
	id = ic.CallID()
	mu.Unlock()
	respond(t, ic, 180, nil) // the supervisor now blocks reporting it
	waitHeld(t, held)
	if err := call.WaitProvisional(ctxFor(t), 100); err != nil {
		t.Fatal(err)
	}
	if code, err := call.Cancel(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("CANCEL: %d %v", code, err)
	}
	if code, _ := waitFinal(t, call); code != 487 {
		t.Fatalf("caller got %d, want 487", code)
	}
	respond(t, ic, 200, newRTPPeer(t, "callee").SDP())
	if err := ic.WaitAck(ctxFor(t)); err != nil {
		t.Fatalf("no ACK for the callee's 200: %v", err)
	}
	g.open()

	if _, err := ic.WaitBye(ctxWithin(t, expectFor)); err != nil {
		t.Errorf("the callee answered as the caller cancelled; Ringdesk acknowledged the 200 but never sent BYE, "+
			"the phone stays in a call nobody is on (%v)", err)
	}
	rec := h.ended(t)
	if rec.Cause != calls.CauseCancelled || rec.Status != 487 || rec.HungUpBy != calls.RoleCaller {
		t.Errorf("record cause %s status %d hung up by %s; want cancelled 487 caller", rec.Cause, rec.Status, rec.HungUpBy)
	}
}

// TestAnswerThenLateCancel: the supervisor takes the callee's 200 while the
// caller's CANCEL has already been answered 487 by the SIP layer. The callee
// is hung up, and the record says what the caller saw: a cancelled call.
func TestAnswerThenLateCancel(t *testing.T) {
	h := newHarness(t)
	callee := h.register(t, "1002", answer(siptest.Manual))
	caller := h.register(t, "1001")
	var id string
	var mu sync.Mutex
	g := newGate()
	defer g.open()
	held := holdOnRinging(h, func() string { mu.Lock(); defer mu.Unlock(); return id }, g)

	call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
	ic := incoming(t, callee)
	mu.Lock()
	id = ic.CallID()
	mu.Unlock()
	respond(t, ic, 180, nil)
	waitHeld(t, held)
	if err := call.WaitProvisional(ctxFor(t), 100); err != nil {
		t.Fatal(err)
	}
	respond(t, ic, 200, newRTPPeer(t, "callee").SDP())
	if err := ic.WaitAck(ctxFor(t)); err != nil {
		t.Fatalf("no ACK for the callee's 200: %v", err)
	}
	if code, err := call.Cancel(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("CANCEL: %d %v", code, err)
	}
	if code, _ := waitFinal(t, call); code != 487 {
		t.Fatalf("caller got %d, want 487", code)
	}
	g.open()

	waitBye(t, "callee", ic)
	rec := h.ended(t)
	evs := eventNames(h.Obs.forCall(rec.ID))
	if rec.Cause != calls.CauseCancelled || rec.Status != 487 || rec.HungUpBy != calls.RoleCaller {
		t.Errorf("the caller cancelled and got 487, but the record says cause %s, status %d, hung up by %s; want cancelled, 487, caller",
			rec.Cause, rec.Status, rec.HungUpBy)
	}
	if rec.AnsweredBy != "" && !slices.Contains(evs, "CallAnswered") {
		t.Errorf("record AnsweredBy %q (answered %v, talk %s) but no CallAnswered event (%v): the caller was never connected",
			rec.AnsweredBy, rec.Answered, rec.TalkDuration, evs)
	}
}

// TestForkDoubleAnswer: two phones of the extension answer at the same time;
// the second 2xx reaches Ringdesk's SIP layer before the call's supervisor
// cancels that phone. The winner gets the call and the other phone must get
// a BYE (RFC 3261 §13.2.2.4: a UAC that receives more 2xx than it wants
// acknowledges each and hangs the extra dialogs up).
func TestForkDoubleAnswer(t *testing.T) {
	h := newHarness(t)
	a := h.register(t, "1002", answer(siptest.Manual))
	b := h.register(t, "1002", answer(siptest.Manual))
	caller := h.register(t, "1001")
	var id string
	var mu sync.Mutex
	g := newGate()
	defer g.open()
	held := holdOnRinging(h, func() string { mu.Lock(); defer mu.Unlock(); return id }, g)

	call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
	icA, icB := incoming(t, a), incoming(t, b)
	h.ring(t, icA)
	mu.Lock()
	id = icB.CallID()
	mu.Unlock()
	respond(t, icB, 180, nil) // the supervisor blocks reporting it
	waitHeld(t, held)
	respond(t, icA, 200, newRTPPeer(t, "a").SDP())
	if err := icA.WaitAck(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	respond(t, icB, 200, newRTPPeer(t, "b").SDP())
	if err := icB.WaitAck(ctxFor(t)); err != nil {
		t.Fatalf("the second 2xx was not acknowledged: %v", err)
	}
	g.open()

	if code, _ := waitFinal(t, call); code != 200 {
		t.Fatalf("caller got %d", code)
	}
	// Both 2xx were taken before the supervisor saw either; which one it
	// sees first (A's, in all likelihood) is a race between two SIP
	// goroutines. Either way one phone keeps the call and the other must
	// be hung up.
	winner, loser, winnerName := icA, icB, "a"
	if icA.Ended() || !icB.Ended() && func() bool {
		_, err := icA.WaitBye(ctxWithin(t, 200*time.Millisecond))
		return err == nil
	}() {
		winner, loser, winnerName = icB, icA, "b"
	}
	if _, err := loser.WaitBye(ctxWithin(t, expectFor)); err != nil && !loser.Ended() {
		t.Errorf("the phone that lost was acknowledged but never hung up (%v): it stays in a call with nobody", err)
	}
	if winner.Ended() {
		t.Error("both phones that answered were hung up")
	}
	if _, err := call.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitBye(t, winnerName, winner)
	rec := h.ended(t)
	if rec.Cause != calls.CauseNormal || len(rec.Legs) != 3 {
		t.Errorf("record cause %s legs %d", rec.Cause, len(rec.Legs))
	}
	for _, leg := range rec.Legs[1:] {
		if leg.SIPCallID == winner.CallID() && rec.AnsweredBy != leg.ID {
			t.Errorf("AnsweredBy %s, want the leg of the phone that kept the call, %s", rec.AnsweredBy, leg.ID)
		}
	}
}

// TestLateAnswerAfterCallEnded: a phone that sent no provisional response
// cannot be cancelled (RFC 3261 §9.1); when it answers after the call is
// over, its 200 is acknowledged and hung up.
func TestLateAnswerAfterCallEnded(t *testing.T) {
	h := newHarness(t)
	silent := h.register(t, "1002", answer(siptest.Manual))
	caller := h.register(t, "1001")
	call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
	ic := incoming(t, silent)
	// After the 100 Trying: siptest's Cancel reads the INVITE that Dial's
	// goroutine builds, and only the 100 orders the two.
	if err := call.WaitProvisional(ctxFor(t), 100); err != nil {
		t.Fatal(err)
	}
	if code, err := call.Cancel(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("CANCEL: %d %v", code, err)
	}
	if code, _ := waitFinal(t, call); code != 487 {
		t.Fatalf("caller got %d, want 487", code)
	}
	rec := h.ended(t)
	if rec.Cause != calls.CauseCancelled {
		t.Errorf("cause %s", rec.Cause)
	}
	respond(t, ic, 200, newRTPPeer(t, "late").SDP())
	if err := ic.WaitAck(ctxFor(t)); err != nil {
		t.Errorf("the late 200 was not acknowledged: %v", err)
	}
	waitBye(t, "late phone", ic)
	if n := len(h.Obs.forCall(rec.ID)); n == 0 || eventName(h.Obs.forCall(rec.ID)[n-1]) != "CallEnded" {
		t.Errorf("events after CallEnded: %v", eventNames(h.Obs.forCall(rec.ID)))
	}
}

// TestConcurrentCalls: calls in parallel keep their events apart; each call
// starts once and ends once.
func TestConcurrentCalls(t *testing.T) {
	h := newHarness(t)
	pairs := [][2]string{{"1001", "1002"}, {"1003", "1004"}, {"1005", "1003"}}
	callees := map[string]*siptest.Phone{}
	for _, pr := range pairs {
		callees[pr[1]] = h.register(t, pr[1], answer(siptest.AnswerAfter(20*time.Millisecond, newRTPPeer(t, "callee "+pr[1]).SDP())))
	}
	var wg sync.WaitGroup
	for round := range 3 {
		for _, pr := range pairs {
			caller := h.phone(t, pr[0]) // not registered: only places calls
			wg.Go(func() {
				call, err := caller.Dial(ctxFor(t), pr[1], newRTPPeer(t, fmt.Sprintf("caller %s/%d", pr[0], round)).SDP())
				if err != nil {
					t.Errorf("dial: %v", err)
					return
				}
				if code, _, err := call.WaitAnswer(ctxFor(t)); err != nil || code != 200 {
					t.Errorf("%s→%s: %d %v", pr[0], pr[1], code, err)
					return
				}
				if _, err := call.Info(ctxFor(t), "application/dtmf-relay", []byte("Signal=1\r\nDuration=100\r\n")); err != nil {
					t.Errorf("INFO: %v", err)
				}
				if _, err := call.Bye(ctxFor(t)); err != nil {
					t.Errorf("BYE: %v", err)
				}
			})
		}
		wg.Wait()
	}
	n := 3 * len(pairs)
	waitNth[calls.CallEnded](t, h.Obs, n)
	for _, p := range callees {
		for len(p.Incoming()) > 0 {
			<-p.Incoming()
		}
	}
	seen := map[calls.CallID]bool{}
	for _, e := range h.Obs.all() {
		if ce, ok := e.(calls.CallEnded); ok {
			if seen[ce.Record.ID] {
				t.Errorf("call %s ended twice", ce.Record.ID)
			}
			seen[ce.Record.ID] = true
			if ce.Record.Cause != calls.CauseNormal || ce.Record.HungUpBy != calls.RoleCaller {
				t.Errorf("call %s: cause %s hung up by %s", ce.Record.ID, ce.Record.Cause, ce.Record.HungUpBy)
			}
			names := eventNames(h.Obs.forCall(ce.Record.ID))
			if names[0] != "CallStarted" || names[len(names)-1] != "CallEnded" || !slices.Contains(names, "CallAnswered") {
				t.Errorf("call %s events %v", ce.Record.ID, names)
			}
		}
	}
	if len(seen) != n {
		t.Errorf("%d calls ended, want %d", len(seen), n)
	}
}
