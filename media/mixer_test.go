package media

import (
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"

	"github.com/ringdesk/ringdesk/media/dtmf"
	"github.com/ringdesk/ringdesk/media/wav"
)

// tonePhone is a phone that sends a sine tone as PCMU every 20 ms.
type tonePhone struct {
	conn  *pipeConn
	to    netip.AddrPort
	freq  float64
	n     int // samples sent
	seq   uint16
	ts    uint32
	ssrc  uint32
	codec G711
}

func (p *tonePhone) frame(tb testing.TB) []byte {
	tb.Helper()
	pcm := make([]int16, FrameSamples)
	for i := range pcm {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*p.freq*float64(p.n+i)/SampleRate))
	}
	p.n += FrameSamples
	payload := make([]byte, FrameSamples)
	codec := p.codec
	if codec == G711Unknown {
		codec = PCMU
	}
	codec.Encode(payload, pcm)
	b := rtpBytes(tb, rtp.Header{PayloadType: codec.PayloadType(), SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}, payload)
	p.seq++
	p.ts += uint32(FrameSamples)
	return b
}

// talkTogether makes every phone send n frames, 20 ms apart.
func talkTogether(tb testing.TB, n int, phones ...*tonePhone) {
	tb.Helper()
	for range n {
		for _, p := range phones {
			if p.freq > 0 {
				p.conn.send(tb, p.to, p.frame(tb))
			}
		}
		time.Sleep(FrameDuration)
	}
	synctest.Wait()
}

// heard decodes the audio a phone received (any G.711 law).
func heard(tb testing.TB, c *pipeConn) []int16 {
	tb.Helper()
	synctest.Wait()
	var pcm []int16
	for _, d := range c.drain() {
		var p rtp.Packet
		if err := p.Unmarshal(d.b); err != nil {
			tb.Fatalf("not RTP: %v", err)
		}
		out := make([]int16, len(p.Payload))
		if p.PayloadType == 8 {
			PCMA.Decode(out, p.Payload)
		} else {
			PCMU.Decode(out, p.Payload)
		}
		pcm = append(pcm, out...)
	}
	return pcm
}

// power is the Goertzel power of freq in pcm, normalised by the length.
func power(pcm []int16, freq float64) float64 {
	if len(pcm) == 0 {
		return 0
	}
	k := 2 * math.Cos(2*math.Pi*freq/SampleRate)
	var s1, s2 float64
	for _, v := range pcm {
		s := float64(v) + k*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	return p / float64(len(pcm)) / float64(len(pcm))
}

type mixRig struct {
	net    *pipeNet
	phones []*tonePhone
	sess   []*Session
}

func newMixRig(t *testing.T, freqs ...float64) *mixRig {
	t.Helper()
	r := &mixRig{net: newPipeNet()}
	for i, f := range freqs {
		conn := r.net.listen(t, netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}), 4000).String())
		s := newPipeSession(t, r.net, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1}), uint16(20000+2*i)).String())
		s.SetParams(phoneParams(conn.addr, PCMU))
		r.sess = append(r.sess, s)
		r.phones = append(r.phones, &tonePhone{conn: conn, to: s.LocalAddr(), freq: f, ssrc: uint32(1000 + i), seq: uint16(i * 1000)})
	}
	return r
}

// hears reports whether pcm carries freq clearly (against a floor).
func hears(pcm []int16, freq float64) bool { return power(pcm, freq) > 1e5 }

func TestMixerEachHearsTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		freqs := []float64{440, 700, 1100}
		r := newMixRig(t, freqs...)
		m := NewMixer(nil, discardLog())
		defer m.Close()
		for _, s := range r.sess {
			if _, err := m.Add(s, ParticipantOptions{Channel: ChannelAgent}); err != nil {
				t.Fatal(err)
			}
		}
		talkTogether(t, 100, r.phones...)
		for i, p := range r.phones {
			pcm := heard(t, p.conn)
			if len(pcm) < 90*FrameSamples {
				t.Fatalf("phone %d heard %d samples, want about %d", i, len(pcm), 100*FrameSamples)
			}
			for j, f := range freqs {
				if got := hears(pcm, f); got != (i != j) {
					t.Errorf("phone %d (%.0f Hz) hears %.0f Hz: %v (power %.3g)", i, freqs[i], f, got, power(pcm, f))
				}
			}
		}
	})
}

