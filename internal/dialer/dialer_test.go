package dialer_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/ringdesk/ringdesk/internal/dialer"
	"github.com/ringdesk/ringdesk/media/dtmf"
	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// far is the called party in tests: a siptest phone and its media.
type far struct {
	phone *siptest.Phone
	rtp   *rtpPeer
}

// newFar starts a phone that answers as answer says, with SDP pointing at
// an rtpPeer (nil answer: answer at once with PCMU and telephone-event).
func newFar(t *testing.T, answer func(sdp []byte) siptest.AnswerFunc) *far {
	t.Helper()
	peer := newRTPPeer(t)
	sdp := siptest.SDP("127.0.0.1", int(peer.addr.Port()), "PCMU", "telephone-event")
	if answer == nil {
		answer = siptest.AnswerWith
	}
	ph := siptest.NewPhone(t, siptest.Options{User: "1002", Server: "127.0.0.1:9", UserAgent: "far-phone", Answer: answer(sdp)})
	return &far{phone: ph, rtp: peer}
}

// dial runs script against f in the background; the returned function
// waits for Run.
func dial(t *testing.T, ctx context.Context, s dialer.Script, f *far) func() (dialer.Result, error) {
	t.Helper()
	s.Server = f.phone.Addr().String()
	if s.Target == "" {
		s.Target = "1002"
	}
	d, err := dialer.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	type out struct {
		r   dialer.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		r, err := d.Run(ctx)
		done <- out{r, err}
	}()
	return func() (dialer.Result, error) {
		select {
		case o := <-done:
			return o.r, o.err
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return within 30 s")
			return dialer.Result{}, nil
		}
	}
}

func summary(r dialer.Result) string {
	var b strings.Builder
	_ = dialer.WriteSummary(&b, r)
	return b.String()
}

