package calls_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/media/tone"
	"github.com/ringdesk/ringdesk/media/wav"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// Tones the parties of these tests send, and the prompt they hear; none is
// a note of the default hold music.
const (
	callerHz = 440
	calleeHz = 700
	thirdHz  = 1100
	promptHz = 1000
)

// speaker sends a tone from a stream every 20 ms, as a phone does, until the
// test ends or stop is called.
type speaker struct {
	stopOnce sync.Once
	quit     chan struct{}
	wg       sync.WaitGroup
}

// speak starts sending freq on s; s is the speaker's until it stops.
func speak(tb testing.TB, s *stream, freq float64) *speaker {
	tb.Helper()
	tk := &speaker{quit: make(chan struct{})}
	pcm := mediatest.Sine(freq, 0.3, 8000, time.Second)
	tk.wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		payload := make([]byte, 160)
		for i := 0; ; i++ {
			select {
			case <-tk.quit:
				return
			case <-t.C:
			}
			off := (i * 160) % len(pcm)
			media.PCMU.Encode(payload, pcm[off:off+160])
			if err := s.trySend(payload); err != nil {
				return
			}
		}
	})
	tb.Cleanup(tk.stop)
	return tk
}

func (tk *speaker) stop() {
	tk.stopOnce.Do(func() { close(tk.quit) })
	tk.wg.Wait()
}

// trySend sends one 20 ms PCMU packet; for goroutines, which may not fail
// the test.
func (s *stream) trySend(payload []byte) error {
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: s.pt, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: s.ssrc}, Payload: payload}
	b, err := pkt.Marshal()
	if err != nil {
		return err
	}
	s.seq++
	s.ts += 160
	_, err = s.from.conn.WriteToUDPAddrPort(b, s.to)
	return err
}

// heardBetween decodes what peer received from Ringdesk between from and to.
func heardBetween(p *rtpPeer, from, to time.Time) []int16 {
	return decode(media.PCMU, matching(p.packets(), func(r rxPacket) bool {
		return r.Header.PayloadType == 0 && !r.At.Before(from) && r.At.Before(to)
	}))
}

// toneShare is the part of audio's energy within 25 Hz of freq.
func toneShare(audio []int16, freq float64) float64 {
	return mediatest.ToneShare(audio, 8000, freq, 25)
}

// hearsTone fails unless audio (what who heard) is mostly freq.
func hearsTone(tb testing.TB, who string, audio []int16, freq float64) {
	tb.Helper()
	if len(audio) < 8000/4 {
		tb.Errorf("%s heard %d samples, want a quarter of a second at least", who, len(audio))
		return
	}
	if s := toneShare(audio, freq); s < 0.3 {
		tb.Errorf("%s: %.0f Hz is %.2f of what it heard (rms %.3f), want the tone", who, freq, s, mediatest.RMS(audio))
	}
}

// hearsNot fails if audio (what who heard) carries freq.
func hearsNot(tb testing.TB, who string, audio []int16, freq float64) {
	tb.Helper()
	if s := toneShare(audio, freq); s > 0.05 && mediatest.RMS(audio) > 0.002 {
		tb.Errorf("%s hears %.0f Hz (%.2f of the energy), want it not to", who, freq, s)
	}
}

// window waits d and returns the time span of the wait, trimmed at the
// start by a settling margin for the media to have been rewired.
func window(d time.Duration) (from, to time.Time) {
	from = time.Now().Add(200 * time.Millisecond)
	time.Sleep(d) // audio is measured over real time
	return from, time.Now()
}

// liveCall returns the switch's call id.
func liveCall(tb testing.TB, h *harness, id calls.CallID) *calls.Call {
	tb.Helper()
	c, ok := h.Switch.Call(id)
	if !ok {
		tb.Fatalf("call %s is not live", id)
	}
	return c
}

