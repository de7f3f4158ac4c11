package calls_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/media/sdp"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// TestEarlyMedia: the callee answers 183 with SDP; its RTP reaches the
// caller before the 200, and after the 200 the caller keeps hearing one
// stream: same SSRC, consecutive sequence numbers.
func TestEarlyMedia(t *testing.T) {
	h := newHarness(t)
	callee := h.register(t, "1002", answer(siptest.Manual))
	caller := h.register(t, "1001")
	callerRTP, calleeRTP := newRTPPeer(t, "caller"), newRTPPeer(t, "callee")
	call := dial(t, caller, "1002", callerRTP.SDP())
	ic := incoming(t, callee)
	calleeSide := ringdeskMedia(t, ic.SDP)

	respond(t, ic, 183, calleeRTP.SDP())
	ring := waitEvent[calls.LegRinging](t, h.Obs, nil)
	if !ring.EarlyMedia {
		t.Error("LegRinging for a 183 with SDP has EarlyMedia false")
	}
	if err := call.WaitProvisional(ctxFor(t), 183); err != nil {
		t.Fatalf("caller: %v", err)
	}
	down := calleeRTP.newStream(calleeSide.RemoteAddr(), 0, 0xEA7)
	down.fill(t, 0x11, 10)
	early := callerRTP.waitPackets(t, 10, nil)
	if call.Final() != nil {
		t.Fatal("the call was answered before the early media check")
	}

	respond(t, ic, 200, calleeRTP.SDP())
	code, body := waitFinal(t, call)
	if code != 200 {
		t.Fatalf("caller got %d, want 200", code)
	}
	callerSide := ringdeskMedia(t, body)
	if early[0].From != callerSide.RemoteAddr() {
		t.Errorf("early media came from %s, the 200's SDP says %s", early[0].From, callerSide.RemoteAddr())
	}
	down.fill(t, 0x22, 10)
	all := callerRTP.waitPackets(t, 20, nil)
	checkOneStream(t, "caller across 183 and 200", all)
	if !bytes.Equal(all[0].Payload, bytes.Repeat([]byte{0x11}, 160)) || !bytes.Equal(all[19].Payload, bytes.Repeat([]byte{0x22}, 160)) {
		t.Error("the caller did not get the callee's payloads in order")
	}
	if err := ic.WaitAck(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := call.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitBye(t, "callee", ic)
	rec := h.ended(t)
	if names := eventNames(h.Obs.forCall(rec.ID)); !slices.Equal(names, []string{"CallStarted", "LegRinging", "CallAnswered", "CallEnded"}) {
		t.Errorf("events %v", names)
	}
	if rec.Legs[0].TxPackets != 20 {
		t.Errorf("caller leg sent %d packets, want 20", rec.Legs[0].TxPackets)
	}
	if rec.Legs[1].Ringing.IsZero() {
		t.Error("callee leg has no Ringing time after its 183")
	}
	if rec.Legs[0].Ringing.IsZero() {
		t.Error("the caller leg has no Ringing time: it got 183 with early media (ringback), " +
			"but Ringing is only set when Ringdesk sends 180")
	}
}

// TestEarlyMediaTwoPhones: two phones of the extension send early media; the
// caller hears only one of them at a time (the latest 183), never a mix.
func TestEarlyMediaTwoPhones(t *testing.T) {
	h := newHarness(t)
	a := h.register(t, "1002", answer(siptest.Manual))
	b := h.register(t, "1002", answer(siptest.Manual))
	caller := h.register(t, "1001")
	callerRTP, aRTP, bRTP := newRTPPeer(t, "caller"), newRTPPeer(t, "a"), newRTPPeer(t, "b")
	call := dial(t, caller, "1002", callerRTP.SDP())
	icA, icB := incoming(t, a), incoming(t, b)
	toA, toB := ringdeskMedia(t, icA.SDP), ringdeskMedia(t, icB.SDP)

	respond(t, icA, 183, aRTP.SDP())
	waitEvent(t, h.Obs, func(e calls.LegRinging) bool { return e.Leg.SIPCallID == icA.CallID() })
	sa := aRTP.newStream(toA.RemoteAddr(), 0, 0xA)
	sa.fill(t, 0xAA, 5)
	callerRTP.waitPackets(t, 5, filled(0xAA))

	respond(t, icB, 183, bRTP.SDP())
	waitEvent(t, h.Obs, func(e calls.LegRinging) bool { return e.Leg.SIPCallID == icB.CallID() })
	sb := bRTP.newStream(toB.RemoteAddr(), 0, 0xB)
	sb.fill(t, 0xBB, 5)
	callerRTP.waitPackets(t, 5, filled(0xBB))
	// Both talk now; only B, the latest, may be heard.
	sa.fill(t, 0xAA, 10)
	sb.fill(t, 0xBB, 10)
	callerRTP.waitPackets(t, 15, filled(0xBB))
	if got := len(matching(callerRTP.packets(), filled(0xAA))); got != 5 {
		t.Errorf("caller heard %d packets of phone A after phone B's 183, want none: two early media sources mixed", got-5)
	}
	checkOneStream(t, "caller's early media", callerRTP.packets())

	respond(t, icB, 200, bRTP.SDP())
	if code, _ := waitFinal(t, call); code != 200 {
		t.Fatalf("caller got %d", code)
	}
	waitCancel(t, icA)
	sa.fill(t, 0xAA, 5)
	sb.fill(t, 0xBB, 5)
	callerRTP.waitPackets(t, 20, filled(0xBB))
	if err := icB.WaitAck(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := call.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitBye(t, "b", icB)
	rec := h.ended(t)
	fromA := len(matching(callerRTP.packets(), filled(0xAA)))
	if n := len(callerRTP.packets()); uint64(n) != rec.Legs[0].TxPackets || fromA != 5 {
		t.Errorf("caller got %d packets (%d of A's), the record says the caller leg sent %d; want only B's after its 183",
			n, fromA, rec.Legs[0].TxPackets)
	}
}

// TestTranscoding: the caller speaks PCMA only, the callee answers PCMU: the
// relay transcodes both ways and maps the payload types.
func TestTranscoding(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, []string{"PCMA", "telephone-event"}, []string{"PCMU", "telephone-event"})
	if names := codecNames(p.calleeSide); !slices.Equal(names, []string{"PCMA", "PCMU"}) {
		t.Errorf("Ringdesk offered the callee %v, want the caller's PCMA first, then PCMU", names)
	}
	if names := codecNames(p.callerSide); !slices.Equal(names, []string{"PCMA"}) {
		t.Errorf("Ringdesk answered the caller %v, want PCMA", names)
	}
	p.up(8).tone(t, media.PCMA, 1000, 25)
	p.down(0).tone(t, media.PCMU, 600, 25)
	atCallee := p.calleeRTP.waitPackets(t, 25, nil)
	atCaller := p.callerRTP.waitPackets(t, 25, nil)
	for _, r := range atCallee {
		if r.Header.PayloadType != 0 {
			t.Fatalf("callee got payload type %d, want 0 (PCMU)", r.Header.PayloadType)
		}
	}
	for _, r := range atCaller {
		if r.Header.PayloadType != 8 {
			t.Fatalf("caller got payload type %d, want 8 (PCMA)", r.Header.PayloadType)
		}
	}
	if s := mediatest.ToneShare(decode(media.PCMU, atCallee), 8000, 1000, 20); s < 0.9 {
		t.Errorf("callee decodes 1000 Hz (sent as A-law) with share %.2f, want > 0.9", s)
	}
	if s := mediatest.ToneShare(decode(media.PCMA, atCaller), 8000, 600, 20); s < 0.9 {
		t.Errorf("caller decodes 600 Hz (sent as μ-law) with share %.2f, want > 0.9", s)
	}
	p.hangup(t)
	rec := h.ended(t)
	if rec.Legs[0].Codec != "PCMA" || rec.Legs[1].Codec != "PCMU" {
		t.Errorf("leg codecs %s and %s, want PCMA and PCMU", rec.Legs[0].Codec, rec.Legs[1].Codec)
	}
}

func codecNames(m sdp.Media) []string {
	var out []string
	for _, c := range m.Codecs {
		out = append(out, c.Name)
	}
	return out
}

// TestDTMFPayloadTypes: RFC 4733 events cross the relay with each leg's own
// telephone-event payload type, payload unchanged, one timestamp per event.
func TestDTMFPayloadTypes(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, []string{"PCMU", "telephone-event/100"}, []string{"PCMU", "telephone-event/96"})
	if p.callerSide.DTMF == nil || p.callerSide.DTMF.PayloadType != 100 {
		t.Fatalf("Ringdesk's answer to the caller has telephone-event %+v, want payload type 100", p.callerSide.DTMF)
	}
	if p.calleeSide.DTMF == nil || p.calleeSide.DTMF.PayloadType != 101 {
		t.Fatalf("Ringdesk's offer to the callee has telephone-event %+v, want 101", p.calleeSide.DTMF)
	}
	up, down := p.up(0), p.down(0)
	up.fill(t, 0xFF, 2)
	up.dtmf(t, 100, 5)
	// The callee answered 96 but may send with the payload types of
	// Ringdesk's offer (RFC 3264 §5.1), or of its answer: both are accepted.
	down.fill(t, 0xFF, 2)
	down.dtmf(t, 101, 7)
	down.dtmf(t, 96, 9)

	atCallee := p.calleeRTP.waitPackets(t, 3, withPT(96))
	atCaller := p.callerRTP.waitPackets(t, 6, withPT(100))
	checkEvent(t, "callee", atCallee, 5)
	checkEvent(t, "caller, first event", atCaller[:3], 7)
	checkEvent(t, "caller, second event", atCaller[3:6], 9)
	if atCaller[0].Header.Timestamp == atCaller[3].Header.Timestamp {
		t.Error("two events reach the caller with one timestamp")
	}
	for _, who := range []struct {
		name string
		peer *rtpPeer
		ok   []uint8
	}{{"callee", p.calleeRTP, []uint8{0, 96}}, {"caller", p.callerRTP, []uint8{0, 100}}} {
		for _, r := range who.peer.packets() {
			if !slices.Contains(who.ok, r.Header.PayloadType) {
				t.Errorf("%s got payload type %d, want one of %v", who.name, r.Header.PayloadType, who.ok)
			}
		}
	}
	p.hangup(t)
}

