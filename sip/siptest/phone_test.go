package siptest_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/sip/siptest"
)

// phonePair returns a caller whose "server" is the callee itself: enough to
// exercise the softphone without a PBX.
func phonePair(t *testing.T, answer siptest.AnswerFunc) (caller, callee *siptest.Phone) {
	t.Helper()
	callee = siptest.NewPhone(t, siptest.Options{User: "2000", Server: "127.0.0.1:9", Answer: answer})
	caller = siptest.NewPhone(t, siptest.Options{User: "1000", Server: callee.Addr().String(), DisplayName: "Caller"})
	return caller, callee
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func incoming(t *testing.T, ctx context.Context, p *siptest.Phone) *siptest.IncomingCall {
	t.Helper()
	select {
	case ic := <-p.Incoming():
		return ic
	case <-ctx.Done():
		t.Fatal("no incoming call")
		return nil
	}
}

func TestPhoneDialAnswerBye(t *testing.T) {
	t.Parallel()
	answer := siptest.SDP("127.0.0.1", 5000, "PCMA")
	caller, callee := phonePair(t, siptest.AnswerWith(answer))
	ctx := ctxT(t, 5*time.Second)

	offer := siptest.SDP("127.0.0.1", 4000, "PCMU", "telephone-event")
	call, err := caller.Dial(ctx, "2000", offer)
	if err != nil {
		t.Fatal(err)
	}
	code, body, err := call.WaitAnswer(ctx)
	if err != nil || code != 200 {
		t.Fatalf("WaitAnswer = %d, %v", code, err)
	}
	if !bytes.Equal(body, answer) {
		t.Errorf("answer SDP = %q, want %q", body, answer)
	}
	ic := incoming(t, ctx, callee)
	if !bytes.Equal(ic.SDP, offer) {
		t.Errorf("offer = %q", ic.SDP)
	}
	if !strings.Contains(ic.From, `"Caller"`) {
		t.Errorf("From = %q", ic.From)
	}
	if err := ic.WaitAck(ctx); err != nil {
		t.Fatalf("callee got no ACK: %v", err)
	}
	if code, err := call.Info(ctx, "application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n")); err != nil || code != 200 {
		t.Fatalf("INFO = %d, %v", code, err)
	}
	if m, err := ic.WaitRequest(ctx, "INFO"); err != nil || !bytes.Contains(m.Body, []byte("Signal=5")) {
		t.Fatalf("callee INFO = %v, %v", m, err)
	}
	if code, sdp, err := call.ReInvite(ctx, siptest.SDP("127.0.0.1", 4000, "PCMU", "sendonly")); err != nil || code != 200 || !bytes.Equal(sdp, answer) {
		t.Fatalf("re-INVITE = %d %q %v", code, sdp, err)
	}
	if code, err := call.Bye(ctx, siptest.Header{Name: "Reason", Value: `Q.850;cause=16`}); err != nil || code != 200 {
		t.Fatalf("BYE = %d, %v", code, err)
	}
	bye, err := ic.WaitBye(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := bye.Header("Reason"); got != "Q.850;cause=16" {
		t.Errorf("Reason = %q", got)
	}
}

func TestPhoneCancel(t *testing.T) {
	t.Parallel()
	caller, callee := phonePair(t, siptest.NoAnswer)
	ctx := ctxT(t, 5*time.Second)
	call, err := caller.Dial(ctx, "2000", siptest.SDP("127.0.0.1", 4000))
	if err != nil {
		t.Fatal(err)
	}
	if err := call.WaitProvisional(ctx, 180); err != nil {
		t.Fatal(err)
	}
	if code, err := call.Cancel(ctx); err != nil || code != 200 {
		t.Fatalf("CANCEL = %d, %v", code, err)
	}
	if code, _, err := call.WaitAnswer(ctx); err != nil || code != 487 {
		t.Fatalf("INVITE = %d, %v", code, err)
	}
	if err := incoming(t, ctx, callee).WaitCancel(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPhoneRejectAndManual(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		answer siptest.AnswerFunc
		drive  func(*siptest.IncomingCall) error
		want   int
	}{
		{"busy", siptest.Busy, nil, 486},
		{"decline", siptest.RejectWith(603), nil, 603},
		{"manual", siptest.Manual, func(ic *siptest.IncomingCall) error { return ic.Respond(480, nil) }, 480},
		{"answer-after", siptest.AnswerAfter(50*time.Millisecond, siptest.SDP("127.0.0.1", 6000)), nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			caller, callee := phonePair(t, tc.answer)
			ctx := ctxT(t, 5*time.Second)
			call, err := caller.Dial(ctx, "2000", siptest.SDP("127.0.0.1", 4000))
			if err != nil {
				t.Fatal(err)
			}
			ic := incoming(t, ctx, callee)
			if tc.drive != nil {
				if err := tc.drive(ic); err != nil {
					t.Fatal(err)
				}
			}
			if code, _, err := call.WaitAnswer(ctx); err != nil || code != tc.want {
				t.Fatalf("WaitAnswer = %d, %v; want %d", code, err, tc.want)
			}
		})
	}
}

func TestSDP(t *testing.T) {
	t.Parallel()
	got := string(siptest.SDP("10.0.0.1", 4002, "PCMA", "telephone-event", "sendonly"))
	for _, want := range []string{"c=IN IP4 10.0.0.1\r\n", "m=audio 4002 RTP/AVP 8 101\r\n", "a=rtpmap:101 telephone-event/8000\r\n", "a=sendonly\r\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("SDP lacks %q:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(got, "\r\n") {
		t.Error("SDP must end with CRLF")
	}
}
