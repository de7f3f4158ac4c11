package calls_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// completedElsewhere is the Reason of the CANCEL a phone gets when another
// phone of the same extension answered (RFC 3326).
const completedElsewhere = `SIP;cause=200;text="Call completed elsewhere"`

// TestForkFirstAnswerWins: 1002 is registered from three phones; all ring at
// once, the one that answers first gets the call and the others a CANCEL
// saying the call was completed elsewhere.
func TestForkFirstAnswerWins(t *testing.T) {
	h := newHarness(t)
	var phones []*siptest.Phone
	for range 3 {
		phones = append(phones, h.register(t, "1002", answer(siptest.Manual)))
	}
	caller := h.register(t, "1001")
	callerRTP, winnerRTP := newRTPPeer(t, "caller"), newRTPPeer(t, "winner")
	call := dial(t, caller, "1002", callerRTP.SDP())

	// All three are rung before any of them answers.
	var ics []*siptest.IncomingCall
	for _, p := range phones {
		ics = append(ics, incoming(t, p))
	}
	for _, ic := range ics {
		h.ring(t, ic)
	}
	// sipgo hands each response to its own goroutine: a 180 sent just
	// before the 200 may be overtaken and dropped, so answer once it arrived.
	if err := call.WaitProvisional(ctxFor(t), 180); err != nil {
		t.Fatal(err)
	}
	winner := ics[1]
	respond(t, winner, 200, winnerRTP.SDP())
	if code, _ := waitFinal(t, call); code != 200 {
		t.Fatalf("caller got %d, want 200", code)
	}
	if n := countOf(call.Provisionals(), 180); n != 1 {
		t.Errorf("caller got %d 180s for three ringing phones, want one", n)
	}
	for i, ic := range ics {
		if ic == winner {
			continue
		}
		cancel := waitCancel(t, ic)
		if got := cancel.Header("Reason"); got != completedElsewhere {
			t.Errorf("phone %d: CANCEL Reason %q, want %q", i, got, completedElsewhere)
		}
	}
	if err := winner.WaitAck(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	if code, err := call.Bye(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("caller BYE: %d %v", code, err)
	}
	waitBye(t, "winner", winner)

	rec := h.ended(t)
	names := eventNames(h.Obs.forCall(rec.ID))
	if want := []string{"CallStarted", "LegRinging", "LegRinging", "LegRinging", "LegEnded", "LegEnded", "CallAnswered", "CallEnded"}; !slices.Equal(names, want) {
		t.Errorf("events %v, want %v", names, want)
	}
	if len(rec.Legs) != 4 {
		t.Fatalf("record has %d legs, want the caller's and three phones'", len(rec.Legs))
	}
	for _, leg := range rec.Legs[1:] {
		switch {
		case leg.SIPCallID == winner.CallID():
			if rec.AnsweredBy != leg.ID || leg.Status != 200 {
				t.Errorf("winner leg %s status %d, AnsweredBy %s", leg.ID, leg.Status, rec.AnsweredBy)
			}
		default:
			if leg.Status != 487 || leg.Cause != calls.CauseNormal || !leg.Answered.IsZero() {
				t.Errorf("losing leg %s: status %d cause %s answered %v; want 487, normal (completed elsewhere), never answered",
					leg.ID, leg.Status, leg.Cause, leg.Answered)
			}
		}
	}
	if rec.Status != 200 || rec.Cause != calls.CauseNormal || rec.HungUpBy != calls.RoleCaller {
		t.Errorf("record status %d cause %s hung up by %s", rec.Status, rec.Cause, rec.HungUpBy)
	}
}

// TestForkOutcomes: when every phone of the extension refuses, the caller
// gets the most telling refusal, as a forking proxy would (RFC 3261 §16.7).
func TestForkOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		phones     []int // the final status each phone answers (after 180)
		wantStatus int
		wantCause  calls.Cause
		wantQ850   string
	}{
		{"one busy", []int{486}, 486, calls.CauseBusy, "cause=17"},
		{"all busy", []int{486, 486}, 486, calls.CauseBusy, "cause=17"},
		{"decline beats unavailable", []int{603, 480}, 603, calls.CauseDeclined, "cause=21"},
		{"unavailable then decline", []int{480, 603}, 603, calls.CauseDeclined, "cause=21"},
		{"decline beats busy", []int{486, 603}, 603, calls.CauseDeclined, "cause=21"},
		{"busy beats unavailable", []int{480, 486, 408}, 486, calls.CauseBusy, "cause=17"},
		{"all unavailable", []int{480, 480}, 480, calls.CauseUnavailable, "cause=20"},
		{"busy everywhere", []int{600}, 486, calls.CauseBusy, "cause=17"},
		{"not acceptable", []int{488}, 488, calls.CauseIncompatible, "cause=88"},
		{"server error", []int{500, 480}, 480, calls.CauseRejected, "cause=21"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var phones []*siptest.Phone
			for _, code := range tc.phones {
				phones = append(phones, h.register(t, "1002", answer(siptest.RejectWith(code))))
			}
			caller := h.register(t, "1001")
			call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
			for _, p := range phones {
				incoming(t, p)
			}
			code, _ := waitFinal(t, call)
			if code != tc.wantStatus {
				t.Errorf("caller got %d, want %d", code, tc.wantStatus)
			}
			if r := call.Final().Header("Reason"); !strings.Contains(r, "Q.850;"+tc.wantQ850+";") {
				t.Errorf("final response Reason %q, want Q.850 %s", r, tc.wantQ850)
			}
			rec := h.ended(t)
			if rec.Status != tc.wantStatus || rec.Cause != tc.wantCause || rec.HungUpBy != calls.RoleCallee || rec.AnsweredBy != "" {
				t.Errorf("record status %d cause %s hung up by %s answered by %q; want %d %s callee",
					rec.Status, rec.Cause, rec.HungUpBy, rec.AnsweredBy, tc.wantStatus, tc.wantCause)
			}
			ended := waitNth[calls.LegEnded](t, h.Obs, len(tc.phones))
			var got []int
			for _, e := range ended {
				got = append(got, e.Leg.Status)
				if e.Leg.Cause != calls.CauseFromStatus(e.Leg.Status) {
					t.Errorf("leg ended with %d has cause %s, want %s", e.Leg.Status, e.Leg.Cause, calls.CauseFromStatus(e.Leg.Status))
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.phones))
			if !slices.Equal(got, want) {
				t.Errorf("legs ended with %v, want %v", got, want)
			}
			// A rejected INVITE creates no dialog: the caller's ended, too.
			if call.Ended() == false {
				t.Error("caller's dialog not ended after a final failure")
			}
		})
	}
}

