package calls_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// TestBasicCall: 1001 calls 1002, 1002 answers, audio flows both ways, one
// side hangs up. It checks the events, the SDP each phone gets, the RTP
// relay and the call record.
func TestBasicCall(t *testing.T) {
	for _, tc := range []struct {
		name      string
		hangup    calls.Role
		transport string
	}{
		{"caller hangs up", calls.RoleCaller, "UDP"},
		{"callee hangs up", calls.RoleCallee, "UDP"},
		{"over TCP, caller hangs up", calls.RoleCaller, "TCP"},
		{"over TCP, callee hangs up", calls.RoleCallee, "TCP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var popts []phoneOption
			if tc.transport == "TCP" {
				popts = append(popts, overTCP())
			}
			callerRTP, calleeRTP := newRTPPeer(t, "caller"), newRTPPeer(t, "callee")
			callee := h.register(t, "1002", append(popts, answer(siptest.Manual))...)
			caller := h.register(t, "1001", append(popts, displayName("Alice Desk"))...)

			started := time.Now()
			call := dial(t, caller, "1002", callerRTP.SDP())
			ic := incoming(t, callee)
			h.ring(t, ic)
			if err := call.WaitProvisional(ctxFor(t), 180); err != nil {
				t.Fatalf("caller: %v", err)
			}
			respond(t, ic, 200, calleeRTP.SDP())
			code, body := waitFinal(t, call)
			if code != 200 {
				t.Fatalf("caller got %d, want 200", code)
			}
			if err := ic.WaitAck(ctxFor(t)); err != nil {
				t.Fatalf("callee got no ACK: %v", err)
			}

			// Each phone talks to Ringdesk's media engine, not to the other.
			callerSide := ringdeskMedia(t, body)
			calleeSide := ringdeskMedia(t, ic.SDP)
			if callerSide.Port == calleeSide.Port {
				t.Errorf("both legs use RTP port %d", callerSide.Port)
			}
			if want := `"Alice Agent" <sip:1001@`; !strings.HasPrefix(ic.From, want) {
				t.Errorf("callee sees From %q, want the configured name: %s...", ic.From, want)
			}

			// Audio both ways, relayed by Ringdesk with its own SSRCs.
			up := callerRTP.newStream(callerSide.RemoteAddr(), 0, 0x1001)
			down := calleeRTP.newStream(calleeSide.RemoteAddr(), 0, 0x1002)
			up.tone(t, media.PCMU, 1000, 25)
			down.tone(t, media.PCMU, 700, 25)
			atCallee := calleeRTP.waitPackets(t, 25, nil)
			atCaller := callerRTP.waitPackets(t, 25, nil)
			checkOneStream(t, "callee", atCallee)
			checkOneStream(t, "caller", atCaller)
			if atCallee[0].From != calleeSide.RemoteAddr() || atCaller[0].From != callerSide.RemoteAddr() {
				t.Errorf("RTP comes from %s and %s, want the ports in Ringdesk's SDP %s and %s",
					atCallee[0].From, atCaller[0].From, calleeSide.RemoteAddr(), callerSide.RemoteAddr())
			}
			if atCallee[0].Header.SSRC == 0x1001 || atCaller[0].Header.SSRC == 0x1002 {
				t.Error("the relay kept the phone's SSRC; a B2BUA leg sends its own stream")
			}
			if s := mediatest.ToneShare(decode(media.PCMU, atCallee), 8000, 1000, 20); s < 0.9 {
				t.Errorf("callee hears 1000 Hz with share %.2f, want > 0.9", s)
			}
			if s := mediatest.ToneShare(decode(media.PCMU, atCaller), 8000, 700, 20); s < 0.9 {
				t.Errorf("caller hears 700 Hz with share %.2f, want > 0.9", s)
			}

			// Hang up: the other side gets BYE.
			var bye *siptest.Message
			if tc.hangup == calls.RoleCaller {
				if code, err := call.Bye(ctxFor(t)); err != nil || code != 200 {
					t.Fatalf("caller BYE: %d %v", code, err)
				}
				bye = waitBye(t, "callee", ic)
			} else {
				if code, err := ic.Bye(ctxFor(t)); err != nil || code != 200 {
					t.Fatalf("callee BYE: %d %v", code, err)
				}
				bye = waitBye(t, "caller", call)
			}
			if r := bye.Header("Reason"); r != "" {
				t.Errorf("BYE for a normal hang-up carries Reason %q, want none", r)
			}

			rec := h.ended(t)
			evs := h.Obs.forCall(rec.ID)
			if got, want := eventNames(evs), []string{"CallStarted", "LegRinging", "CallAnswered", "CallEnded"}; !slices.Equal(got, want) {
				t.Errorf("events %v, want %v", got, want)
			}
			st := evs[0].(calls.CallStarted)
			if st.Dialed != "1002" || st.Caller.Extension != "1001" || st.Leg.SIPCallID != call.CallID() {
				t.Errorf("CallStarted %+v", st)
			}

			wantCaller := calls.Party{Extension: "1001", Name: "Alice Agent", AgentID: "agent-alice", URI: "sip:1001@127.0.0.1"}
			if rec.Caller != wantCaller {
				t.Errorf("Caller %+v, want %+v", rec.Caller, wantCaller)
			}
			if rec.Callee.Extension != "1002" || rec.Callee.Name != "Bob Agent" || rec.Callee.AgentID != "agent-bob" {
				t.Errorf("Callee %+v", rec.Callee)
			}
			if rec.Dialed != "1002" || rec.Status != 200 || rec.Cause != calls.CauseNormal || rec.HungUpBy != tc.hangup {
				t.Errorf("record dialed %q status %d cause %s hung up by %s, want 1002 200 normal %s",
					rec.Dialed, rec.Status, rec.Cause, rec.HungUpBy, tc.hangup)
			}
			if len(rec.Legs) != 2 {
				t.Fatalf("record has %d legs, want 2: %+v", len(rec.Legs), rec.Legs)
			}
			in, out := rec.Legs[0], rec.Legs[1]
			if rec.AnsweredBy != out.ID || rec.AnsweredBy == "" {
				t.Errorf("AnsweredBy %q, want the callee leg %q", rec.AnsweredBy, out.ID)
			}
			if rec.Started.Before(started) || !rec.Started.Before(rec.Answered) || !rec.Answered.Before(rec.Ended) {
				t.Errorf("times: started %v answered %v ended %v", rec.Started, rec.Answered, rec.Ended)
			}
			if rec.RingDuration <= 0 || rec.TalkDuration <= 0 || rec.RingDuration+rec.TalkDuration != rec.Ended.Sub(rec.Started) {
				t.Errorf("ring %v + talk %v != %v", rec.RingDuration, rec.TalkDuration, rec.Ended.Sub(rec.Started))
			}
			if rec.HoldDuration != 0 {
				t.Errorf("HoldDuration %v without hold", rec.HoldDuration)
			}
			if in.Direction != calls.Inbound || in.SIPCallID != call.CallID() || in.Transport != tc.transport ||
				in.Source != caller.Addr() || in.UserAgent != "siptest-1001" || in.Codec != "PCMU" || in.Status != 200 ||
				in.Party != wantCaller || in.Ringing.IsZero() || in.Answered.IsZero() || in.Ended.IsZero() {
				t.Errorf("caller leg %+v\nwant inbound, Call-ID %s, %s from %s, siptest-1001, PCMU, 200", in, call.CallID(), tc.transport, caller.Addr())
			}
			if out.Direction != calls.Outbound || out.SIPCallID != ic.CallID() || out.Transport != tc.transport ||
				out.Contact != callee.ContactURI() || out.Source != callee.Addr() || out.Codec != "PCMU" || out.Status != 200 ||
				out.Answered.IsZero() || out.Ringing.IsZero() || out.Cause != calls.CauseNormal {
				t.Errorf("callee leg %+v\nwant outbound, Call-ID %s, %s to %s, PCMU, 200", out, ic.CallID(), tc.transport, callee.ContactURI())
			}
			if in.RxPackets < 25 || in.TxPackets < 25 || out.RxPackets < 25 || out.TxPackets < 25 {
				t.Errorf("RTP counters caller rx %d tx %d, callee rx %d tx %d; want >= 25 each",
					in.RxPackets, in.TxPackets, out.RxPackets, out.TxPackets)
			}
		})
	}
}

// ring has an incoming call (Manual answer policy) send 180 and waits until
// the switch reports the leg ringing.
func (h *harness) ring(tb testing.TB, ic *siptest.IncomingCall) calls.LegRinging {
	tb.Helper()
	respond(tb, ic, 180, nil)
	return waitEvent(tb, h.Obs, func(e calls.LegRinging) bool { return e.Leg.SIPCallID == ic.CallID() })
}

// respond sends a response from a phone to an INVITE it received.
func respond(tb testing.TB, ic *siptest.IncomingCall, code int, sdp []byte) {
	tb.Helper()
	if err := ic.Respond(code, sdp); err != nil {
		tb.Fatalf("%s: respond %d: %v", ic, code, err)
	}
}
