package media

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// MusicStream plays one hold-music source, looped, to any number of
// listening sessions at once. The audio is encoded in both G.711 laws once,
// when the stream is made; each 20 ms the same frame goes to every
// listener, so a held caller costs a slot in a slice and one packet per
// frame, never a decoder or an encoder.
type MusicStream struct {
	name string
	ulaw []byte // the whole loop, FrameSamples bytes per frame
	alaw []byte
	log  *slog.Logger

	mu        sync.Mutex
	listeners []*Session
	index     map[*Session]int
	pos       int        // byte offset of the next frame
	sends     []*Session // this tick's listeners (ticker only)

	stop     chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// ErrNoAudio: a music source without samples.
var ErrNoAudio = errors.New("no audio")

// NewMusicStream encodes pcm (8 kHz mono) and starts the stream's ticker;
// Close stops it. The loop is padded with silence to whole frames.
func NewMusicStream(name string, pcm []int16, log *slog.Logger) (*MusicStream, error) {
	if len(pcm) < FrameSamples {
		return nil, fmt.Errorf("music %s: %w (%d samples)", name, ErrNoAudio, len(pcm))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := (len(pcm) + FrameSamples - 1) / FrameSamples * FrameSamples
	padded := make([]int16, n)
	copy(padded, pcm)
	m := &MusicStream{
		name:  name,
		ulaw:  make([]byte, n),
		alaw:  make([]byte, n),
		log:   log,
		index: make(map[*Session]int),
		stop:  make(chan struct{}),
	}
	PCMU.Encode(m.ulaw, padded)
	PCMA.Encode(m.alaw, padded)
	m.wg.Go(func() { everyFrame(m.stop, m.Tick, m.log.With("music", m.name), "music stream panicked") })
	return m, nil
}

// Name is the music source's name.
func (m *MusicStream) Name() string { return m.name }

// Add makes s hear the music (once; adding twice does nothing).
func (m *MusicStream) Add(s *Session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.index[s]; ok {
		return
	}
	m.index[s] = len(m.listeners)
	m.listeners = append(m.listeners, s)
}

// Remove stops the music for s.
func (m *MusicStream) Remove(s *Session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(s)
}

func (m *MusicStream) removeLocked(s *Session) {
	i, ok := m.index[s]
	if !ok {
		return
	}
	last := len(m.listeners) - 1
	m.listeners[i] = m.listeners[last]
	m.index[m.listeners[i]] = i
	m.listeners[last] = nil
	m.listeners = m.listeners[:last]
	delete(m.index, s)
}

// Listening reports whether s hears the music.
func (m *MusicStream) Listening(s *Session) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.index[s]
	return ok
}

// Listeners is how many sessions hear the music.
func (m *MusicStream) Listeners() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.listeners)
}

// Frame returns the music's current frame decoded (for mixers and tests).
func (m *MusicStream) Frame(dst []int16) {
	m.mu.Lock()
	pos := m.pos
	m.mu.Unlock()
	PCMU.Decode(dst, m.ulaw[pos:pos+FrameSamples])
}

// Close stops the stream; listeners hear nothing more. Idempotent.
func (m *MusicStream) Close() {
	m.stopOnce.Do(func() {
		close(m.stop)
		m.wg.Wait()
	})
}

// Tick sends the next frame to every listener; sessions closed meanwhile
// leave the list. The ticker calls it every 20 ms. The sends happen outside
// the lock, so holding and resuming callers never wait for them.
func (m *MusicStream) Tick() {
	m.mu.Lock()
	ulaw := m.ulaw[m.pos : m.pos+FrameSamples]
	alaw := m.alaw[m.pos : m.pos+FrameSamples]
	m.pos += FrameSamples
	if m.pos >= len(m.ulaw) {
		m.pos = 0
	}
	for i := 0; i < len(m.listeners); {
		if s := m.listeners[i]; s.closed.Load() {
			m.removeLocked(s)
			continue
		}
		i++
	}
	m.sends = append(m.sends[:0], m.listeners...)
	m.mu.Unlock()
	for i, s := range m.sends {
		s.writeEncoded(m, ulaw, alaw)
		m.sends[i] = nil
	}
}
