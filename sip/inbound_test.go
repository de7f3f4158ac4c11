package sip_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/sip"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// dial has extension 1001 call 1002 and returns both ends.
func dial(t *testing.T, ts *testServer, offer []byte, opts ...siptest.DialOption) (*siptest.Phone, *siptest.Call, *inbound) {
	t.Helper()
	p := ts.phone(t, "1001", func(o *siptest.Options) { o.DisplayName = "Alice"; o.UserAgent = "deskphone/1.0" })
	call, err := p.Dial(ctxFor(t), "1002", offer, opts...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	return p, call, ts.nextCall(t)
}

// answered sets up an answered and acknowledged call from 1001 to 1002.
func answered(t *testing.T, ts *testServer) (*siptest.Phone, *siptest.Call, *inbound) {
	t.Helper()
	p, call, in := dial(t, ts, sdpOf(30000))
	if err := in.Answer(sdpOf(40000)); err != nil {
		t.Fatalf("Answer: %v", err)
	}
	if code, _, err := call.WaitAnswer(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("phone got %d, %v", code, err)
	}
	waitEvent[sip.AckReceived](t, in.ev)
	return p, call, in
}

func TestInviteNeedsProxyAuth(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.phone(t, "1001")
	call, err := p.Dial(ctxFor(t), "1002", sdpOf(30000), siptest.WithoutAuth())
	if err != nil {
		t.Fatal(err)
	}
	code, _, err := call.WaitAnswer(ctxFor(t))
	if err != nil || code != 407 {
		t.Fatalf("unauthenticated INVITE got %d, %v; want 407", code, err)
	}
	res := call.Final()
	if res.Has("WWW-Authenticate") {
		t.Error("407 carries WWW-Authenticate")
	}
	c, err := digest.ParseChallenge(res.Header("Proxy-Authenticate"))
	if err != nil {
		t.Fatalf("Proxy-Authenticate %q: %v", res.Header("Proxy-Authenticate"), err)
	}
	if c.Realm != testRealm || !c.SupportsQOP("auth") || c.Nonce == "" {
		t.Errorf("challenge = %+v", c)
	}
	select {
	case <-ts.calls:
		t.Error("the handler saw an unauthenticated INVITE")
	default:
	}

	// Wrong credentials: 403, not another challenge.
	call, err = p.Dial(ctxFor(t), "1002", sdpOf(30000), siptest.WithCredentials("1001", "wrong"))
	if err != nil {
		t.Fatal(err)
	}
	if code, _, err := call.WaitAnswer(ctxFor(t)); err != nil || code != 403 {
		t.Fatalf("INVITE with a wrong password got %d, %v; want 403", code, err)
	}
}

func TestInviteReachesHandler(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	offer := sdpOf(30000)
	p, call, in := dial(t, ts, offer)
	if in.AuthUser != "1001" || in.Dialed != "1002" || in.To.User != "1002" {
		t.Errorf("AuthUser %q, Dialed %q, To %q", in.AuthUser, in.Dialed, in.To.User)
	}
	if in.From.User != "1001" || in.From.DisplayName != "Alice" {
		t.Errorf("From = %+v", in.From)
	}
	if !bytes.Equal(in.SDP, offer) {
		t.Errorf("SDP = %q, want the offer", in.SDP)
	}
	if in.Source != p.Addr() || in.Transport != "UDP" || in.UserAgent != "deskphone/1.0" {
		t.Errorf("Source %s, Transport %q, UserAgent %q", in.Source, in.Transport, in.UserAgent)
	}
	if in.CallID != call.CallID() {
		t.Errorf("CallID = %q, want %q", in.CallID, call.CallID())
	}
	if err := in.Reject(486, `Q.850;cause=17;text="User busy"`); err != nil {
		t.Fatal(err)
	}
	code, _, err := call.WaitAnswer(ctxFor(t))
	if err != nil || code != 486 {
		t.Fatalf("phone got %d, %v; want 486", code, err)
	}
	if got := call.Final().Header("Reason"); !strings.Contains(got, "cause=17") {
		t.Errorf("Reason = %q", got)
	}
	if !in.Ended() {
		t.Error("a rejected call is not ended")
	}
	for _, err := range []error{in.Answer(sdpOf(1)), in.Reject(480, ""), in.Progress(180, nil)} {
		if !errors.Is(err, sip.ErrFinalResponseSent) {
			t.Errorf("after Reject: %v, want ErrFinalResponseSent", err)
		}
	}
}

func TestInviteProgressThenAnswer(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := dial(t, ts, sdpOf(30000))
	ctx := ctxFor(t)

	early := sdpOf(40000, "sendonly")
	if err := in.Progress(183, early); err != nil {
		t.Fatal(err)
	}
	if err := call.WaitProvisional(ctx, 183); err != nil {
		t.Fatal(err)
	}
	if err := in.Progress(180, nil); err != nil {
		t.Fatal(err)
	}
	// Responses are handled concurrently by sipgo: wait for the 180 before
	// sending the 200, or the 200 may overtake it.
	if err := call.WaitProvisional(ctx, 180); err != nil {
		t.Fatal(err)
	}
	answer := sdpOf(40000)
	if err := in.Answer(answer); err != nil {
		t.Fatal(err)
	}
	code, body, err := call.WaitAnswer(ctx)
	if err != nil || code != 200 {
		t.Fatalf("phone got %d, %v", code, err)
	}
	if !bytes.Equal(body, answer) {
		t.Errorf("200 body = %q, want %q", body, answer)
	}
	res := call.Final()
	if res.Header("Content-Type") != "application/sdp" || !res.Has("Contact") || !strings.Contains(res.Header("Allow"), "INVITE") {
		t.Errorf("200 headers: %v", res.Headers)
	}
	if call.RemoteTag() == "" {
		t.Error("200 has no To tag")
	}
	if err := in.Progress(180, nil); !errors.Is(err, sip.ErrFinalResponseSent) {
		t.Errorf("Progress after Answer: %v", err)
	}
	if err := in.Answer(answer); !errors.Is(err, sip.ErrFinalResponseSent) {
		t.Errorf("second Answer: %v", err)
	}
	waitEvent[sip.AckReceived](t, in.ev)
	if in.Ended() {
		t.Error("answered call reports ended")
	}
	if n := ts.Dialogs(); n != 1 {
		t.Errorf("Dialogs() = %d, want 1", n)
	}
}

func TestInviteLateOffer(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := dial(t, ts, nil)
	if len(in.SDP) != 0 {
		t.Errorf("SDP = %q, want none", in.SDP)
	}
	offer := sdpOf(40000)
	if err := in.Answer(offer); err != nil {
		t.Fatal(err)
	}
	if code, body, err := call.WaitAnswer(ctxFor(t)); err != nil || code != 200 || !bytes.Equal(body, offer) {
		t.Fatalf("phone got %d %q %v", code, body, err)
	}
	waitEvent[sip.AckReceived](t, in.ev)
}

// Over UDP Ringdesk retransmits its 2xx until the ACK arrives (RFC 3261
// §13.3.1.4): at T1 = 500 ms, then 1 s, ...
func TestInvite2xxRetransmittedUntilAck(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := dial(t, ts, sdpOf(30000), siptest.WithManualAck())
	if err := in.Answer(sdpOf(40000)); err != nil {
		t.Fatal(err)
	}
	if code, _, err := call.WaitAnswer(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("phone got %d, %v", code, err)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := call.WaitRetransmissions(ctx, 1); err != nil {
		t.Fatalf("no retransmission of the 200 within 1.5 s (T1 = 500 ms)")
	}
	// The next one comes after 2*T1 more (1.5 s after the first send).
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	if err := call.WaitRetransmissions(ctx2, 2); err != nil {
		t.Fatalf("%d retransmissions of the 200 within 3 s, want 2", call.Retransmissions())
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("second retransmission after %s: the interval does not double", d)
	}
	if has[sip.AckReceived](in.ev) {
		t.Fatal("AckReceived before the phone acknowledged")
	}
	if err := call.Ack(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitEvent[sip.AckReceived](t, in.ev)
}

func TestInviteCancel(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := dial(t, ts, sdpOf(30000))
	ctx := ctxFor(t)
	if err := in.Progress(180, nil); err != nil {
		t.Fatal(err)
	}
	if err := call.WaitProvisional(ctx, 180); err != nil {
		t.Fatal(err)
	}
	if code, err := call.Cancel(ctx); err != nil || code != 200 {
		t.Fatalf("CANCEL got %d, %v; want 200", code, err)
	}
	if code, _, err := call.WaitAnswer(ctx); err != nil || code != 487 {
		t.Fatalf("INVITE got %d, %v; want 487", code, err)
	}
	if tag := call.Final(); tag == nil || !strings.Contains(tag.Header("To"), "tag=") {
		t.Errorf("487 without To tag: %v", tag)
	}
	waitEvent[sip.Cancelled](t, in.ev)
	if !in.Ended() {
		t.Error("cancelled call is not ended")
	}
	if err := in.Answer(sdpOf(40000)); err == nil {
		t.Error("Answer after CANCEL succeeded")
	}
}

func TestInviteByeFromPhone(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := answered(t, ts)
	code, err := call.Bye(ctxFor(t), siptest.Header{Name: "Reason", Value: `Q.850;cause=16;text="Normal call clearing"`})
	if err != nil || code != 200 {
		t.Fatalf("BYE got %d, %v", code, err)
	}
	bye := waitEvent[sip.ByeReceived](t, in.ev)
	if !strings.Contains(bye.Reason, "cause=16") {
		t.Errorf("Reason = %q", bye.Reason)
	}
	if !in.Ended() || ts.Dialogs() != 0 {
		t.Errorf("Ended %v, Dialogs %d", in.Ended(), ts.Dialogs())
	}
	if err := in.Hangup(ctxFor(t), ""); !errors.Is(err, sip.ErrDialogEnded) {
		t.Errorf("Hangup after BYE: %v", err)
	}
	// The dialog is gone: another BYE gets 481.
	if code, err := call.Dialog.Bye(ctxFor(t)); err == nil && code != 481 {
		t.Errorf("second BYE got %d, want 481", code)
	}
}

func TestInviteHangup(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := answered(t, ts)
	if err := in.Hangup(ctxFor(t), `Q.850;cause=16`); err != nil {
		t.Fatal(err)
	}
	bye, err := call.WaitBye(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if bye.Header("Reason") != "Q.850;cause=16" {
		t.Errorf("BYE Reason = %q", bye.Header("Reason"))
	}
	if !strings.HasPrefix(bye.RequestURI, "sip:1001@127.0.0.1:") {
		t.Errorf("BYE Request-URI %q, want the phone's Contact", bye.RequestURI)
	}
	if !in.Ended() || ts.Dialogs() != 0 {
		t.Errorf("Ended %v, Dialogs %d", in.Ended(), ts.Dialogs())
	}
	if err := in.Hangup(ctxFor(t), ""); !errors.Is(err, sip.ErrDialogEnded) {
		t.Errorf("second Hangup: %v", err)
	}
}

func TestInviteInfoAndOptionsInDialog(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := answered(t, ts)
	ctx := ctxFor(t)
	body := []byte("Signal=5\r\nDuration=160\r\n")
	if code, err := call.Info(ctx, "application/dtmf-relay", body); err != nil || code != 200 {
		t.Fatalf("INFO got %d, %v", code, err)
	}
	info := waitEvent[sip.InfoReceived](t, in.ev)
	if info.ContentType != "application/dtmf-relay" || !bytes.Equal(info.Body, body) {
		t.Errorf("InfoReceived = %+v", info)
	}
	res, err := call.Request(ctx, "OPTIONS", "", nil)
	if err != nil || res.Code != 200 {
		t.Fatalf("in-dialog OPTIONS got %v, %v", res, err)
	}
	if !strings.Contains(res.Header("Allow"), "INVITE") {
		t.Errorf("Allow = %q", res.Header("Allow"))
	}
	// Ringdesk to phone.
	if err := in.SendInfo(ctx, "application/dtmf-relay", []byte("Signal=#\r\n")); err != nil {
		t.Fatal(err)
	}
	if m, err := call.WaitRequest(ctx, "INFO"); err != nil || !bytes.Contains(m.Body, []byte("Signal=#")) {
		t.Fatalf("phone INFO: %v %v", m, err)
	}
}

func TestReInvite(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := answered(t, ts)

	hold := sdpOf(30000, "sendonly")
	type result struct {
		code int
		sdp  []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, sdp, err := call.ReInvite(ctxFor(t), hold)
		done <- result{code, sdp, err}
	}()
	offer := waitEvent[sip.OfferReceived](t, in.ev)
	if offer.Method != "INVITE" || !bytes.Equal(offer.SDP, hold) {
		t.Errorf("OfferReceived = %s %q", offer.Method, offer.SDP)
	}
	answer := sdpOf(40000, "recvonly")
	offer.Respond(200, answer)
	r := <-done
	if r.err != nil || r.code != 200 || !bytes.Equal(r.sdp, answer) {
		t.Fatalf("re-INVITE got %d %q %v", r.code, r.sdp, r.err)
	}

	// The next offer is taken once the ACK has been processed. sipgo handles
	// the ACK and a re-INVITE sent right after it concurrently, so the
	// second offer may meet a 500 with Retry-After (see
	// TestReInviteRightAfterAck); retry like a phone does.
	go func() {
		for {
			code, sdp, err := call.ReInvite(ctxFor(t), sdpOf(30000))
			if code != 491 && code != 500 {
				done <- result{code, sdp, err}
				return
			}
		}
	}()
	second, ok := waitEventFor2[sip.OfferReceived](in.ev, 2)
	if !ok {
		t.Fatalf("no second OfferReceived; events %v", in.ev.names())
	}
	second.Respond(488, nil)
	if r := <-done; r.err != nil || r.code != 488 {
		t.Fatalf("rejected re-INVITE got %d %v, want 488", r.code, r.err)
	}
	if in.Ended() {
		t.Error("a refused re-INVITE ended the call")
	}
}

// waitEventFor2 waits for the n-th event of type T.
func waitEventFor2[T sip.Event](e *events, n int) (T, bool) {
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		var seen []T
		for _, ev := range e.all() {
			if v, ok := ev.(T); ok {
				seen = append(seen, v)
			}
		}
		if len(seen) >= n {
			return seen[n-1], true
		}
		e.mu.Lock()
		ch := e.changed
		e.mu.Unlock()
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-ch:
		case <-timer.C:
		}
		timer.Stop()
	}
	var zero T
	return zero, false
}

// A phone may send a new re-INVITE as soon as it has sent the ACK for the
// previous 2xx (RFC 3261 §14.1: the previous INVITE transaction is over).
// Ringdesk refuses an offer while the ACK for its last 2xx is outstanding
// (dialog.go:406), and sipgo processes the ACK and the new INVITE on
// separate goroutines, so the new INVITE often wins and gets a spurious 491.
// The higher CSeq already proves the 2xx arrived.
func TestReInviteRightAfterAck(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := answered(t, ts)
	for i := 1; i <= 10; i++ {
		done := make(chan int, 1)
		go func() {
			code, _, _ := call.ReInvite(ctxFor(t), sdpOf(30000))
			done <- code
		}()
		offer, ok := waitEventFor2[sip.OfferReceived](in.ev, i)
		if !ok {
			code := <-done
			t.Fatalf("re-INVITE %d got %d without reaching the handler", i, code)
		}
		offer.Respond(200, sdpOf(40000))
		if code := <-done; code != 200 {
			t.Fatalf("re-INVITE %d got %d", i, code)
		}
	}
}

// reInviteWhilePending sends a second re-INVITE while Ringdesk still owes
// the answer to the first, and returns the second's response.
func reInviteWhilePending(t *testing.T) (*siptest.Response, func()) {
	t.Helper()
	ts := startServer(t)
	_, call, in := answered(t, ts)
	first := make(chan int, 1)
	go func() {
		code, _, _ := call.ReInvite(ctxFor(t), sdpOf(30000, "sendonly"))
		first <- code
	}()
	offer := waitEvent[sip.OfferReceived](t, in.ev)
	res, err := call.Request(ctxFor(t), "INVITE", "application/sdp", sdpOf(30000, "inactive"))
	if err != nil {
		t.Fatal(err)
	}
	return res, func() {
		offer.Respond(200, sdpOf(40000, "recvonly"))
		if code := <-first; code != 200 {
			t.Errorf("the first re-INVITE got %d after the second was refused", code)
		}
		if n := len(in.ev.all()); n == 0 {
			t.Error("no events")
		}
	}
}

func TestReInviteWhilePending(t *testing.T) {
	t.Parallel()
	res, finish := reInviteWhilePending(t)
	if res.Code != 491 && res.Code != 500 {
		t.Errorf("second re-INVITE got %d, want it refused (491 now, 500 per RFC 3261 §14.2)", res.Code)
	}
	finish()
}

// RFC 3261 §14.2: "A UAS that receives a second INVITE before it sends the
// final response to a first INVITE with a lower CSeq sequence number on the
// same dialog MUST return a 500 (Server Internal Error) response to the
// second INVITE and MUST include a Retry-After header field with a randomly
// chosen value of between 0 and 10 seconds." 491 is for glare (RFC 3261
// §14.2 last paragraph, RFC 3311 §5.2): an offer crossing one of our own.
func TestReInviteWhilePendingRFC(t *testing.T) {
	t.Parallel()
	res, finish := reInviteWhilePending(t)
	defer finish()
	if res.Code != 500 || res.Header("Retry-After") == "" {
		t.Errorf("second re-INVITE got %d, Retry-After %q; want 500 with Retry-After", res.Code, res.Header("Retry-After"))
	}
}

func TestRequestsOutsideDialogs(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.phone(t, "1001")
	for _, tc := range []struct {
		name    string
		req     siptest.Request
		want    int
		headers map[string]string // header -> substring it must contain
	}{
		{
			name: "OPTIONS", req: siptest.Request{Method: "OPTIONS"}, want: 200,
			headers: map[string]string{"Allow": "INVITE, ACK, CANCEL, BYE, OPTIONS", "Accept": "application/sdp"},
		},
		{name: "OPTIONS to an extension", req: siptest.Request{Method: "OPTIONS", User: "1002"}, want: 200, headers: map[string]string{"Allow": "REGISTER"}},
		{name: "BYE without To tag", req: siptest.Request{Method: "BYE", User: "1002"}, want: 481},
		{name: "BYE unknown dialog", req: siptest.Request{Method: "BYE", User: "1002", ToTag: "nope"}, want: 481},
		{name: "INFO unknown dialog", req: siptest.Request{Method: "INFO", User: "1002", ToTag: "nope", ContentType: "application/dtmf-relay", Body: []byte("Signal=1\r\n")}, want: 481},
		{name: "INFO without To tag", req: siptest.Request{Method: "INFO", User: "1002"}, want: 481},
		{name: "UPDATE unknown dialog", req: siptest.Request{Method: "UPDATE", User: "1002", ToTag: "nope"}, want: 481},
		{name: "OPTIONS unknown dialog", req: siptest.Request{Method: "OPTIONS", User: "1002", ToTag: "nope"}, want: 481},
		{name: "CANCEL matching nothing", req: siptest.Request{Method: "CANCEL", User: "1002"}, want: 481},
		{name: "SUBSCRIBE", req: siptest.Request{Method: "SUBSCRIBE", User: "1002", Headers: []siptest.Header{{Name: "Event", Value: "message-summary"}}}, want: 489},
		{name: "unknown method", req: siptest.Request{Method: "FOO", User: "1002"}, want: 405, headers: map[string]string{"Allow": "INVITE"}},
		{name: "MESSAGE", req: siptest.Request{Method: "MESSAGE", User: "1002", ContentType: "text/plain", Body: []byte("hi")}, want: 405, headers: map[string]string{"Allow": "INVITE"}},
		{name: "REFER outside a dialog", req: siptest.Request{Method: "REFER", User: "1002"}, want: 405, headers: map[string]string{"Allow": "INVITE"}},
		// PUBLISH (RFC 3903) is not in Allow, so like any method Ringdesk does
		// not implement it deserves 405 + Allow (RFC 3261 §8.2.1); 489 Bad
		// Event claims Ringdesk is an event state compositor.
		{
			name: "PUBLISH", req: siptest.Request{Method: "PUBLISH", User: "1002", Headers: []siptest.Header{{Name: "Event", Value: "presence"}}}, want: 405,
			headers: map[string]string{"Allow": "INVITE"},
		},
		{name: "INVITE without Contact", req: siptest.Request{Method: "INVITE", User: "1002", NoContact: true, ContentType: "application/sdp", Body: sdpOf(1)}, want: 400},
		{
			name: "INVITE with text/plain", req: siptest.Request{Method: "INVITE", User: "1002", ContentType: "text/plain", Body: []byte("hello")}, want: 415,
			headers: map[string]string{"Accept": "application/sdp"},
		},
		{name: "INVITE Require 100rel", req: siptest.Request{
			Method: "INVITE", User: "1002", ContentType: "application/sdp", Body: sdpOf(1),
			Headers: []siptest.Header{{Name: "Require", Value: "100rel"}},
		}, want: 420, headers: map[string]string{"Unsupported": "100rel"}},
		{name: "INVITE re-INVITE of unknown dialog", req: siptest.Request{Method: "INVITE", User: "1002", ToTag: "nope", ContentType: "application/sdp", Body: sdpOf(1)}, want: 481},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := p.Do(ctxFor(t), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Code != tc.want {
				t.Fatalf("%s got %d %s, want %d", tc.req.Method, res.Code, res.Reason, tc.want)
			}
			for h, want := range tc.headers {
				if got := res.Header(h); !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", h, got, want)
				}
			}
			if res.Header("Server") != sip.DefaultUserAgent {
				t.Errorf("Server = %q", res.Header("Server"))
			}
		})
	}
}