// TestPlay: a prompt played to one party is heard by it alone, over the
// conversation, and ends by itself; a tone played to every party is heard
// by both until stopped; the call then relays again.
func TestPlay(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	c := liveCall(t, h, p.id)
	ctx := ctxFor(t)
	down := p.down(0)
	tk := speak(t, down, calleeHz)

	clip := media.NewClip(mediatest.Sine(promptHz, 0.3, 8000, 1500*time.Millisecond), false)
	pb, err := c.Play(ctx, p.callerLeg, clip)
	if err != nil {
		t.Fatalf("Play: %v", err)
	}
	start := time.Now()
	select {
	case <-pb.Done():
	case <-time.After(waitFor):
		t.Fatal("a 1.5 s prompt is not over after 5 s")
	}
	end := time.Now()
	if d := end.Sub(start); d < 1400*time.Millisecond {
		t.Errorf("the 1.5 s prompt was over after %s", d)
	}
	from, to := start.Add(200*time.Millisecond), end.Add(-100*time.Millisecond)
	callerHeard := heardBetween(p.callerRTP, from, to)
	hearsTone(t, "the caller during its prompt", callerHeard, promptHz)
	if s := toneShare(callerHeard, calleeHz); s < 0.1 {
		t.Errorf("the caller does not hear the callee under its prompt (%.2f of the energy)", s)
	}
	hearsNot(t, "the callee during the caller's prompt", heardBetween(p.calleeRTP, from, to), promptHz)
	tk.stop()

	// to everyone, until stopped
	pb, err = c.Play(ctx, "", media.NewToneSource(tone.Tone{Freqs: []float64{promptHz}, Level: -10}))
	if err != nil {
		t.Fatalf("Play to all: %v", err)
	}
	from, to = window(time.Second)
	hearsTone(t, "the caller", heardBetween(p.callerRTP, from, to), promptHz)
	hearsTone(t, "the callee", heardBetween(p.calleeRTP, from, to), promptHz)
	if err := pb.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-pb.Done():
	default:
		t.Error("Done is not closed after Stop")
	}

	// back on the relay: the callee's packets reach the caller untouched
	down.fill(t, 0x5A, 5)
	p.callerRTP.waitPackets(t, 5, filled(0x5A))

	if _, err := c.Play(ctx, "no-such-leg", clip); !errors.Is(err, calls.ErrNoSuchLeg) {
		t.Errorf("Play to an unknown leg: %v, want ErrNoSuchLeg", err)
	}
	pb, err = c.Play(ctx, p.calleeLeg, media.NewClip(mediatest.Sine(promptHz, 0.3, 8000, time.Minute), false))
	if err != nil {
		t.Fatalf("Play: %v", err)
	}
	p.hangup(t)
	select {
	case <-pb.Done():
	case <-time.After(waitFor):
		t.Error("a prompt goes on after its call ended")
	}
	if _, err := c.Play(ctx, "", clip); !errors.Is(err, calls.ErrCallEnded) {
		t.Errorf("Play after the call: %v, want ErrCallEnded", err)
	}
}

// addThird has 1003 join call c through the API and returns its phone's
// call, its RTP peer, its stream to Ringdesk and its leg.
func addThird(tb testing.TB, h *harness, c *calls.Call) (*siptest.IncomingCall, *rtpPeer, *stream, calls.LegID) {
	tb.Helper()
	third := h.register(tb, "1003", answer(siptest.Manual))
	rtp3 := newRTPPeer(tb, "third")
	if err := c.AddParticipant(ctxFor(tb), "1003"); err != nil {
		tb.Fatalf("AddParticipant: %v", err)
	}
	ic := incoming(tb, third)
	side := ringdeskMedia(tb, ic.SDP)
	h.ring(tb, ic)
	respond(tb, ic, 200, rtp3.SDP())
	if err := ic.WaitAck(ctxFor(tb)); err != nil {
		tb.Fatalf("1003 got no ACK: %v", err)
	}
	ev := waitEvent(tb, h.Obs, func(e calls.LegConnected) bool { return e.Leg.SIPCallID == ic.CallID() })
	return ic, rtp3, rtp3.newStream(side.RemoteAddr(), 0, 0xC3C3), ev.Leg.ID
}