// TestDialAnsweredToneDigitsRecording: the far end answers; the dialer
// sends its tone and an RFC 4733 digit, records the far end's tone, and
// hangs up with BYE after the duration.
func TestDialAnsweredToneDigitsRecording(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	f := newFar(t, nil)
	out := filepath.Join(t.TempDir(), "heard.wav")
	wait := dial(t, ctx, dialer.Script{Tone: 440, Digits: mustSchedule(t, "5@400ms"), Record: out, Duration: 1500 * time.Millisecond}, f)

	ic := f.phone.WaitIncoming(t, 5*time.Second)
	f.rtp.sendTone(sdpAddr(t, ic.SDP), 1000)
	if _, err := ic.WaitBye(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + summary(r))
	if !r.Answered || r.Status != 200 || r.Outcome != dialer.OutcomeHungUp || r.Codec != "PCMU" || r.From != "far-phone" {
		t.Errorf("result: answered %v status %d outcome %s codec %q from %q", r.Answered, r.Status, r.Outcome, r.Codec, r.From)
	}
	if r.SIPCallID != ic.CallID() {
		t.Errorf("SIP Call-ID %q, the phone saw %q", r.SIPCallID, ic.CallID())
	}
	if r.Talk < 1400*time.Millisecond || r.Talk > 2500*time.Millisecond {
		t.Errorf("talked %s, want about 1.5 s", r.Talk)
	}
	if len(r.DigitsSent) != 1 || r.DigitsSent[0].Digit != "5" || r.DigitsSent[0].Error != "" ||
		r.DigitsSent[0].At < 400*time.Millisecond || r.DigitsSent[0].At > 600*time.Millisecond {
		t.Errorf("digits sent: %+v", r.DigitsSent)
	}
	pkts := f.rtp.received()
	if got := mediatest.DTMF(pkts, 101); got != "5" {
		t.Errorf("far end received DTMF %q, want \"5\"", got)
	}
	heard := mediatest.DecodeAudio(pkts)
	if s := mediatest.ToneShare(heard, 8000, 440, 25); s < 0.9 {
		t.Errorf("far end heard %.0f Hz (%.2f at 440 Hz), want the 440 Hz tone", mediatest.DominantFrequency(heard, 8000), s)
	}
	rec, rate, ch, err := mediatest.ReadWAV(out)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 || ch != 1 {
		t.Errorf("recording is %d Hz, %d channels; want 8000 Hz mono", rate, ch)
	}
	rec = mediatest.Trim(rec, 8000, 0.02)
	if len(rec) < 8000 || mediatest.ToneShare(rec, 8000, 1000, 25) < 0.9 {
		t.Errorf("recording: %d samples, %.0f Hz; want over a second of 1000 Hz", len(rec), mediatest.DominantFrequency(rec, 8000))
	}
	if r.Heard < time.Second || r.Recording != out || r.RecordingLength < time.Second {
		t.Errorf("heard %s, recording %q of %s", r.Heard, r.Recording, r.RecordingLength)
	}
	// The 180 may be overtaken by the 200 (sipgo handles responses
	// concurrently): ringing is not required.
	want := []dialer.EventKind{dialer.EventDialing, dialer.EventAnswered, dialer.EventDigitSent, dialer.EventHungUp, dialer.EventHeard}
	if got := slices.DeleteFunc(kinds(r.Events), func(k dialer.EventKind) bool { return k == dialer.EventRinging }); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

func kinds(evs []dialer.Event) []dialer.EventKind {
	var out []dialer.EventKind
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func mustSchedule(t *testing.T, s string) dialer.Schedule {
	t.Helper()
	sch, err := dialer.ParseSchedule(s)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// TestDialDigitMethods: SIP INFO reaches the far end as dtmf-relay, and
// in-band digits as dual tones in the audio it hears.
func TestDialDigitMethods(t *testing.T) {
	t.Run("info", func(t *testing.T) {
		checkGoroutines(t)
		ctx := context.Background()
		f := newFar(t, nil)
		wait := dial(t, ctx, dialer.Script{DTMF: dialer.MethodInfo, Digits: mustSchedule(t, "1#@300ms"), Duration: time.Second}, f)
		ic := f.phone.WaitIncoming(t, 5*time.Second)
		if _, err := ic.WaitBye(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := wait()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ic.Received() {
			if m.Method == "INFO" {
				d, dur, err := dtmf.ParseInfo(m.Header("Content-Type"), m.Body)
				if err != nil {
					t.Errorf("INFO body %q: %v", m.Body, err)
				}
				if dur != dialer.DigitDuration {
					t.Errorf("INFO duration %s", dur)
				}
				got = append(got, d.String())
			}
		}
		if strings.Join(got, "") != "1#" {
			t.Errorf("far end got INFO digits %q, want 1#", got)
		}
		if len(r.DigitsSent) != 2 || r.DigitsSent[1].Method != dialer.MethodInfo || r.DigitsSent[1].Error != "" {
			t.Errorf("digits sent: %+v", r.DigitsSent)
		}
	})
	t.Run("inband", func(t *testing.T) {
		checkGoroutines(t)
		ctx := context.Background()
		f := newFar(t, nil)
		wait := dial(t, ctx, dialer.Script{DTMF: dialer.MethodInband, Tone: 440, Digits: mustSchedule(t, "7@300ms,9"), Duration: 1200 * time.Millisecond}, f)
		ic := f.phone.WaitIncoming(t, 5*time.Second)
		if _, err := ic.WaitBye(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := wait()
		if err != nil {
			t.Fatal(err)
		}
		pkts := f.rtp.received()
		if got := mediatest.DTMF(pkts, 101); got != "" {
			t.Errorf("in-band digits also went as RFC 4733 events %q", got)
		}
		det := dtmf.NewDetector(8000)
		var got string
		audio := mediatest.DecodeAudio(pkts)
		for i := 0; i+160 <= len(audio); i += 160 {
			if d, ok := det.Process(audio[i : i+160]); ok {
				got += d.String()
			}
		}
		if got != "79" {
			t.Errorf("far end detected %q in the audio, want 79", got)
		}
		if len(r.DigitsSent) != 2 || r.DigitsSent[0].Method != dialer.MethodInband {
			t.Errorf("digits sent: %+v", r.DigitsSent)
		}
	})
}

// TestDialFarEndHangsUp: a BYE from the far end is answered 200 and ends
// the call at once.
func TestDialFarEndHangsUp(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			checkGoroutines(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			peer := newRTPPeer(t)
			srv := newTestServer(t, network, serverOptions{SDP: siptest.SDP("127.0.0.1", int(peer.addr.Port()), "PCMU")})
			d, err := dialer.New(dialer.Script{Target: "1002", Server: srv.addr.String(), Transport: network, Duration: 20 * time.Second}, nil)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan dialer.Result, 1)
			go func() {
				r, _ := d.Run(ctx)
				done <- r
			}()
			code, err := srv.bye(ctx)
			if err != nil || code != 200 {
				t.Fatalf("BYE answered %d, %v", code, err)
			}
			r := <-done
			if r.Outcome != dialer.OutcomeRemoteHungUp || r.Talk > 5*time.Second {
				t.Errorf("outcome %s after %s, want remote_hung_up at once", r.Outcome, r.Talk)
			}
			if !strings.Contains(summary(r), "(they hung up)") {
				t.Errorf("summary:\n%s", summary(r))
			}
		})
	}
}

// TestDialUnanswered: rejections, the ring timeout (CANCEL) and an
// interrupted call end unanswered, with the final status.
func TestDialUnanswered(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answer  func([]byte) siptest.AnswerFunc
		timeout time.Duration
		cancel  time.Duration // cancel Run's context after this
		outcome dialer.Outcome
		status  int
		line    string
	}{
		{"busy", func([]byte) siptest.AnswerFunc { return siptest.Busy }, 0, 0, dialer.OutcomeRejected, 486, "call failed after"},
		{"declined", func([]byte) siptest.AnswerFunc { return siptest.RejectWith(603) }, 0, 0, dialer.OutcomeRejected, 603, ": 603 Decline"},
		{"timeout", func([]byte) siptest.AnswerFunc { return siptest.NoAnswer }, 700 * time.Millisecond, 0, dialer.OutcomeNoAnswer, 487, "no answer after 0.7s: cancelled (487 Request Terminated)"},
		{"interrupted", func([]byte) siptest.AnswerFunc { return siptest.NoAnswer }, 0, 500 * time.Millisecond, dialer.OutcomeInterrupted, 487, "interrupted after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel > 0 {
				time.AfterFunc(tc.cancel, cancel)
			}
			f := newFar(t, tc.answer)
			wait := dial(t, ctx, dialer.Script{Timeout: tc.timeout}, f)
			ic := f.phone.WaitIncoming(t, 5*time.Second)
			r, err := wait()
			if err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + summary(r))
			if r.Answered || r.Outcome != tc.outcome || r.Status != tc.status {
				t.Errorf("answered %v outcome %s status %d, want outcome %s status %d", r.Answered, r.Outcome, r.Status, tc.outcome, tc.status)
			}
			if !strings.Contains(summary(r), tc.line) {
				t.Errorf("summary lacks %q:\n%s", tc.line, summary(r))
			}
			if tc.status == 487 && !ic.Cancelled() {
				t.Errorf("the far end saw no CANCEL")
			}
		})
	}
}