// TestForkBusyAndAnswer: one phone is busy, the other answers: the call is
// answered.
func TestForkBusyAndAnswer(t *testing.T) {
	h := newHarness(t)
	busy := h.register(t, "1002", answer(siptest.Busy))
	other := h.register(t, "1002", answer(siptest.Manual))
	caller := h.register(t, "1001")
	call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
	incoming(t, busy)
	ic := incoming(t, other)
	left := waitEvent[calls.LegEnded](t, h.Obs, nil)
	if left.Leg.Status != 486 || left.Leg.Contact != busy.ContactURI() {
		t.Errorf("LegEnded %d %s, want 486 from the busy phone %s", left.Leg.Status, left.Leg.Contact, busy.ContactURI())
	}
	h.ring(t, ic)
	respond(t, ic, 200, newRTPPeer(t, "callee").SDP())
	if code, _ := waitFinal(t, call); code != 200 {
		t.Fatalf("caller got %d after one phone was busy and the other answered, want 200", code)
	}
	if code, err := ic.Bye(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("callee BYE: %d %v", code, err)
	}
	waitBye(t, "caller", call)
	rec := h.ended(t)
	if rec.Status != 200 || rec.Cause != calls.CauseNormal || rec.HungUpBy != calls.RoleCallee {
		t.Errorf("record status %d cause %s hung up by %s", rec.Status, rec.Cause, rec.HungUpBy)
	}
}

// TestRingTimeout: nobody answers within RingTimeout: the caller gets 480,
// every phone is cancelled.
func TestRingTimeout(t *testing.T) {
	const ring = time.Second
	h := newHarness(t, withCalls(func(c *calls.Config) { c.RingTimeout = ring }))
	a := h.register(t, "1002", answer(siptest.NoAnswer))
	b := h.register(t, "1002", answer(siptest.NoAnswer))
	caller := h.register(t, "1001")
	start := time.Now()
	call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
	ics := []*siptest.IncomingCall{incoming(t, a), incoming(t, b)}
	code, _ := waitFinal(t, call)
	took := time.Since(start)
	if code != 480 {
		t.Errorf("caller got %d, want 480", code)
	}
	if took < ring || took > ring+time.Second {
		t.Errorf("the caller's 480 came after %s, want about the ring timeout %s", took, ring)
	}
	if r := call.Final().Header("Reason"); !strings.Contains(r, "cause=19") {
		t.Errorf("480 Reason %q, want Q.850 cause 19 (no answer)", r)
	}
	for i, ic := range ics {
		c := waitCancel(t, ic)
		if r := c.Header("Reason"); !strings.Contains(r, "cause=19") {
			t.Errorf("phone %d: CANCEL Reason %q, want Q.850 cause 19", i, r)
		}
	}
	rec := h.ended(t)
	if rec.Cause != calls.CauseNoAnswer || rec.Status != 480 || rec.HungUpBy != calls.RoleSystem {
		t.Errorf("record cause %s status %d hung up by %s; want no_answer 480 system", rec.Cause, rec.Status, rec.HungUpBy)
	}
	if rec.RingDuration < ring || rec.TalkDuration != 0 || !rec.Answered.IsZero() {
		t.Errorf("ring %s talk %s answered %v", rec.RingDuration, rec.TalkDuration, rec.Answered)
	}
	for _, leg := range rec.Legs[1:] {
		if leg.Cause != calls.CauseNoAnswer {
			t.Errorf("leg %s cause %s, want no_answer", leg.ID, leg.Cause)
		}
	}
}

