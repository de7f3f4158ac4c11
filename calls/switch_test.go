package calls_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// shutdownAsync runs Switch.Shutdown with a grace period on its own
// goroutine; its result arrives on the channel.
func (h *harness) shutdownAsync(tb testing.TB, grace time.Duration) <-chan error {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	result := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer cancel()
		result <- h.Switch.Shutdown(ctx)
	}()
	tb.Cleanup(func() {
		select {
		case <-finished:
		case <-time.After(settleFor):
			tb.Errorf("Shutdown did not return")
		}
	})
	return result
}

// refused checks that a new call gets 503 while the switch drains.
func refused(tb testing.TB, h *harness, user string) {
	tb.Helper()
	p := h.phone(tb, user)
	call := dial(tb, p, "1002", newRTPPeer(tb, "late").SDP())
	code, _ := waitFinal(tb, call)
	if code != 503 {
		tb.Errorf("a call placed while draining got %d, want 503", code)
	}
	if ra := call.Final().Header("Retry-After"); ra == "" {
		tb.Errorf("503 without Retry-After")
	}
}

// TestShutdown: while draining, new calls get 503 and calls in progress go
// on until the grace period ends; then they get BYE with the shutdown cause
// and Shutdown returns once they are over.
func TestShutdown(t *testing.T) {
	const grace = 700 * time.Millisecond
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	start := time.Now()
	done := h.shutdownAsync(t, grace)
	h.waitLog(t, "draining calls")

	refused(t, h, "1003")
	if n := count[calls.CallStarted](h.Obs); n != 1 {
		t.Errorf("%d calls started, want only the one in progress", n)
	}
	// The call in progress still works during the grace period.
	p.up(0).fill(t, 0x01, 5)
	p.calleeRTP.waitPackets(t, 5, nil)
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v during the grace period with a call up", err)
	default:
	}

	bye := waitBye(t, "caller", p.call)
	waitBye(t, "callee", p.ic)
	if d := time.Since(start); d < grace-50*time.Millisecond {
		t.Errorf("BYE %s after Shutdown, before the grace period %s ended", d, grace)
	}
	if r := bye.Header("Reason"); !strings.Contains(r, "cause=41") {
		t.Errorf("BYE Reason %q, want Q.850 cause 41", r)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Shutdown did not return after its calls ended")
	}
	if n := h.Switch.Active(); n != 0 {
		t.Errorf("Shutdown returned with %d calls active", n)
	}
	if count[calls.CallEnded](h.Obs) != 1 {
		t.Error("Shutdown returned before the call's CallEnded")
	}
	rec := h.ended(t)
	if rec.Cause != calls.CauseShutdown || rec.HungUpBy != calls.RoleSystem {
		t.Errorf("record cause %s hung up by %s, want shutdown system", rec.Cause, rec.HungUpBy)
	}
	refused(t, h, "1004")
}

// TestShutdownCallEndsInGrace: Shutdown returns as soon as the last call
// ends by itself, not at the end of the grace period.
func TestShutdownCallEndsInGrace(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	done := h.shutdownAsync(t, time.Minute)
	h.waitLog(t, "draining calls")
	p.hangup(t)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Shutdown still waits after the last call ended")
	}
	if rec := h.ended(t); rec.Cause != calls.CauseNormal || rec.HungUpBy != calls.RoleCaller {
		t.Errorf("record cause %s hung up by %s", rec.Cause, rec.HungUpBy)
	}
}

// TestShutdownIdle: with no call, Shutdown returns at once and the switch
// refuses calls afterwards.
func TestShutdownIdle(t *testing.T) {
	h := newHarness(t)
	h.register(t, "1002", answer(siptest.Manual))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	if err := h.Switch.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Shutdown of an idle switch took %s", d)
	}
	refused(t, h, "1001")
}

// TestClose: Close hangs up every call at once, answered or ringing.
func TestClose(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	ringing := h.register(t, "1004", answer(siptest.NoAnswer))
	other := h.phone(t, "1003")
	ringCall := dial(t, other, "1004", newRTPPeer(t, "1003").SDP())
	ic := incoming(t, ringing)
	waitEvent(t, h.Obs, func(e calls.LegRinging) bool { return e.Leg.SIPCallID == ic.CallID() })

	start := time.Now()
	h.Switch.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %s", d)
	}
	if n := h.Switch.Active(); n != 0 {
		t.Errorf("%d calls active after Close", n)
	}
	if n := count[calls.CallEnded](h.Obs); n != 2 {
		t.Errorf("%d CallEnded when Close returned, want 2", n)
	}
	bye := waitBye(t, "caller", p.call)
	waitBye(t, "callee", p.ic)
	if r := bye.Header("Reason"); !strings.Contains(r, "cause=41") {
		t.Errorf("BYE Reason %q, want Q.850 cause 41", r)
	}
	if code, _ := waitFinal(t, ringCall); code != 503 {
		t.Errorf("ringing caller got %d, want 503", code)
	}
	waitCancel(t, ic)
	for _, e := range h.Obs.all() {
		if ce, ok := e.(calls.CallEnded); ok && ce.Record.Cause != calls.CauseShutdown {
			t.Errorf("call %s ended with %s, want shutdown", ce.Record.ID, ce.Record.Cause)
		}
	}
	refused(t, h, "1005")
}
