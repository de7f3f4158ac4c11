package calls_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// TestPanicInCall: a bug that panics inside one call (here in the observer,
// while the call rings) ends that call with CauseInternal and nothing else:
// the caller gets 500, the phone is cancelled, the record is delivered, and
// the next call works (STYLE §4: one bad call must not take the PBX down).
func TestPanicInCall(t *testing.T) {
	h := newHarness(t)
	h.allowPanics.Store(true)
	callee := h.register(t, "1002", answer(siptest.Manual))
	caller := h.register(t, "1001")
	h.Obs.setHook(func(e calls.Event) {
		if _, ok := e.(calls.LegRinging); ok {
			h.Obs.setHook(nil)
			panic("observer bug")
		}
	})
	call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
	ic := incoming(t, callee)
	respond(t, ic, 180, nil)
	if code, _ := waitFinal(t, call); code != 500 {
		t.Errorf("caller got %d, want 500", code)
	}
	waitCancel(t, ic)
	rec := h.ended(t)
	if rec.Cause != calls.CauseInternal || rec.HungUpBy != calls.RoleSystem {
		t.Errorf("record cause %s hung up by %s, want internal system", rec.Cause, rec.HungUpBy)
	}
	if len(h.logs.Grep("call panicked")) == 0 {
		t.Error("the panic was not logged")
	}

	// The switch goes on.
	call = dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
	ic = incoming(t, callee)
	h.ring(t, ic)
	respond(t, ic, 200, newRTPPeer(t, "callee").SDP())
	if code, _ := waitFinal(t, call); code != 200 {
		t.Fatalf("the next call got %d", code)
	}
	if _, err := call.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitBye(t, "callee", ic)
	waitNth[calls.CallEnded](t, h.Obs, 2)
}

// childEnv marks the child process of TestPanicInTeardown.
const childEnv = "RINGDESK_CALLS_TEARDOWN_PANIC_CHILD"

// TestPanicInTeardown: a panic while a call is torn down (here the
// observer's CallEnded) must not take the process down either: the
// per-call recover covers the supervisor's loop, but teardown runs after
// it. The call runs in a child process (this test binary), which would die.
func TestPanicInTeardown(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		teardownPanicChild(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*settleFor)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPanicInTeardown$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && strings.Contains(string(out), "panic: observer bug at CallEnded"):
		t.Errorf("a panic in a call's teardown (the observer's CallEnded) crashed the whole process (exit %d); "+
			"run's recover only covers the event loop, teardown is deferred outside it:\n%s", ee.ExitCode(), lastLines(string(out), 25))
	default:
		t.Errorf("child: %v\n%s", err, lastLines(string(out), 40))
	}
}

func teardownPanicChild(t *testing.T) {
	t.Helper()
	h := newHarness(t)
	h.allowPanics.Store(true)
	h.Obs.setAfterHook(func(e calls.Event) {
		if _, ok := e.(calls.CallEnded); ok {
			panic("observer bug at CallEnded")
		}
	})
	p := h.connect(t, nil, nil)
	p.hangup(t)
	h.ended(t)
	if !h.pollIdle(waitFor) {
		t.Errorf("not idle: %s", h.idleState())
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