// checkEvent checks the three packets of one relayed RFC 4733 event.
func checkEvent(tb testing.TB, who string, pkts []rxPacket, digit byte) {
	tb.Helper()
	for i, r := range pkts {
		if len(r.Payload) != 4 || r.Payload[0] != digit {
			tb.Errorf("%s: event packet %d payload %x, want event %d", who, i, r.Payload, digit)
		}
		if r.Header.Timestamp != pkts[0].Header.Timestamp {
			tb.Errorf("%s: event packet %d timestamp %d, the event began at %d (RFC 4733 §2.5.1.3)", who, i, r.Header.Timestamp, pkts[0].Header.Timestamp)
		}
	}
	if last := pkts[len(pkts)-1]; last.Payload[1]&0x80 == 0 {
		tb.Errorf("%s: the event's last packet has no E bit", who)
	}
}

// TestCodecs: calls that fail for want of a common codec.
func TestCodecs(t *testing.T) {
	t.Run("caller offers only G722", func(t *testing.T) {
		h := newHarness(t)
		callee := h.register(t, "1002", answer(siptest.Manual))
		caller := h.register(t, "1001")
		call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP("G722"))
		if code, _ := waitFinal(t, call); code != 488 {
			t.Errorf("caller got %d, want 488", code)
		}
		if r := call.Final().Header("Reason"); !strings.Contains(r, "cause=88") {
			t.Errorf("488 Reason %q, want Q.850 cause 88", r)
		}
		rec := h.ended(t)
		if rec.Cause != calls.CauseIncompatible || rec.Status != 488 || len(rec.Legs) != 1 {
			t.Errorf("record cause %s status %d legs %d; want incompatible 488 1", rec.Cause, rec.Status, len(rec.Legs))
		}
		noIncoming(t, callee)
	})

	t.Run("callee answers a codec not offered", func(t *testing.T) {
		h := newHarness(t)
		callee := h.register(t, "1002", answer(siptest.Manual))
		caller := h.register(t, "1001")
		call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
		ic := incoming(t, callee)
		h.ring(t, ic)
		respond(t, ic, 200, newRTPPeer(t, "callee").SDP("G722"))
		if err := ic.WaitAck(ctxFor(t)); err != nil {
			t.Errorf("the callee's 2xx was not acknowledged: %v", err)
		}
		bye := waitBye(t, "callee", ic)
		if r := bye.Header("Reason"); !strings.Contains(r, "cause=88") {
			t.Errorf("BYE Reason %q, want Q.850 cause 88", r)
		}
		if code, _ := waitFinal(t, call); code != 488 {
			t.Errorf("caller got %d, want 488", code)
		}
		rec := h.ended(t)
		if rec.Cause != calls.CauseIncompatible || rec.Status != 488 || rec.AnsweredBy != "" {
			t.Errorf("record cause %s status %d answered by %q; want incompatible 488 nobody", rec.Cause, rec.Status, rec.AnsweredBy)
		}
		if names := eventNames(h.Obs.forCall(rec.ID)); slices.Contains(names, "CallAnswered") {
			t.Errorf("events %v: a call whose answer was refused was reported answered", names)
		}
	})

	t.Run("bad answer while another phone rings", func(t *testing.T) {
		h := newHarness(t)
		bad := h.register(t, "1002", answer(siptest.Manual))
		good := h.register(t, "1002", answer(siptest.Manual))
		caller := h.register(t, "1001")
		call := dial(t, caller, "1002", newRTPPeer(t, "caller").SDP())
		icBad, icGood := incoming(t, bad), incoming(t, good)
		h.ring(t, icBad)
		h.ring(t, icGood)
		respond(t, icBad, 200, newRTPPeer(t, "bad").SDP("G722"))
		waitBye(t, "the phone with no common codec", icBad)
		respond(t, icGood, 200, newRTPPeer(t, "good").SDP())
		if code, _ := waitFinal(t, call); code != 200 {
			t.Fatalf("caller got %d, want 200 from the other phone", code)
		}
		if err := icGood.WaitAck(ctxFor(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := call.Bye(ctxFor(t)); err != nil {
			t.Fatal(err)
		}
		waitBye(t, "good phone", icGood)
		rec := h.ended(t)
		if rec.Cause != calls.CauseNormal || rec.Status != 200 {
			t.Errorf("record cause %s status %d", rec.Cause, rec.Status)
		}
	})
}

// TestInfoRelay: INFO (DTMF as application/dtmf-relay) crosses the call both
// ways with its body and content type.
func TestInfoRelay(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	const ct = "application/dtmf-relay"
	up := []byte("Signal=5\r\nDuration=160\r\n")
	if code, err := p.call.Info(ctxFor(t), ct, up); err != nil || code != 200 {
		t.Fatalf("caller INFO: %d %v", code, err)
	}
	got, err := p.ic.WaitRequest(ctxFor(t), "INFO")
	if err != nil {
		t.Fatalf("callee got no INFO: %v", err)
	}
	if !bytes.Equal(got.Body, up) || got.Header("Content-Type") != ct {
		t.Errorf("callee got INFO %q (%s), want %q (%s)", got.Body, got.Header("Content-Type"), up, ct)
	}
	down := []byte("Signal=#\r\nDuration=250\r\n")
	if code, err := p.ic.Info(ctxFor(t), ct, down); err != nil || code != 200 {
		t.Fatalf("callee INFO: %d %v", code, err)
	}
	got, err = p.call.WaitRequest(ctxFor(t), "INFO")
	if err != nil {
		t.Fatalf("caller got no INFO: %v", err)
	}
	if !bytes.Equal(got.Body, down) || got.Header("Content-Type") != ct {
		t.Errorf("caller got INFO %q (%s), want %q (%s)", got.Body, got.Header("Content-Type"), down, ct)
	}
	p.hangup(t)
}

// TestLateOffer: the caller's INVITE has no SDP; Ringdesk's 200 carries an
// offer and the caller's ACK the answer (RFC 3264 §5, RFC 3261 §13.2.1).
func TestLateOffer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ackSDP    func(*rtpPeer) []byte
		wantCause calls.Cause // CauseNormal: the call goes on
	}{
		{"answer in ACK", func(p *rtpPeer) []byte { return p.SDP() }, calls.CauseNormal},
		{"ACK without answer", func(*rtpPeer) []byte { return nil }, calls.CauseSignaling},
		{"answer without a common codec", func(p *rtpPeer) []byte { return p.SDP("G722") }, calls.CauseIncompatible},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			callee := h.register(t, "1002", answer(siptest.Manual))
			caller := h.register(t, "1001")
			callerRTP, calleeRTP := newRTPPeer(t, "caller"), newRTPPeer(t, "callee")
			call := dial(t, caller, "1002", nil, siptest.WithManualAck())
			ic := incoming(t, callee)
			calleeSide := ringdeskMedia(t, ic.SDP)
			h.ring(t, ic)
			respond(t, ic, 200, calleeRTP.SDP())
			code, offer := waitFinal(t, call)
			if code != 200 {
				t.Fatalf("caller got %d, want 200", code)
			}
			callerSide := ringdeskMedia(t, offer)
			if callerSide.Direction != sdp.SendRecv || len(callerSide.Codecs) == 0 || callerSide.DTMF == nil {
				t.Errorf("Ringdesk's offer in the 200: %+v", callerSide)
			}
			raw := newRawSIP(t, h.UDP)
			d := callerDialog(t, caller, call, "1002")
			raw.ack(t, d, call.Final().CSeq, tc.ackSDP(callerRTP))

			if tc.wantCause != calls.CauseNormal {
				bye := waitBye(t, "caller", call)
				waitBye(t, "callee", ic)
				if r := bye.Header("Reason"); r == "" {
					t.Errorf("BYE after a failed late offer has no Reason")
				}
				rec := h.ended(t)
				if rec.Cause != tc.wantCause || rec.HungUpBy != calls.RoleSystem {
					t.Errorf("record cause %s hung up by %s, want %s system", rec.Cause, rec.HungUpBy, tc.wantCause)
				}
				return
			}
			// The ACK travels on its own: Ringdesk sends to the caller once
			// it has applied the answer.
			down := calleeRTP.newStream(calleeSide.RemoteAddr(), 0, 2)
			tk := talk(t, down)
			first := callerRTP.waitPackets(t, 1, nil)
			tk.halt()
			if first[0].From != callerSide.RemoteAddr() {
				t.Errorf("RTP to the caller comes from %s, Ringdesk's offer said %s", first[0].From, callerSide.RemoteAddr())
			}
			callerRTP.newStream(callerSide.RemoteAddr(), 0, 1).tone(t, media.PCMU, 800, 10)
			atCallee := calleeRTP.waitPackets(t, 10, nil)
			if s := mediatest.ToneShare(decode(media.PCMU, atCallee), 8000, 800, 20); s < 0.9 {
				t.Errorf("callee hears 800 Hz with share %.2f", s)
			}
			if _, err := call.Bye(ctxFor(t)); err != nil {
				t.Fatal(err)
			}
			waitBye(t, "callee", ic)
			rec := h.ended(t)
			if rec.Cause != calls.CauseNormal || rec.Legs[0].Codec != "PCMU" || rec.Legs[0].RxPackets != 10 || rec.Legs[0].TxPackets == 0 {
				t.Errorf("record cause %s, caller leg %+v", rec.Cause, rec.Legs[0])
			}
		})
	}
}

