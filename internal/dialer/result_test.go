package dialer_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/internal/dialer"
)

// TestWriteSummary: every kind of event prints as the line the CLI shows.
func TestWriteSummary(t *testing.T) {
	const ms, s = time.Millisecond, time.Second
	for _, tc := range []struct {
		name string
		evs  []dialer.Event
		want string
	}{
		{"answered", []dialer.Event{
			{Kind: dialer.EventDialing, Target: "500", Server: "127.0.0.1:5060", Transport: "udp"},
			{Kind: dialer.EventChallenged, At: 3 * ms, Status: 407, Reason: "Proxy Authentication Required", User: "1001", Method: "SHA-256"},
			{Kind: dialer.EventRinging, At: 12 * ms, Status: 180, Reason: "Ringing"},
			{Kind: dialer.EventEarlyMedia, At: 14400 * time.Microsecond, Status: 183, Reason: "Session Progress", Codec: "PCMU"},
			{Kind: dialer.EventAnswered, At: 25 * ms, Status: 200, Reason: "OK", From: "Ringdesk"},
			{Kind: dialer.EventDigitSent, At: 3 * s, Digit: "2", Method: "rfc4733"},
			{Kind: dialer.EventDigitHeard, At: 4123 * ms, Digit: "5", Method: "inband"},
			{Kind: dialer.EventDigitSent, At: 6001 * ms, Digit: "1", Method: "rfc4733", Error: "peer did not negotiate telephone-event"},
			{Kind: dialer.EventHungUp, At: 30 * s, Outcome: dialer.OutcomeHungUp},
			{Kind: dialer.EventHeard, Heard: 29960 * ms, Path: "out.wav"},
		}, `dialing 500 at 127.0.0.1:5060 (udp)
authenticating as 1001 after 3ms (407 Proxy Authentication Required, SHA-256)
ringing after 12ms
early media after 14ms (183 Session Progress, PCMU)
answered after 25ms (200 OK from Ringdesk)
sent digit 2 at 3.00s (rfc4733)
heard digit 5 at 4.12s (inband)
could not send digit 1 at 6.00s (rfc4733): peer did not negotiate telephone-event
hung up after 30.0s (we hung up)
heard 30.0s of audio, recorded to out.wav
`},
		{"far end hangs up", []dialer.Event{
			{Kind: dialer.EventRinging, At: 1500 * ms, Status: 183, Reason: "Session Progress"},
			{Kind: dialer.EventAnswered, At: 2 * s, Status: 200, Reason: "OK"},
			{Kind: dialer.EventHungUp, At: 5230 * ms, Outcome: dialer.OutcomeRemoteHungUp},
			{Kind: dialer.EventHeard},
		}, `ringing after 1.5s (183 Session Progress)
answered after 2.0s (200 OK)
hung up after 5.2s (they hung up)
heard no audio
`},
		{"interrupted, BYE failed", []dialer.Event{
			{Kind: dialer.EventHungUp, At: 2 * s, Outcome: dialer.OutcomeInterrupted, Error: "BYE answered 481"},
			{Kind: dialer.EventHungUp, At: 0, Outcome: dialer.OutcomeFailed, Error: "negotiate answer: no common codec"},
		}, `hung up after 2.0s (interrupted: BYE answered 481)
hung up after 0.0s (unusable answer: negotiate answer: no common codec)
`},
		{"unanswered", []dialer.Event{
			{Kind: dialer.EventFailed, At: 1234 * ms, Outcome: dialer.OutcomeRejected, Status: 486, Reason: "Busy Here"},
			{Kind: dialer.EventFailed, At: 60 * s, Outcome: dialer.OutcomeNoAnswer, Status: 487, Reason: "Request Terminated"},
			{Kind: dialer.EventFailed, At: 60 * s, Outcome: dialer.OutcomeNoAnswer},
			{Kind: dialer.EventFailed, At: 2 * s, Outcome: dialer.OutcomeInterrupted, Status: 487, Reason: "Request Terminated"},
			{Kind: dialer.EventFailed, At: 32 * s, Outcome: dialer.OutcomeNoResponse, Error: "Timer_B timed out"},
			{Kind: dialer.EventFailed, At: 2 * ms, Outcome: dialer.OutcomeRejected, Status: 401, Reason: "Unauthorized", Error: "no usable credentials"},
			{Kind: dialer.EventHeard, Heard: 0, Path: "out.wav", Error: "recording failed: disk full"},
		}, `call failed after 1.2s: 486 Busy Here
no answer after 60.0s: cancelled (487 Request Terminated)
no answer after 60.0s: gave up
interrupted after 2.0s: cancelled (487 Request Terminated)
no response after 32.0s: Timer_B timed out
call failed after 2ms: 401 Unauthorized: no usable credentials
heard no audio, recorded to out.wav (recording failed: disk full)
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := dialer.WriteSummary(&b, dialer.Result{Events: tc.evs}); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tc.want)
			}
		})
	}
}

// TestResultJSON: the JSON summary names enums by text.
func TestResultJSON(t *testing.T) {
	r := dialer.Result{
		Target: "500", Answered: true, Status: 200, Outcome: dialer.OutcomeRemoteHungUp,
		DigitsSent: []dialer.SentDigit{{Digit: "2", At: time.Second, Method: dialer.MethodInband}},
		Events:     []dialer.Event{{Kind: dialer.EventDigitSent, Digit: "2", Method: "inband"}},
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"outcome":"remote_hung_up"`, `"method":"inband"`, `"kind":"digit_sent"`, `"answered":true`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	var back dialer.Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("round trip: %+v, want %+v", back, r)
	}
	if err := json.Unmarshal([]byte(`{"outcome":"exploded"}`), &back); err == nil {
		t.Error("an unknown outcome decoded")
	}
}
