package media

import (
	"log/slog"
	"sync"

	"github.com/ringdesk/ringdesk/media/dtmf"
	"github.com/ringdesk/ringdesk/media/jitter"
)

// Recording channels of a participant.
const (
	ChannelNone     = -1 // not recorded (prompts, tones)
	ChannelCustomer = 0  // left
	ChannelAgent    = 1  // right
)

// FrameTap receives what a mixer mixes each frame: the sum of the
// customer-side participants (left) and of the agent side (right). It is
// called from the mixer's ticker and must not block (a Recorder).
type FrameTap interface {
	WriteFrame(left, right []int16)
}

// Mixer joins any number of participants: each hears the sum of the others
// but not itself, clipped to 16 bits. A participant can be muted (hears,
// is not heard), held (neither: it hears the mixer's hold music, a shared
// MusicStream) or removed while the others go on. Prompts and tones join as
// sources that are heard and hear nothing. One goroutine, started by
// NewMixer and stopped by Close, mixes a frame every 20 ms.
type Mixer struct {
	log   *slog.Logger
	music *MusicStream

	mu    sync.Mutex
	parts []*Participant
	tap   FrameTap
	sum   [FrameSamples]int32
	left  [FrameSamples]int32
	right [FrameSamples]int32
	outL  [FrameSamples]int16
	outR  [FrameSamples]int16
	ended []*Participant
	sends []*Participant // who gets its out frame this tick (ticker only)

	stop     chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// Participant is one input and output of a Mixer.
type Participant struct {
	m       *Mixer
	sess    *Session       // nil for a source-only participant
	buf     *jitter.Buffer // the session's input
	src     FrameSource    // a prompt or tone
	to      *Participant   // a source heard by this participant only
	done    func()         // called once a source ends or is removed
	channel int
	detect  *dtmf.Detector

	// guarded by m.mu
	muted, deaf, held, removed bool
	active, sending            bool
	in                         [FrameSamples]int16
	out                        [FrameSamples]int16 // what it hears this tick (ticker only)
}

// ParticipantOptions say how a session joins a mixer.
type ParticipantOptions struct {
	// Channel is the recording channel: ChannelCustomer, ChannelAgent or
	// ChannelNone.
	Channel int
	// DetectInband runs an in-band DTMF detector on the participant's
	// audio; digits go to the session's OnDigit.
	DetectInband bool
}

// NewMixer starts a mixer; music (may be nil) is what held participants hear.
func NewMixer(music *MusicStream, log *slog.Logger) *Mixer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Mixer{log: log, music: music, stop: make(chan struct{})}
	m.wg.Go(func() { everyFrame(m.stop, m.Tick, m.log, "mixer panicked") })
	return m
}

// Add joins a session: from now on its received audio is decoded into a
// jitter buffer and mixed, and it hears the mix instead of any relay peer.
func (m *Mixer) Add(s *Session, opts ParticipantOptions) (*Participant, error) {
	buf, err := s.startFrames()
	if err != nil {
		return nil, err
	}
	s.SetPeer(nil)
	p := &Participant{m: m, sess: s, buf: buf, channel: opts.Channel}
	if opts.DetectInband {
		p.detect = dtmf.NewDetector(SampleRate)
	}
	m.mu.Lock()
	m.parts = append(m.parts, p)
	m.mu.Unlock()
	return p, nil
}

// Play adds a source heard by every participant until it ends or is
// removed; done (may be nil) is called once then, from the mixer's
// goroutine or Remove's caller, and must not block.
func (m *Mixer) Play(src FrameSource, channel int, done func()) *Participant {
	p := &Participant{m: m, src: src, done: done, channel: channel}
	m.mu.Lock()
	m.parts = append(m.parts, p)
	m.mu.Unlock()
	return p
}

// PlayTo adds a source heard by participant to alone (a prompt into one
// leg of a conference, a whisper to an agent), over what it hears from
// the others; it is not recorded. The source ends when to is removed.
// done is as for Play.
func (m *Mixer) PlayTo(src FrameSource, to *Participant, done func()) *Participant {
	p := &Participant{m: m, src: src, to: to, done: done, channel: ChannelNone}
	m.mu.Lock()
	m.parts = append(m.parts, p)
	m.mu.Unlock()
	return p
}

// SetTap sets (or with nil, clears) the mixer's recording tap.
func (m *Mixer) SetTap(t FrameTap) {
	m.mu.Lock()
	m.tap = t
	m.mu.Unlock()
}

// Participants is how many participants (sessions and sources) are joined.
func (m *Mixer) Participants() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.parts)
}

// SetMuted mutes or unmutes the participant: muted, it still hears the others.
func (p *Participant) SetMuted(muted bool) {
	p.m.mu.Lock()
	p.muted = muted
	p.m.mu.Unlock()
}

// SetDeaf stops (or restarts) sending the mix to the participant, for
// when something else feeds its session (a shared MusicStream).
func (p *Participant) SetDeaf(deaf bool) {
	p.m.mu.Lock()
	p.deaf = deaf
	p.m.mu.Unlock()
}

