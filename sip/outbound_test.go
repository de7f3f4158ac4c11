package sip_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	sipgo "github.com/emiago/sipgo/sip"

	"github.com/ringdesk/ringdesk/sip"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// indexOf returns the position of the first event of type T, or -1.
func indexOf[T sip.Event](e *events) int {
	for i, ev := range e.all() {
		if _, ok := ev.(T); ok {
			return i
		}
	}
	return -1
}

func withAnswer(a siptest.AnswerFunc) func(*siptest.Options) {
	return func(o *siptest.Options) { o.Answer = a }
}

func TestOutboundAnswered(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	answer := sdpOf(50000, "PCMA")
	p := ts.registered(t, "1002", withAnswer(siptest.AnswerWith(answer)), func(o *siptest.Options) { o.UserAgent = "phone-1002" })
	offer := sdpOf(20000)
	out, ev := ts.invite(t, "1002", offer, map[string]string{"Alert-Info": "<http://x/ring>;info=alert-group"})
	ic := incoming(t, p)
	a := waitEvent[sip.Answered](t, ev)
	if !bytes.Equal(a.SDP, answer) || a.UserAgent != "phone-1002" {
		t.Errorf("Answered = %q from %q", a.SDP, a.UserAgent)
	}
	if err := ic.WaitAck(ctxFor(t)); err != nil {
		t.Fatalf("the phone got no ACK: %v", err)
	}
	if !bytes.Equal(ic.SDP, offer) {
		t.Errorf("the phone got offer %q", ic.SDP)
	}
	if !strings.Contains(ic.From, `"Reception"`) || !strings.Contains(ic.From, "sip:1001@") {
		t.Errorf("From = %q", ic.From)
	}
	if ic.RequestURI != p.ContactURI() {
		t.Errorf("Request-URI %q, want the registered contact %q", ic.RequestURI, p.ContactURI())
	}
	if ic.Header("Alert-Info") == "" || ic.CallID() != out.CallID {
		t.Errorf("Alert-Info %q, Call-ID %q vs %q", ic.Header("Alert-Info"), ic.CallID(), out.CallID)
	}
	if ic.LocalAddr != p.Addr() {
		t.Errorf("INVITE reached %s, want %s", ic.LocalAddr, p.Addr())
	}
	if out.Ended() || ts.Dialogs() != 1 {
		t.Errorf("Ended %v, Dialogs %d", out.Ended(), ts.Dialogs())
	}
	if err := out.SendInfo(ctxFor(t), "application/dtmf-relay", []byte("Signal=9\r\n")); err != nil {
		t.Fatal(err)
	}
	if m, err := ic.WaitRequest(ctxFor(t), "INFO"); err != nil || !bytes.Contains(m.Body, []byte("Signal=9")) {
		t.Errorf("phone INFO %v %v", m, err)
	}
}

func TestOutboundRingsThenAnswers(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	ts.registered(t, "1002", withAnswer(siptest.AnswerAfter(300*time.Millisecond, sdpOf(50000))))
	_, ev := ts.invite(t, "1002", sdpOf(20000), nil)
	pr := waitEvent[sip.ProgressReceived](t, ev)
	if pr.Code != 180 || pr.Reason != "Ringing" {
		t.Errorf("ProgressReceived = %+v", pr)
	}
	waitEvent[sip.Answered](t, ev)
	if i, j := indexOf[sip.ProgressReceived](ev), indexOf[sip.Answered](ev); i > j {
		t.Errorf("events out of order: %v", ev.names())
	}
	for _, ev := range ev.all() {
		if p, ok := ev.(sip.ProgressReceived); ok && p.Code == 100 {
			t.Error("100 Trying reported")
		}
	}
}

func TestOutboundRejected(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	for _, tc := range []struct {
		name   string
		answer siptest.AnswerFunc
		want   int
	}{
		{"busy", siptest.Busy, 486},
		{"decline", siptest.RejectWith(603), 603},
		{"unavailable", siptest.RejectWith(480), 480},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One extension per case: bindings are per AOR.
			user := map[string]string{"busy": "1003", "decline": "1004", "unavailable": "1005"}[tc.name]
			ts.registered(t, user, withAnswer(tc.answer))
			out, ev := ts.invite(t, user, sdpOf(20000), nil)
			r := waitEvent[sip.Rejected](t, ev)
			if r.Code != tc.want || r.Err != nil {
				t.Errorf("Rejected = %+v, want %d", r, tc.want)
			}
			if has[sip.Answered](ev) || !out.Ended() {
				t.Errorf("events %v, ended %v", ev.names(), out.Ended())
			}
		})
	}
}

func TestOutboundCancelWhileRinging(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.registered(t, "1002", withAnswer(siptest.NoAnswer))
	out, ev := ts.invite(t, "1002", sdpOf(20000), nil)
	ic := incoming(t, p)
	waitEvent[sip.ProgressReceived](t, ev)
	const reason = `SIP;cause=200;text="Call completed elsewhere"`
	out.Cancel(reason)
	if err := ic.WaitCancel(ctxFor(t)); err != nil {
		t.Fatalf("the phone got no CANCEL: %v", err)
	}
	if got := ic.CancelRequest().Header("Reason"); got != reason {
		t.Errorf("CANCEL Reason = %q, want %q (RFC 3326)", got, reason)
	}
	r := waitEvent[sip.Rejected](t, ev)
	if r.Code != 487 {
		t.Errorf("Rejected = %+v, want 487", r)
	}
	if !out.Ended() {
		t.Error("cancelled call not ended")
	}
	out.Cancel("") // idempotent
	if err := out.Hangup(ctxFor(t), ""); err != nil {
		t.Errorf("Hangup after Cancel: %v", err)
	}
}