// RFC 3261 §15.1.2: a UAS that receives a BYE in an early dialog "MUST
// still respond to any pending requests received for that dialog. It is
// RECOMMENDED that a 487 (Request Terminated) response be generated".
func TestInviteByeInEarlyDialog(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := dial(t, ts, sdpOf(30000))
	ctx := ctxFor(t)
	if err := in.Progress(180, nil); err != nil {
		t.Fatal(err)
	}
	if err := call.WaitProvisional(ctx, 180); err != nil {
		t.Fatal(err)
	}
	if code, err := call.Bye(ctx); err != nil || code != 200 {
		t.Fatalf("early BYE got %d, %v", code, err)
	}
	// For the call, a BYE before the answer is the caller giving up.
	waitEvent[sip.Cancelled](t, in.ev)
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if code, _, err := call.WaitAnswer(short); err != nil || code != 487 {
		t.Errorf("INVITE after early BYE got %d, %v; want 487", code, err)
	}
	if err := in.Answer(sdpOf(40000)); err == nil {
		t.Error("Answer succeeded on a call whose caller hung up")
	}
}

// RFC 3261 §15: "the callee's UA MUST NOT send a BYE on a confirmed dialog
// until it has received an ACK for its 2xx response or until the server
// transaction times out."
func TestInviteHangupBeforeAck(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := dial(t, ts, sdpOf(30000), siptest.WithManualAck())
	if err := in.Answer(sdpOf(40000)); err != nil {
		t.Fatal(err)
	}
	if code, _, err := call.WaitAnswer(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("phone got %d, %v", code, err)
	}
	hung := make(chan error, 1)
	go func() { hung <- in.Hangup(ctxFor(t), "") }()
	early, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := call.WaitBye(early); err == nil {
		t.Error("BYE arrived before the phone sent its ACK")
	}
	if err := call.Ack(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := call.WaitBye(ctxFor(t)); err != nil {
		t.Errorf("no BYE after the ACK: %v", err)
	}
	if err := <-hung; err != nil {
		t.Errorf("Hangup: %v", err)
	}
	n := call.Retransmissions()
	late, cancel2 := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel2()
	if err := call.WaitRetransmissions(late, n+1); err == nil {
		t.Error("the 200 is still retransmitted after the ACK and BYE")
	}
	if _, ok := waitEventFor[sip.AckReceived](in.ev, time.Second); !ok {
		t.Error("the ACK was not reported")
	}
}

// A CANCEL that races Progress or Answer must not deadlock: sipgo calls the
// OnCancel callback with the transaction's FSM lock held, and that callback
// (inbound.go:258-266) takes InboundCall.mu; Progress, Answer and Reject
// hold InboundCall.mu while they call tx.Respond, which takes the FSM lock.
func TestInviteCancelRacesProgress(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.phone(t, "1001")
	for i := range 40 {
		call, err := p.Dial(ctxFor(t), "1002", sdpOf(30000))
		if err != nil {
			t.Fatal(err)
		}
		in := ts.nextCall(t)
		stop := make(chan struct{})
		spinning := make(chan struct{})
		go func() {
			defer close(spinning)
			// Progress as often as a busy supervisor might, not as a flood:
			// a flood of 180s overruns the phone's socket buffer, and sipgo
			// (transaction.go spinFsmWithResponse) lets a 180 sent after the
			// 487 replace it as the response Timer G retransmits.
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if err := in.Progress(180, nil); err != nil {
					return
				}
			}
		}()
		if err := call.WaitProvisional(ctxFor(t), 180); err != nil {
			t.Fatal(err)
		}
		if _, err := call.Cancel(ctxFor(t)); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		code, _, err := call.WaitAnswer(short)
		cancel()
		close(stop)
		if code != 487 {
			t.Fatalf("call %d: INVITE got %d, %v after CANCEL; want 487 (deadlock?)\n%s", i, code, err, testkit.Goroutines())
		}
		<-spinning
	}
}