// SetHeld holds or resumes the participant: held, it is not heard and
// hears the mixer's hold music instead of the others.
func (p *Participant) SetHeld(held bool) {
	m := p.m
	m.mu.Lock()
	if p.held == held || p.removed {
		m.mu.Unlock()
		return
	}
	p.held = held
	m.mu.Unlock()
	if p.sess != nil && m.music != nil {
		if held {
			m.music.Add(p.sess)
		} else {
			m.music.Remove(p.sess)
		}
	}
}

// Held reports whether the participant is held.
func (p *Participant) Held() bool {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	return p.held
}

// Session is the participant's session, nil for a source.
func (p *Participant) Session() *Session { return p.sess }

// Remove takes the participant out of the mix; its session returns to the
// relay path (with no peer). Idempotent.
func (p *Participant) Remove() {
	m := p.m
	m.mu.Lock()
	if p.removed {
		m.mu.Unlock()
		return
	}
	p.removed = true
	held := p.held
	for i, q := range m.parts {
		if q == p {
			m.parts = append(m.parts[:i], m.parts[i+1:]...)
			break
		}
	}
	m.mu.Unlock()
	p.detach(held)
}

func (p *Participant) detach(held bool) {
	if p.sess != nil {
		p.sess.stopFrames()
		if held && p.m.music != nil {
			p.m.music.Remove(p.sess)
		}
	}
	if p.done != nil {
		p.done()
	}
}

// Close stops the mixer and detaches every participant. Idempotent.
func (m *Mixer) Close() {
	m.stopOnce.Do(func() {
		close(m.stop)
		m.wg.Wait()
		m.mu.Lock()
		parts := m.parts
		m.parts = nil
		for _, p := range parts {
			p.removed = true
		}
		m.mu.Unlock()
		for _, p := range parts {
			p.detach(p.held)
		}
	})
}

// Tick mixes one frame: every participant's input is read, and every
// session that is not held is sent the sum of the others. The ticker calls
// it every 20 ms; benchmarks call it directly.
func (m *Mixer) Tick() {
	m.mu.Lock()
	clear(m.sum[:])
	tap := m.tap
	if tap != nil {
		clear(m.left[:])
		clear(m.right[:])
	}
	for _, p := range m.parts {
		p.active = false
		if p.sess != nil {
			p.buf.Pop(p.in[:])
			if p.detect != nil {
				if d, ok := p.detect.Process(p.in[:]); ok {
					p.sess.digit(d, DigitInband)
				}
			}
			if p.muted || p.held {
				continue
			}
		} else {
			if p.to != nil && p.to.removed {
				m.ended = append(m.ended, p)
				continue
			}
			if !p.src.ReadFrame(p.in[:]) {
				m.ended = append(m.ended, p)
			}
			if p.to != nil {
				p.active = true // mixed into its listener's frame below
				continue
			}
		}
		p.active = true
		addTo(&m.sum, &p.in)
		if tap != nil {
			switch p.channel {
			case ChannelCustomer:
				addTo(&m.left, &p.in)
			case ChannelAgent:
				addTo(&m.right, &p.in)
			}
		}
	}
	m.sends = m.sends[:0]
	whispers := false
	for _, p := range m.parts {
		p.sending = false
		if p.sess == nil {
			whispers = whispers || p.to != nil
			continue
		}
		if p.held || p.deaf {
			continue
		}
		if p.active {
			mixMinus(&p.out, &m.sum, &p.in)
		} else {
			clip(&p.out, &m.sum)
		}
		p.sending = true
		m.sends = append(m.sends, p)
	}
	if whispers {
		for _, p := range m.parts {
			if p.to != nil && p.active && p.to.sending {
				addClipped(&p.to.out, &p.in)
			}
		}
	}
	if tap != nil {
		clip(&m.outL, &m.left)
		clip(&m.outR, &m.right)
		tap.WriteFrame(m.outL[:], m.outR[:])
	}
	ended := m.ended
	m.ended = m.ended[:0]
	m.mu.Unlock()
	// Sending happens outside the lock: call supervisors adding, holding or
	// removing participants never wait for a round of socket writes.
	for i, p := range m.sends {
		p.sess.WriteFrame(m, p.out[:])
		m.sends[i] = nil
	}
	for _, p := range ended {
		p.Remove()
	}
}

func addTo(sum *[FrameSamples]int32, in *[FrameSamples]int16) {
	for i, v := range in {
		sum[i] += int32(v)
	}
}

// mixMinus writes sum minus own, clipped: what a participant hears.
func mixMinus(out *[FrameSamples]int16, sum *[FrameSamples]int32, own *[FrameSamples]int16) {
	for i, v := range sum {
		out[i] = clip16(v - int32(own[i]))
	}
}

// addClipped adds in to out, clipped.
func addClipped(out, in *[FrameSamples]int16) {
	for i, v := range in {
		out[i] = clip16(int32(out[i]) + int32(v))
	}
}

func clip(out *[FrameSamples]int16, sum *[FrameSamples]int32) {
	for i, v := range sum {
		out[i] = clip16(v)
	}
}

// clip16 saturates a sum to 16 bits: hard clipping, the safe choice that
// never wraps a loud sum into the opposite sign.
func clip16(v int32) int16 {
	return int16(min(max(v, -32768), 32767)) //nolint:gosec // clamped
}