// TestCallerCancels: the caller hangs up while every phone rings: 487 to the
// caller, CANCEL to every phone.
func TestCallerCancels(t *testing.T) {
	h := newHarness(t)
	a := h.register(t, "1002", answer(siptest.NoAnswer))
	b := h.register(t, "1002", answer(siptest.NoAnswer))
	caller := h.register(t, "1001")
	call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
	ics := []*siptest.IncomingCall{incoming(t, a), incoming(t, b)}
	waitNth[calls.LegRinging](t, h.Obs, 2)
	if err := call.WaitProvisional(ctxFor(t), 180); err != nil {
		t.Fatal(err)
	}
	if code, err := call.Cancel(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("CANCEL answered %d %v, want 200", code, err)
	}
	if code, _ := waitFinal(t, call); code != 487 {
		t.Errorf("caller got %d after CANCEL, want 487", code)
	}
	for i, ic := range ics {
		c := waitCancel(t, ic)
		if r := c.Header("Reason"); !strings.Contains(r, "Q.850;cause=16") {
			t.Errorf("phone %d: CANCEL Reason %q, want Q.850 cause 16", i, r)
		}
	}
	rec := h.ended(t)
	if rec.Cause != calls.CauseCancelled || rec.Status != 487 || rec.HungUpBy != calls.RoleCaller {
		t.Errorf("record cause %s status %d hung up by %s; want cancelled 487 caller", rec.Cause, rec.Status, rec.HungUpBy)
	}
	if rec.Legs[0].Status != 487 {
		t.Errorf("caller leg status %d, want 487", rec.Legs[0].Status)
	}
}

// TestCallerByeBeforeAnswer: a BYE in the early dialog (RFC 3261 §15.1.2)
// ends the call as a CANCEL would.
func TestCallerByeBeforeAnswer(t *testing.T) {
	h := newHarness(t)
	callee := h.register(t, "1002", answer(siptest.NoAnswer))
	caller := h.register(t, "1001")
	call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
	ic := incoming(t, callee)
	waitEvent[calls.LegRinging](t, h.Obs, nil)
	if err := call.WaitProvisional(ctxFor(t), 180); err != nil {
		t.Fatal(err)
	}
	if _, err := call.Bye(ctxFor(t)); err != nil {
		t.Fatalf("early BYE: %v", err)
	}
	if code, _ := waitFinal(t, call); code != 487 {
		t.Errorf("INVITE got %d after an early BYE, want 487", code)
	}
	waitCancel(t, ic)
	rec := h.ended(t)
	if rec.Cause != calls.CauseCancelled || rec.HungUpBy != calls.RoleCaller {
		t.Errorf("record cause %s hung up by %s; want cancelled caller", rec.Cause, rec.HungUpBy)
	}
}

// TestRouting: calls that never ring anybody.
func TestRouting(t *testing.T) {
	for _, tc := range []struct {
		name       string
		register   []string // users with a phone besides the caller 1001
		dialed     string
		wantStatus int
		wantCause  calls.Cause
	}{
		{"unknown extension", []string{"1002"}, "1099", 404, calls.CauseNotFound},
		{"sip user that is no extension", []string{"1005"}, "1005", 404, calls.CauseNotFound},
		{"no registration", []string{"1002"}, "1003", 480, calls.CauseUnavailable},
		{"yourself from your only phone", nil, "1001", 480, calls.CauseUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var others []*siptest.Phone
			for _, u := range tc.register {
				others = append(others, h.register(t, u, answer(siptest.NoAnswer)))
			}
			caller := h.register(t, "1001", answer(siptest.NoAnswer))
			call := dial(t, caller, tc.dialed, newRTPPeer(t, "caller").SDP())
			if code, _ := waitFinal(t, call); code != tc.wantStatus {
				t.Errorf("caller got %d, want %d", code, tc.wantStatus)
			}
			rec := h.ended(t)
			if rec.Cause != tc.wantCause || rec.Status != tc.wantStatus || rec.Dialed != tc.dialed || len(rec.Legs) != 1 {
				t.Errorf("record cause %s status %d dialed %q legs %d; want %s %d %q 1",
					rec.Cause, rec.Status, rec.Dialed, len(rec.Legs), tc.wantCause, tc.wantStatus, tc.dialed)
			}
			if names := eventNames(h.Obs.forCall(rec.ID)); !slices.Equal(names, []string{"CallStarted", "CallEnded"}) {
				t.Errorf("events %v", names)
			}
			for _, p := range append(others, caller) {
				noIncoming(t, p)
			}
		})
	}
}