// TestDialEarlyMedia: a 183 with SDP starts hearing and recording before
// the 200.
func TestDialEarlyMedia(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	f := newFar(t, func([]byte) siptest.AnswerFunc { return siptest.Manual })
	out := filepath.Join(t.TempDir(), "early.wav")
	wait := dial(t, ctx, dialer.Script{Record: out, Duration: 500 * time.Millisecond}, f)
	ic := f.phone.WaitIncoming(t, 5*time.Second)
	sdp := siptest.SDP("127.0.0.1", int(f.rtp.addr.Port()), "PCMU", "telephone-event")
	if err := ic.Respond(183, sdp); err != nil {
		t.Fatal(err)
	}
	f.rtp.sendTone(sdpAddr(t, ic.SDP), 700)
	time.Sleep(800 * time.Millisecond)
	if err := ic.Respond(200, sdp); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.WaitBye(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + summary(r))
	if !r.EarlyMedia || !r.Answered || r.Codec != "PCMU" {
		t.Errorf("early media %v answered %v codec %q", r.EarlyMedia, r.Answered, r.Codec)
	}
	if got := kinds(r.Events); len(got) < 3 || got[1] != dialer.EventRinging || got[2] != dialer.EventEarlyMedia {
		t.Errorf("events %v, want dialing, ringing, early media...", got)
	}
	// The recording started at the 183: it is longer than the talk.
	if r.RecordingLength < r.Talk+500*time.Millisecond || r.Heard < r.Talk+500*time.Millisecond {
		t.Errorf("recording of %s, heard %s for a talk of %s: it did not start with early media", r.RecordingLength, r.Heard, r.Talk)
	}
	rec, _, _, err := mediatest.ReadWAV(out)
	if err != nil {
		t.Fatal(err)
	}
	if rec = mediatest.Trim(rec, 8000, 0.02); len(rec) < 8000 || mediatest.ToneShare(rec, 8000, 700, 25) < 0.9 {
		t.Errorf("recording: %d samples of %.0f Hz, want over a second of 700 Hz", len(rec), mediatest.DominantFrequency(rec, 8000))
	}
}