func TestMixerMuteHoldRemove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		freqs := []float64{440, 700, 1100}
		r := newMixRig(t, freqs...)
		music, err := NewMusicStream("test", sine(300, 2*SampleRate), discardLog())
		if err != nil {
			t.Fatal(err)
		}
		defer music.Close()
		m := NewMixer(music, discardLog())
		defer m.Close()
		var parts []*Participant
		for _, s := range r.sess {
			part, err := m.Add(s, ParticipantOptions{Channel: ChannelAgent})
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, part)
		}
		talkTogether(t, 10, r.phones...)
		for _, p := range r.phones {
			heard(t, p.conn)
		}

		parts[0].SetMuted(true) // 440 is not heard, but hears
		talkTogether(t, 50, r.phones...)
		a, b, c := heard(t, r.phones[0].conn), heard(t, r.phones[1].conn), heard(t, r.phones[2].conn)
		if !hears(a, 700) || !hears(a, 1100) || hears(b, 440) || hears(c, 440) || !hears(b, 1100) {
			t.Errorf("muted: a hears 700/1100 %v/%v; b hears 440 %v; c hears 440 %v", hears(a, 700), hears(a, 1100), hears(b, 440), hears(c, 440))
		}
		parts[0].SetMuted(false)

		parts[1].SetHeld(true) // 700 hears music only and is not heard
		talkTogether(t, 50, r.phones...)
		a, b, c = heard(t, r.phones[0].conn), heard(t, r.phones[1].conn), heard(t, r.phones[2].conn)
		if !hears(b, 300) || hears(b, 440) || hears(b, 1100) {
			t.Errorf("held: hears music %v, 440 %v, 1100 %v", hears(b, 300), hears(b, 440), hears(b, 1100))
		}
		if hears(a, 700) || hears(c, 700) || !hears(a, 1100) || !hears(c, 440) {
			t.Error("held party still heard, or the others lost each other")
		}
		if music.Listeners() != 1 {
			t.Errorf("music listeners = %d, want 1", music.Listeners())
		}
		parts[1].SetHeld(false)
		if music.Listeners() != 0 {
			t.Errorf("music listeners after resume = %d", music.Listeners())
		}

		parts[2].Remove() // the others go on
		talkTogether(t, 50, r.phones...)
		a, b = heard(t, r.phones[0].conn), heard(t, r.phones[1].conn)
		if !hears(a, 700) || !hears(b, 440) || hears(a, 1100) || hears(b, 1100) {
			t.Error("after remove: the remaining two do not hear just each other")
		}
		if r.sess[2].InFrameMode() {
			t.Error("removed session still in frame mode")
		}
		if got := heard(t, r.phones[2].conn); len(got) > 0 {
			t.Errorf("removed party got %d samples", len(got))
		}
	})
}

func sine(freq float64, n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(5000 * math.Sin(2*math.Pi*freq*float64(i)/SampleRate))
	}
	return pcm
}

func TestMixClipping(t *testing.T) {
	var sum [FrameSamples]int32
	var own, out [FrameSamples]int16
	sum[0], sum[1], sum[2] = 3*32767, -3*32768, 1000
	own[2] = 300
	mixMinus(&out, &sum, &own)
	if out[0] != 32767 || out[1] != -32768 || out[2] != 700 {
		t.Errorf("mixMinus = %v", out[:3])
	}
}

func TestPlayerIntoSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newMixRig(t, 0)
		m := NewMixer(nil, discardLog())
		defer m.Close()
		if _, err := m.Add(r.sess[0], ParticipantOptions{Channel: ChannelAgent}); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		m.Play(NewClip(sine(500, SampleRate/2), false), ChannelNone, func() { close(done) })
		time.Sleep(time.Second)
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("half-second clip not done after a second")
		}
		pcm := heard(t, r.phones[0].conn)
		if !hears(pcm, 500) {
			t.Error("the prompt was not heard")
		}
		if m.Participants() != 1 {
			t.Errorf("participants = %d, want the session only", m.Participants())
		}
	})
}

// TestPlayToOneParticipant: a prompt played to one participant is heard by
// it over the others, by nobody else, not recorded, and ends when its
// listener leaves.
func TestPlayToOneParticipant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newMixRig(t, 0, 700)
		m := NewMixer(nil, discardLog())
		defer m.Close()
		var parts []*Participant
		for _, s := range r.sess {
			p, err := m.Add(s, ParticipantOptions{Channel: ChannelAgent})
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, p)
		}
		tap := &tapRecorder{}
		m.SetTap(tap)
		done := make(chan struct{})
		m.PlayTo(NewClip(sine(500, SampleRate*4), false), parts[0], func() { close(done) })
		talkTogether(t, 25, r.phones...)
		first, second := heard(t, r.phones[0].conn), heard(t, r.phones[1].conn)
		if !hears(first, 500) || !hears(first, 700) {
			t.Errorf("the listener should hear the prompt (%.3g) over the other party (%.3g)", power(first, 500), power(first, 700))
		}
		if hears(second, 500) {
			t.Errorf("the other party hears the prompt (power %.3g)", power(second, 500))
		}
		if hears(tap.right, 500) {
			t.Errorf("the prompt was recorded (power %.3g)", power(tap.right, 500))
		}
		parts[0].Remove()
		time.Sleep(2 * FrameDuration)
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("the prompt goes on after its listener left")
		}
		if n := m.Participants(); n != 1 {
			t.Errorf("participants = %d, want 1", n)
		}
	})
}

// tapRecorder keeps what a mixer's tap received.
type tapRecorder struct {
	mu          sync.Mutex
	left, right []int16
}

func (r *tapRecorder) WriteFrame(left, right []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.left = append(r.left, left...)
	r.right = append(r.right, right...)
}

func TestMusicStreamShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newMixRig(t, 0, 0, 0)
		p := r.sess[2].Params()
		p.Codec, p.PayloadType = PCMA, 8
		r.sess[2].SetParams(p)
		music, err := NewMusicStream("test", sine(300, SampleRate), discardLog())
		if err != nil {
			t.Fatal(err)
		}
		defer music.Close()
		for _, s := range r.sess {
			music.Add(s)
			music.Add(s)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		var counts []int
		for i, ph := range r.phones {
			pcm := heard(t, ph.conn)
			counts = append(counts, len(pcm)/FrameSamples)
			if !hears(pcm, 300) {
				t.Errorf("listener %d does not hear the music", i)
			}
		}
		if counts[0] != counts[1] || counts[1] != counts[2] || counts[0] < 45 {
			t.Errorf("frames per listener = %v, want the same, about 50", counts)
		}
		_ = r.sess[1].Close()
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if music.Listeners() != 2 {
			t.Errorf("listeners after a session closed = %d, want 2", music.Listeners())
		}
	})
}