// TestCallYourselfFromAnotherPhone: the calling phone is skipped, but the
// extension's other phones ring.
func TestCallYourselfFromAnotherPhone(t *testing.T) {
	h := newHarness(t)
	desk := h.register(t, "1001", answer(siptest.Manual))
	mobile := h.register(t, "1001", answer(siptest.Manual))
	call := dial(t, mobile, "1001", newRTPPeer(t, "mobile").SDP())
	ic := incoming(t, desk)
	h.ring(t, ic)
	respond(t, ic, 200, newRTPPeer(t, "desk").SDP())
	if code, _ := waitFinal(t, call); code != 200 {
		t.Fatalf("got %d, want 200", code)
	}
	noIncoming(t, mobile)
	if _, err := call.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitBye(t, "desk", ic)
	rec := h.ended(t)
	if len(rec.Legs) != 2 || rec.Legs[1].Contact != desk.ContactURI() {
		t.Errorf("legs %+v, want the caller's and the desk phone's", rec.Legs)
	}
}

// TestCallerWithoutExtension: a SIP user that is not an extension calls; the
// record shows the name its phone sent.
func TestCallerWithoutExtension(t *testing.T) {
	h := newHarness(t)
	callee := h.register(t, "1002", answer(siptest.Manual))
	caller := h.register(t, "1005", displayName("Lobby Phone"))
	call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
	ic := incoming(t, callee)
	if !strings.HasPrefix(ic.From, `"Lobby Phone" <sip:1005@`) {
		t.Errorf("callee sees From %q, want the caller's own display name", ic.From)
	}
	h.ring(t, ic)
	respond(t, ic, 486, nil)
	if code, _ := waitFinal(t, call); code != 486 {
		t.Errorf("got %d, want 486", code)
	}
	rec := h.ended(t)
	want := calls.Party{Extension: "1005", Name: "Lobby Phone", URI: "sip:1005@127.0.0.1"}
	if rec.Caller != want {
		t.Errorf("Caller %+v, want %+v", rec.Caller, want)
	}
}

func countOf(xs []int, x int) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// TestCancelledLegStatus: a phone Ringdesk stops ringing answers the CANCEL
// with 487, and LegRecord.Status is documented as "the leg's final SIP
// status: ... 487 when cancelled". Whatever made Ringdesk cancel it.
func TestCancelledLegStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, h *harness, call *siptest.Call, other *siptest.IncomingCall)
		cfg  func(*calls.Config)
	}{
		{"answered elsewhere", func(t *testing.T, h *harness, call *siptest.Call, other *siptest.IncomingCall) {
			t.Helper()
			respond(t, other, 200, newRTPPeer(t, "other").SDP())
			waitFinal(t, call)
			if _, err := call.Bye(ctxFor(t)); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"caller cancelled", func(t *testing.T, h *harness, call *siptest.Call, other *siptest.IncomingCall) {
			t.Helper()
			if _, err := call.Cancel(ctxFor(t)); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"ring timeout", func(t *testing.T, h *harness, call *siptest.Call, other *siptest.IncomingCall) {
			t.Helper()
			waitFinal(t, call)
		}, func(c *calls.Config) { c.RingTimeout = time.Second }},
		{"switch closed", func(t *testing.T, h *harness, call *siptest.Call, other *siptest.IncomingCall) {
			t.Helper()
			h.Switch.Close()
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []harnessOption
			if tc.cfg != nil {
				opts = append(opts, withCalls(tc.cfg))
			}
			h := newHarness(t, opts...)
			ringing := h.register(t, "1002", answer(siptest.NoAnswer))
			other := h.register(t, "1002", answer(siptest.Manual))
			caller := h.register(t, "1001")
			call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
			ic := incoming(t, ringing)
			icOther := incoming(t, other)
			waitEvent(t, h.Obs, func(e calls.LegRinging) bool { return e.Leg.SIPCallID == ic.CallID() })
			h.ring(t, icOther)
			if err := call.WaitProvisional(ctxFor(t), 180); err != nil {
				t.Fatal(err)
			}
			tc.end(t, h, call, icOther)
			waitCancel(t, ic)
			rec := h.ended(t)
			for _, leg := range rec.Legs {
				if leg.SIPCallID == ic.CallID() && leg.Status != 487 {
					t.Errorf("the cancelled phone's leg has Status %d (cause %s), want 487: what the phone answered", leg.Status, leg.Cause)
				}
			}
		})
	}
}