// RFC 3261 §9.1: a CANCEL may not precede the first provisional response.
// Cancel before any response sends nothing yet; a 2xx that then arrives is
// acknowledged and hung up, and the leg reports Rejected 487, not Answered.
func TestOutboundCancelBeforeProvisional(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.registered(t, "1002", withAnswer(siptest.Manual))
	out, ev := ts.invite(t, "1002", sdpOf(20000), nil)
	out.Cancel("")
	ic := incoming(t, p)
	if ic.Cancelled() {
		t.Error("CANCEL sent before any provisional response (RFC 3261 §9.1)")
	}
	// The phone answers after all: Ringdesk takes the 2xx and hangs up
	// (RFC 3261 §13.2.2.4 and §15).
	if err := ic.Respond(200, sdpOf(50000)); err != nil {
		t.Fatal(err)
	}
	if err := ic.WaitAck(ctxFor(t)); err != nil {
		t.Fatalf("the late 2xx was not acknowledged: %v", err)
	}
	if _, err := ic.WaitBye(ctxFor(t)); err != nil {
		t.Fatalf("the late 2xx was not hung up: %v", err)
	}
	if r := waitEvent[sip.Rejected](t, ev); r.Code != 487 {
		t.Errorf("Rejected = %+v, want 487", r)
	}
	if has[sip.Answered](ev) {
		t.Errorf("Answered reported for a cancelled leg: %v", ev.names())
	}
}

// A phone that starts ringing after Ringdesk gave up on it (another agent
// answered within a few milliseconds) gets the CANCEL it is owed.
func TestOutboundCancelBeforeProvisionalStopsLateRinging(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.registered(t, "1002", withAnswer(siptest.Manual))
	out, ev := ts.invite(t, "1002", sdpOf(20000), nil)
	out.Cancel("")
	ic := incoming(t, p)
	if err := ic.Respond(180, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := ic.WaitCancel(ctx); err != nil {
		t.Fatalf("the phone rang after the caller gave up and got no CANCEL: %v", err)
	}
	if r := waitEvent[sip.Rejected](t, ev); r.Code != 487 {
		t.Errorf("Rejected = %+v, want 487", r)
	}
}

func TestOutboundTimerB(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for Timer B (64*T1 = 32 s)")
	}
	t.Parallel()
	ts := startServer(t)
	p := ts.registered(t, "1002", withAnswer(siptest.Manual))
	start := time.Now()
	_, ev := ts.invite(t, "1002", sdpOf(20000), nil)
	incoming(t, p) // it arrives, and is never answered
	r, ok := waitEventFor[sip.Rejected](ev, 40*time.Second)
	if !ok {
		t.Fatalf("no Rejected within 40 s: %v", ev.names())
	}
	if r.Code != 408 || !errors.Is(r.Err, sipgo.ErrTransactionTimeout) {
		t.Errorf("Rejected = %+v, want 408 with a transaction timeout", r)
	}
	if d := time.Since(start); d < 30*time.Second || d > 36*time.Second {
		t.Errorf("gave up after %s, want 64*T1 = 32 s", d)
	}
}

func TestOutboundByeFromPhone(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.registered(t, "1002")
	out, ev := ts.invite(t, "1002", sdpOf(20000), nil)
	ic := incoming(t, p)
	waitEvent[sip.Answered](t, ev)
	if err := ic.WaitAck(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	code, err := ic.Bye(ctxFor(t), siptest.Header{Name: "Reason", Value: "Q.850;cause=16"})
	if err != nil || code != 200 {
		t.Fatalf("BYE got %d, %v", code, err)
	}
	if b := waitEvent[sip.ByeReceived](t, ev); b.Reason != "Q.850;cause=16" {
		t.Errorf("ByeReceived = %+v", b)
	}
	if !out.Ended() || ts.Dialogs() != 0 {
		t.Errorf("Ended %v, Dialogs %d", out.Ended(), ts.Dialogs())
	}
	if err := out.Hangup(ctxFor(t), ""); !errors.Is(err, sip.ErrDialogEnded) {
		t.Errorf("Hangup after BYE: %v", err)
	}
}

func TestOutboundHangup(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.registered(t, "1002")
	out, ev := ts.invite(t, "1002", sdpOf(20000), nil)
	ic := incoming(t, p)
	waitEvent[sip.Answered](t, ev)
	const reason = `Q.850;cause=16;text="Normal call clearing"`
	if err := out.Hangup(ctxFor(t), reason); err != nil {
		t.Fatal(err)
	}
	bye, err := ic.WaitBye(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if bye.Header("Reason") != reason {
		t.Errorf("Reason = %q, want %q", bye.Header("Reason"), reason)
	}
	if bye.RequestURI != p.ContactURI() {
		t.Errorf("BYE Request-URI %q, want the phone's Contact %q", bye.RequestURI, p.ContactURI())
	}
	if !out.Ended() || ts.Dialogs() != 0 {
		t.Errorf("Ended %v, Dialogs %d", out.Ended(), ts.Dialogs())
	}
	if slices.Contains(ev.names(), "ByeReceived") {
		t.Error("our own BYE reported as ByeReceived")
	}
}

func TestOutboundTo(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	if _, err := ts.Invite(ctxFor(t), sip.InviteRequest{Target: sip.Binding{Contact: "not a uri"}}, func(sip.Event) {}); err == nil {
		t.Error("Invite to a bad contact succeeded")
	}
	if _, err := ts.Invite(ctxFor(t), sip.InviteRequest{Target: sip.Binding{Contact: "sip:1@127.0.0.1:9", Transport: "TCP"}}, func(sip.Event) {}); err == nil {
		t.Error("Invite over TCP without a TCP listener succeeded")
	}
}