func TestRecorderStereo(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "2026", "11", "21", "call.wav")
	synctest.Test(t, func(t *testing.T) {
		r := newMixRig(t, 440, 1000)
		m := NewMixer(nil, discardLog())
		defer m.Close()
		if _, err := m.Add(r.sess[0], ParticipantOptions{Channel: ChannelCustomer}); err != nil {
			t.Fatal(err)
		}
		m.Add(r.sess[1], ParticipantOptions{Channel: ChannelAgent})
		rec, err := StartRecorder(path, discardLog())
		if err != nil {
			t.Fatal(err)
		}
		m.SetTap(rec)
		talkTogether(t, 100, r.phones...)
		m.SetTap(nil)
		res, err := rec.Stop()
		if err != nil {
			t.Fatal(err)
		}
		if res.Duration < 1900*time.Millisecond || res.Duration > 2100*time.Millisecond {
			t.Errorf("duration %s, want about 2s", res.Duration)
		}
		st, err := os.Stat(path)
		if err != nil || st.Size() != res.Size {
			t.Errorf("size %d on disk, %v; reported %d", st.Size(), err, res.Size)
		}
	})
	a, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Channels) != 2 {
		t.Fatalf("%d channels", len(a.Channels))
	}
	left, right := a.Channels[0], a.Channels[1]
	if !hears(left, 440) || hears(left, 1000) || !hears(right, 1000) || hears(right, 440) {
		t.Errorf("left 440/1000: %v/%v, right 440/1000: %v/%v", hears(left, 440), hears(left, 1000), hears(right, 440), hears(right, 1000))
	}
}

func TestRecorderPauseAndDelete(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "call.wav")
	rec, err := StartRecorder(path, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	loud := sine(400, FrameSamples) // whole periods: repeats without a seam
	for range 50 {
		rec.WriteFrame(loud, loud)
	}
	rec.Pause()
	for range 50 {
		rec.WriteFrame(loud, loud)
	}
	rec.Resume()
	res, err := rec.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if res.Duration != 2*time.Second {
		t.Errorf("duration %s, want 2s (paused time kept as silence)", res.Duration)
	}
	a, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := a.Channels[0]
	if !hears(l[:50*FrameSamples], 400) || power(l[50*FrameSamples:], 400) != 0 {
		t.Error("paused part is not silence, or the rest is not the tone")
	}
	if _, err := StartRecorder(path, discardLog()); err == nil {
		t.Error("recording over an existing file succeeded")
	}

	rec2, err := StartRecorder(filepath.Join(dir, "b.wav"), discardLog())
	if err != nil {
		t.Fatal(err)
	}
	rec2.WriteFrame(loud, loud)
	got, err := rec2.Delete()
	if err != nil || !got.Deleted {
		t.Fatalf("Delete = %+v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b.wav")); !os.IsNotExist(err) {
		t.Errorf("file still there: %v", err)
	}
}

func TestDigitsFromRFC4733(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newMixRig(t, 0)
		var got []Digit
		r.sess[0].OnDigit(func(d Digit) { got = append(got, d) })
		ph := r.phones[0]
		ts := uint32(8000)
		seq := uint16(1)
		for _, d := range "19#" {
			code, _ := dtmf.EventCode(dtmf.Digit(d))
			for i := range 8 {
				ph.conn.send(t, ph.to, rtpBytes(t, rtp.Header{Marker: i == 0, PayloadType: dtmfPT, SequenceNumber: seq, Timestamp: ts, SSRC: 9},
					dtmfPayload(code, false, 10, uint16(160*(i+1)))))
				seq++
				time.Sleep(FrameDuration)
			}
			for range 3 { // the end, three times
				ph.conn.send(t, ph.to, rtpBytes(t, rtp.Header{PayloadType: dtmfPT, SequenceNumber: seq, Timestamp: ts, SSRC: 9},
					dtmfPayload(code, true, 10, 1280)))
				seq++
			}
			ts += 4000
			time.Sleep(100 * time.Millisecond)
		}
		synctest.Wait()
		s := ""
		for _, d := range got {
			s += string(rune(d.Digit))
			if d.Source != DigitRFC4733 {
				t.Errorf("source %q", d.Source)
			}
		}
		if s != "19#" {
			t.Errorf("digits %q, want 19#", s)
		}
	})
}