// A caller that hangs up the moment it is answered sends ACK and BYE back to
// back. sipgo dispatches every message on its own goroutine, so the BYE is
// often processed first; handleRequest then ends the dialog and removes it
// from the table (dialog.go:378, :146), the ACK finds no dialog
// (dialog.go:324), and awaitAck keeps retransmitting the 200 to a phone
// that has hung up, for 32 s, then reports AckTimedOut after ByeReceived.
func TestInviteByeOvertakesAck(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.phone(t, "1001")
	type leg struct {
		call *siptest.Call
		in   *inbound
	}
	var legs []leg
	for range 10 {
		call, err := p.Dial(ctxFor(t), "1002", sdpOf(30000))
		if err != nil {
			t.Fatal(err)
		}
		in := ts.nextCall(t)
		if err := in.Answer(sdpOf(40000)); err != nil {
			t.Fatal(err)
		}
		if code, _, err := call.WaitAnswer(ctxFor(t)); err != nil || code != 200 {
			t.Fatalf("phone got %d, %v", code, err)
		}
		// The ACK is on its way; hang up at once.
		if code, err := call.Bye(ctxFor(t)); err != nil || code != 200 {
			t.Fatalf("BYE got %d, %v", code, err)
		}
		waitEvent[sip.ByeReceived](t, in.ev)
		legs = append(legs, leg{call, in})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	for i, l := range legs {
		if err := l.call.WaitRetransmissions(ctx, 1); err == nil {
			t.Errorf("call %d: the 200 is retransmitted after ACK and BYE; events %v", i, l.in.ev.names())
		}
	}
}

func TestInviteOverTCP(t *testing.T) {
	t.Parallel()
	ts := startServer(t, withTCP())
	p := ts.phone(t, "1001", func(o *siptest.Options) { o.Transport = "tcp" })
	call, err := p.Dial(ctxFor(t), "1002", sdpOf(30000))
	if err != nil {
		t.Fatal(err)
	}
	in := ts.nextCall(t)
	if in.Transport != "TCP" || in.Source != p.Addr() {
		t.Errorf("Transport %q, Source %s, want TCP from %s", in.Transport, in.Source, p.Addr())
	}
	if err := in.Answer(sdpOf(40000)); err != nil {
		t.Fatal(err)
	}
	if code, _, err := call.WaitAnswer(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("phone got %d, %v", code, err)
	}
	if c := call.Final().Contacts; len(c) != 1 || !strings.Contains(c[0].URI, "transport=tcp") {
		t.Errorf("Ringdesk's Contact over TCP = %v, want transport=tcp", c)
	}
	waitEvent[sip.AckReceived](t, in.ev)
	if err := in.Hangup(ctxFor(t), ""); err != nil {
		t.Fatal(err)
	}
	if bye, err := call.WaitBye(ctxFor(t)); err != nil || bye.Transport != "TCP" {
		t.Fatalf("BYE %v, %v", bye, err)
	}
}

func TestUpdateInDialog(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := answered(t, ts)
	done := make(chan *siptest.Response, 1)
	go func() {
		res, err := call.Request(ctxFor(t), "UPDATE", "application/sdp", sdpOf(30000, "sendonly"))
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	offer := waitEvent[sip.OfferReceived](t, in.ev)
	if offer.Method != "UPDATE" {
		t.Errorf("Method = %q", offer.Method)
	}
	answer := sdpOf(40000, "recvonly")
	offer.Respond(200, answer)
	res := <-done
	if res == nil || res.Code != 200 || !bytes.Equal(res.Body, answer) {
		t.Fatalf("UPDATE got %v", res)
	}
}

// The digest response covers the "uri" directive, not the Request-URI:
// RFC 2617 §3.2.2.5 (RFC 3261 §22.4): "The authenticating server must assure
// that the resource designated by the "uri" directive is the same as the
// resource specified in the Request-Line; if they are not, the server
// SHOULD return a 400 Bad Request error." Without that check, credentials
// seen on the way to one number place a call to another (toll fraud).
func TestInviteDigestURIMismatch(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	p := ts.phone(t, "1001")
	call, err := p.Dial(ctxFor(t), "1002", sdpOf(30000), siptest.WithDigestURI("sip:1003@"+ts.UDP.String()))
	if err != nil {
		t.Fatal(err)
	}
	final := make(chan int, 1)
	go func() {
		code, _, _ := call.WaitAnswer(ctxFor(t))
		final <- code
	}()
	select {
	case in := <-ts.calls:
		_ = in.Reject(480, "")
		t.Errorf("the handler got a call to %s authorised for sip:1003", in.Dialed)
	case code := <-final:
		if code != 400 && code != 403 {
			t.Errorf("INVITE got %d, want 400", code)
		}
	}
}