// TestConferenceAPI: a third party joins through the API; each of the
// three hears the other two. Holding one gives it the music and takes it
// out of the others' ears; resuming brings it back; removing it leaves the
// two others talking; parties and host are reported along the way.
func TestConferenceAPI(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	c := liveCall(t, h, p.id)
	ctx := ctxFor(t)
	ic3, rtp3, s3, leg3 := addThird(t, h, c)
	speak(t, p.up(0), callerHz)
	speak(t, p.down(0), calleeHz)
	speak(t, s3, thirdHz)

	from, to := window(time.Second)
	for _, x := range []struct {
		who   string
		peer  *rtpPeer
		own   float64
		hears []float64
	}{
		{"caller", p.callerRTP, callerHz, []float64{calleeHz, thirdHz}},
		{"callee", p.calleeRTP, calleeHz, []float64{callerHz, thirdHz}},
		{"third", rtp3, thirdHz, []float64{callerHz, calleeHz}},
	} {
		audio := heardBetween(x.peer, from, to)
		for _, f := range x.hears {
			if s := toneShare(audio, f); s < 0.2 {
				t.Errorf("in the conference the %s hears %.0f Hz at %.2f of the energy, want about half", x.who, f, s)
			}
		}
		hearsNot(t, "the "+x.who+" (its own voice)", audio, x.own)
	}
	parties, err := c.Parties(ctx)
	if err != nil || len(parties) != 3 {
		t.Fatalf("Parties = %+v, %v; want three", parties, err)
	}

	if err := c.Hold(ctx, leg3); err != nil {
		t.Fatalf("Hold: %v", err)
	}
	waitEvent(t, h.Obs, func(e calls.PartyHeld) bool { return e.Leg == leg3 })
	from, to = window(time.Second)
	held := heardBetween(rtp3, from, to)
	if mediatest.RMS(held) < 0.01 {
		t.Errorf("the held party hears rms %.3f of full scale, want the hold music", mediatest.RMS(held))
	}
	hearsNot(t, "the held party", held, callerHz)
	hearsNot(t, "the held party", held, calleeHz)
	hearsNot(t, "the caller while 1003 is held", heardBetween(p.callerRTP, from, to), thirdHz)
	hearsTone(t, "the caller while 1003 is held", heardBetween(p.callerRTP, from, to), calleeHz)
	if parties, _ := c.Parties(ctx); !heldParty(parties, leg3) {
		t.Errorf("Parties does not show 1003 held: %+v", parties)
	}

	if err := c.Resume(ctx, leg3); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	res := waitEvent(t, h.Obs, func(e calls.PartyResumed) bool { return e.Leg == leg3 })
	if res.HeldFor < 900*time.Millisecond {
		t.Errorf("PartyResumed.HeldFor = %s, want about a second", res.HeldFor)
	}
	from, to = window(time.Second)
	if s := toneShare(heardBetween(p.callerRTP, from, to), thirdHz); s < 0.2 {
		t.Errorf("after the resume the caller hears 1003 at %.2f of the energy", s)
	}

	if err := c.Remove(ctx, leg3); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	waitBye(t, "1003", ic3)
	waitEvent(t, h.Obs, func(e calls.LegLeft) bool { return e.Leg.ID == leg3 })
	from, to = window(time.Second)
	hearsTone(t, "the caller after 1003 left", heardBetween(p.callerRTP, from, to), calleeHz)
	hearsTone(t, "the callee after 1003 left", heardBetween(p.calleeRTP, from, to), callerHz)
	if err := c.Remove(ctx, leg3); !errors.Is(err, calls.ErrNoSuchLeg) {
		t.Errorf("removing 1003 twice: %v, want ErrNoSuchLeg", err)
	}

	// the host (the callee) leaves: with two parties, that ends the call
	if err := c.Remove(ctx, p.calleeLeg); err != nil {
		var why []string
		for _, e := range h.Obs.forCall(p.id) {
			if ended, ok := e.(calls.CallEnded); ok {
				why = append(why, fmt.Sprintf("ended: cause %s by %s, legs %+v", ended.Record.Cause, ended.Record.HungUpBy, ended.Record.Legs))
			}
		}
		t.Fatalf("Remove the host: %v; events %v %s", err, eventNames(h.Obs.forCall(p.id)), why)
	}
	waitBye(t, "caller", p.call)
	waitBye(t, "callee", p.ic)
	rec := h.ended(t)
	if len(rec.Legs) < 3 {
		t.Errorf("the record has %d legs, want the three parties'", len(rec.Legs))
	}
}