// TestLateOfferMediaBeforeACK: a phone may send RTP as soon as it has the
// offer in Ringdesk's 200, before its ACK with the answer arrives; as the
// offerer Ringdesk must be prepared to receive it then (RFC 3264 §5.1).
func TestLateOfferMediaBeforeACK(t *testing.T) {
	h := newHarness(t)
	callee := h.register(t, "1002", answer(siptest.Manual))
	caller := h.register(t, "1001")
	callerRTP, calleeRTP := newRTPPeer(t, "caller"), newRTPPeer(t, "callee")
	call := dial(t, caller, "1002", nil, siptest.WithManualAck())
	ic := incoming(t, callee)
	h.ring(t, ic)
	respond(t, ic, 200, calleeRTP.SDP())
	_, offer := waitFinal(t, call)
	callerSide := ringdeskMedia(t, offer)
	up := callerRTP.newStream(callerSide.RemoteAddr(), 0, 1)
	up.fill(t, 0x21, 5) // before the ACK
	// The scenario: the phone's audio starts 20 ms before its ACK reaches
	// Ringdesk (a phone that sends RTP at once, an ACK that is late).
	<-time.After(20 * time.Millisecond)
	raw := newRawSIP(t, h.UDP)
	raw.ack(t, callerDialog(t, caller, call, "1002"), call.Final().CSeq, callerRTP.SDP())
	// Wait for the ACK to be applied (Ringdesk then sends to the caller).
	tk := talk(t, calleeRTP.newStream(ringdeskMedia(t, ic.SDP).RemoteAddr(), 0, 2))
	callerRTP.waitPackets(t, 1, nil)
	tk.halt()
	up.fill(t, 0x22, 5) // after it
	calleeRTP.waitPackets(t, 5, filled(0x22))
	if got := len(matching(calleeRTP.packets(), filled(0x21))); got != 5 {
		t.Errorf("the callee got %d of the 5 packets the caller sent between Ringdesk's 200 (the offer) and the ACK; "+
			"Ringdesk drops media that arrives before the answer (RFC 3264 §5.1: the offerer must be ready to receive at once)", got)
	}
	if _, err := call.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitBye(t, "callee", ic)
}