func TestDigitsInband(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newMixRig(t, 0)
		m := NewMixer(nil, discardLog())
		defer m.Close()
		var got []Digit
		r.sess[0].OnDigit(func(d Digit) { got = append(got, d) })
		if _, err := m.Add(r.sess[0], ParticipantOptions{Channel: ChannelCustomer, DetectInband: true}); err != nil {
			t.Fatal(err)
		}
		ph := r.phones[0]
		var pcm []int16
		pcm = append(pcm, make([]int16, SampleRate/2)...)
		for _, d := range "0123456789*#" {
			pcm = append(pcm, dtmf.Tone(dtmf.Digit(d), SampleRate, 100*time.Millisecond, 0.25)...)
			pcm = append(pcm, make([]int16, SampleRate/10)...)
		}
		pcm = append(pcm, make([]int16, SampleRate/2)...)
		for off := 0; off+FrameSamples <= len(pcm); off += FrameSamples {
			payload := make([]byte, FrameSamples)
			PCMU.Encode(payload, pcm[off:off+FrameSamples])
			ph.conn.send(t, ph.to, rtpBytes(t, rtp.Header{PayloadType: 0, SequenceNumber: ph.seq, Timestamp: ph.ts, SSRC: 5}, payload))
			ph.seq++
			ph.ts += uint32(FrameSamples)
			time.Sleep(FrameDuration)
		}
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		s := ""
		for _, d := range got {
			s += string(rune(d.Digit))
		}
		if s != "0123456789*#" {
			t.Errorf("in-band digits %q", s)
		}
	})
}

func TestSendDigit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newMixRig(t, 0)
		ph := r.phones[0]
		// latch first, so the session knows where to send
		ph.conn.send(t, ph.to, ph.frame(t))
		synctest.Wait()
		if err := r.sess[0].SendDigit(t.Context(), '5', 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		var events []rtp.Packet
		for _, d := range ph.conn.drain() {
			var p rtp.Packet
			if err := p.Unmarshal(d.b); err != nil {
				t.Fatal(err)
			}
			if p.PayloadType == dtmfPT {
				events = append(events, p)
			}
		}
		if len(events) < 6 {
			t.Fatalf("%d event packets", len(events))
		}
		ends := 0
		for i, p := range events {
			if p.Timestamp != events[0].Timestamp || (i == 0) != p.Marker {
				t.Errorf("packet %d: ts %d marker %v", i, p.Timestamp, p.Marker)
			}
			if i > 0 && p.SequenceNumber != events[i-1].SequenceNumber+1 {
				t.Errorf("packet %d: seq %d after %d", i, p.SequenceNumber, events[i-1].SequenceNumber)
			}
			ev, err := dtmf.ParseEvent(p.Payload)
			if err != nil || ev.Code != 5 {
				t.Errorf("packet %d: %+v %v", i, ev, err)
			}
			if ev.End {
				ends++
			}
		}
		if ends != 3 {
			t.Errorf("%d end packets, want 3", ends)
		}
		p := r.sess[0].Params()
		p.DTMFPayloadType = 0
		r.sess[0].SetParams(p)
		if err := r.sess[0].SendDigit(t.Context(), '5', 100*time.Millisecond); err == nil {
			t.Error("SendDigit without telephone-event succeeded")
		}
	})
}

// A mono recording (voicemail) keeps the tap's left channel only.
func TestRecorderMono(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vm.wav")
	rec, err := StartMonoRecorder(path, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	voice, other := sine(400, FrameSamples), sine(1000, FrameSamples)
	for range 50 {
		rec.WriteFrame(voice, other)
	}
	res, err := rec.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if res.Duration != time.Second {
		t.Errorf("duration %s, want 1s", res.Duration)
	}
	a, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Channels) != 1 || !hears(a.Channels[0], 400) || hears(a.Channels[0], 1000) {
		t.Errorf("%d channels; want one holding 400 Hz only", len(a.Channels))
	}
}