func heldParty(ps []calls.PartyInfo, leg calls.LegID) bool {
	for _, p := range ps {
		if p.Leg == leg {
			return p.Held
		}
	}
	return false
}

// TestHostLeavesConference: when the host of a three-party conference hangs
// up, the others go on and the next party becomes host.
func TestHostLeavesConference(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, nil, nil)
	c := liveCall(t, h, p.id)
	ic3, rtp3, s3, _ := addThird(t, h, c)
	if code, err := p.ic.Bye(ctxFor(t)); err != nil || code != 200 {
		t.Fatalf("the host's BYE: %d %v", code, err)
	}
	hc := waitEvent[calls.HostChanged](t, h.Obs, nil)
	if hc.Host == p.calleeLeg {
		t.Errorf("the host is still the callee who left")
	}
	speak(t, p.up(0), callerHz)
	speak(t, s3, thirdHz)
	from, to := window(time.Second)
	hearsTone(t, "the caller after the host left", heardBetween(p.callerRTP, from, to), thirdHz)
	hearsTone(t, "1003 after the host left", heardBetween(rtp3, from, to), callerHz)
	if err := c.End(ctxFor(t)); err != nil {
		t.Fatalf("End: %v", err)
	}
	waitBye(t, "caller", p.call)
	waitBye(t, "1003", ic3)
	h.ended(t)
}

// TestRecordingAPI: a recording started through the API holds the caller
// on the left and the callee on the right, silence while paused, and lasts
// as long as it ran; a deleted recording leaves no file.
func TestRecordingAPI(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, withCalls(func(c *calls.Config) { c.RecordingsDir = dir }))
	p := h.connect(t, nil, nil)
	c := liveCall(t, h, p.id)
	ctx := ctxFor(t)
	if err := c.PauseRecording(ctx); !errors.Is(err, calls.ErrNotRecording) {
		t.Errorf("PauseRecording before StartRecording: %v, want ErrNotRecording", err)
	}
	speak(t, p.up(0), callerHz)
	speak(t, p.down(0), calleeHz)
	if err := c.StartRecording(ctx); err != nil {
		t.Fatalf("StartRecording: %v", err)
	}
	started := waitEvent[calls.RecordingStarted](t, h.Obs, nil)
	if !strings.HasPrefix(started.Path, dir) || !strings.HasSuffix(started.Path, string(p.id)+".wav") {
		t.Errorf("recording path %s, want %s/YYYY/MM/DD/%s.wav", started.Path, dir, p.id)
	}
	time.Sleep(time.Second) // talk, recorded
	if err := c.PauseRecording(ctx); err != nil {
		t.Fatalf("PauseRecording: %v", err)
	}
	waitEvent[calls.RecordingPaused](t, h.Obs, nil)
	time.Sleep(time.Second) // talk, not recorded
	if err := c.ResumeRecording(ctx); err != nil {
		t.Fatalf("ResumeRecording: %v", err)
	}
	waitEvent[calls.RecordingResumed](t, h.Obs, nil)
	time.Sleep(time.Second) // recorded again
	p.hangup(t)
	rec := h.ended(t)
	if rec.Recording == nil || rec.Recording.Path != started.Path {
		t.Fatalf("record's recording %+v, want %s", rec.Recording, started.Path)
	}
	if d := rec.Recording.Duration; d < 2500*time.Millisecond || d > 3500*time.Millisecond {
		t.Errorf("recording lasts %s, want about 3 s", d)
	}
	a, err := wav.ReadFile(started.Path)
	if err != nil {
		t.Fatalf("the recording does not read: %v", err)
	}
	if len(a.Channels) != 2 || a.Rate != 8000 {
		t.Fatalf("recording has %d channels at %d Hz, want stereo 8 kHz", len(a.Channels), a.Rate)
	}
	left, right := a.Channels[0], a.Channels[1]
	const s = 8000
	seconds := func(ch []int16, from, to float64) []int16 {
		return ch[min(len(ch), int(from*s)):min(len(ch), int(to*s))]
	}
	for _, part := range []struct {
		name     string
		from, to float64
	}{{"before the pause", 0.3, 0.9}, {"after the pause", 2.2, 2.8}} {
		hearsTone(t, "the left channel "+part.name, seconds(left, part.from, part.to), callerHz)
		hearsTone(t, "the right channel "+part.name, seconds(right, part.from, part.to), calleeHz)
	}
	if r := mediatest.RMS(seconds(left, 1.2, 1.8)) + mediatest.RMS(seconds(right, 1.2, 1.8)); r > 0.001 {
		t.Errorf("the paused second is not silent: rms %.4f", r)
	}

	// a second call: recorded, then deleted
	q := h.connect(t, nil, nil)
	c = liveCall(t, h, q.id)
	if err := c.StartRecording(ctx); err != nil {
		t.Fatalf("StartRecording: %v", err)
	}
	path := waitEvent(t, h.Obs, func(e calls.RecordingStarted) bool { return e.Call() == q.id }).Path
	if err := c.DeleteRecording(ctx); err != nil {
		t.Fatalf("DeleteRecording: %v", err)
	}
	waitEvent(t, h.Obs, func(e calls.RecordingDeleted) bool { return e.Call() == q.id })
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the deleted recording is still there: %v", err)
	}
	q.up(0).fill(t, 0x33, 5) // the call goes on, back on the relay
	q.calleeRTP.waitPackets(t, 5, filled(0x33))
	q.hangup(t)
	rec = waitEvent(t, h.Obs, func(e calls.CallEnded) bool { return e.Call() == q.id }).Record
	if rec.Recording == nil || !rec.Recording.Deleted {
		t.Errorf("record's recording %+v, want it marked deleted", rec.Recording)
	}
}