// TestDialAnswerWithoutCommonCodec: an answer the dialer cannot use is
// acknowledged, hung up at once, and reported as an error.
func TestDialAnswerWithoutCommonCodec(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	f := newFar(t, func([]byte) siptest.AnswerFunc {
		return siptest.AnswerWith(siptest.SDP("127.0.0.1", 4000, "G722"))
	})
	wait := dial(t, ctx, dialer.Script{}, f)
	ic := f.phone.WaitIncoming(t, 5*time.Second)
	if _, err := ic.WaitBye(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := wait()
	if !errors.Is(err, dialer.ErrAnswerUnusable) {
		t.Fatalf("error %v, want ErrAnswerUnusable", err)
	}
	if !r.Answered || r.Outcome != dialer.OutcomeFailed {
		t.Errorf("answered %v outcome %s", r.Answered, r.Outcome)
	}
}

// TestDialTCP: the same call over TCP.
func TestDialTCP(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	peer := newRTPPeer(t)
	sdp := siptest.SDP("127.0.0.1", int(peer.addr.Port()), "PCMU", "telephone-event")
	// A TCP phone has no listener; the dialer is the one listening, so
	// the test plays the server with a UDP-less phone is not possible:
	// use a UDP phone's address for nothing and a raw TCP server instead.
	srv := newTCPServer(t, sdp)
	d, err := dialer.New(dialer.Script{Target: "1002", Server: srv.addr.String(), Transport: "tcp", Duration: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := d.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + summary(r))
	if !r.Answered || r.Outcome != dialer.OutcomeHungUp {
		t.Errorf("answered %v outcome %s", r.Answered, r.Outcome)
	}
	if got := srv.methods(); strings.Join(got, " ") != "INVITE ACK BYE" {
		t.Errorf("server got %v, want INVITE ACK BYE", got)
	}
}

// TestDialTwice: a Dialer runs once.
func TestDialTwice(t *testing.T) {
	d, err := dialer.New(dialer.Script{Target: "1", Server: "127.0.0.1:9", Timeout: time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = d.Run(ctx)
	if _, err := d.Run(ctx); !errors.Is(err, dialer.ErrUsed) {
		t.Errorf("second Run: %v, want ErrUsed", err)
	}
}

// TestDialInDialogRequests: during the call the far end re-INVITEs (hold:
// sendonly, answered recvonly; then back), sends a digit by INFO (reported
// as heard), and an OPTIONS: all answered 200.
func TestDialInDialogRequests(t *testing.T) {
	checkGoroutines(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	peer := newRTPPeer(t)
	srv := newTestServer(t, "udp", serverOptions{SDP: siptest.SDP("127.0.0.1", int(peer.addr.Port()), "PCMU", "telephone-event")})
	d, err := dialer.New(dialer.Script{Target: "1002", Server: srv.addr.String(), Duration: 1500 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan dialer.Result, 1)
	go func() {
		r, _ := d.Run(ctx)
		done <- r
	}()

	hold := siptest.SDP("127.0.0.1", int(peer.addr.Port()), "PCMU", "telephone-event", "sendonly")
	res, err := srv.request(ctx, sip.INVITE, 2, "application/sdp", hold)
	if err != nil || res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Fatalf("hold re-INVITE: %v %v\n%s", res, err, res.Body())
	}
	resume := siptest.SDP("127.0.0.1", int(peer.addr.Port()), "PCMU", "telephone-event")
	if res, err = srv.request(ctx, sip.INVITE, 3, "application/sdp", resume); err != nil || res.StatusCode != 200 ||
		!strings.Contains(string(res.Body()), "a=sendrecv") {
		t.Fatalf("resume re-INVITE: %v %v", res, err)
	}
	if res, err = srv.request(ctx, sip.INFO, 4, "application/dtmf-relay", []byte("Signal=7\r\nDuration=100\r\n")); err != nil || res.StatusCode != 200 {
		t.Fatalf("INFO: %v %v", res, err)
	}
	if res, err = srv.request(ctx, sip.OPTIONS, 5, "", nil); err != nil || res.StatusCode != 200 {
		t.Fatalf("OPTIONS: %v %v", res, err)
	}
	r := <-done
	t.Log("\n" + summary(r))
	if len(r.DigitsHeard) != 1 || r.DigitsHeard[0].Digit != "7" || r.DigitsHeard[0].Method != "info" {
		t.Errorf("digits heard: %+v", r.DigitsHeard)
	}
	if !strings.Contains(summary(r), "heard digit 7 at ") {
		t.Errorf("summary lacks the digit heard")
	}
	if r.Outcome != dialer.OutcomeHungUp {
		t.Errorf("outcome %s", r.Outcome)
	}
}