// TestSendDigits: digits sent to a party go as RFC 4733 events when its
// phone negotiated telephone-event and as SIP INFO otherwise.
func TestSendDigits(t *testing.T) {
	h := newHarness(t)
	p := h.connect(t, []string{"PCMU"}, nil) // the caller has no telephone-event
	c := liveCall(t, h, p.id)
	ctx := ctxFor(t)
	if err := c.SendDigits(ctx, p.calleeLeg, "12#"); err != nil {
		t.Fatalf("SendDigits to the callee: %v", err)
	}
	if err := c.SendDigits(ctx, p.callerLeg, "5*"); err != nil {
		t.Fatalf("SendDigits to the caller: %v", err)
	}
	if err := c.SendDigits(ctx, p.callerLeg, "5x"); err == nil {
		t.Error("SendDigits accepted x")
	}

	// RFC 4733: one event per digit, ended, in order (end packets repeat)
	ends := p.calleeRTP.waitPackets(t, 3*3, func(r rxPacket) bool {
		return r.Header.PayloadType == 101 && len(r.Payload) == 4 && r.Payload[1]&0x80 != 0
	})
	var got []byte
	lastTS := map[uint32]bool{}
	for _, r := range ends {
		if !lastTS[r.Header.Timestamp] {
			lastTS[r.Header.Timestamp] = true
			got = append(got, r.Payload[0])
		}
	}
	if string(got) != "\x01\x02\x0b" {
		t.Errorf("events to the callee %v, want 1 2 11", got)
	}

	// INFO: one request per digit, in order
	deadline := time.Now().Add(waitFor)
	var infos []string
	for time.Now().Before(deadline) {
		infos = infos[:0]
		for _, m := range p.call.Received() {
			if m.Method == "INFO" {
				infos = append(infos, m.Header("Content-Type")+" "+strings.Fields(string(m.Body))[0])
			}
		}
		if len(infos) >= 2 {
			break
		}
		time.Sleep(10 * time.Millisecond) // bounded poll of the phone's requests
	}
	want := []string{"application/dtmf-relay Signal=5", "application/dtmf-relay Signal=*"}
	if !slices.Equal(infos, want) {
		t.Errorf("INFO to the caller %q, want %q", infos, want)
	}
	p.hangup(t)
}
