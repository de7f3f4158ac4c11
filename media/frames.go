package media

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/ringdesk/ringdesk/media/jitter"
)

// Audio inside Ringdesk is 20 ms frames of 16-bit linear PCM. The engine
// runs at 8 kHz (G.711's rate); the frame size follows the rate, so 16 kHz
// codecs fit by raising SampleRate's use sites, not by changing types.
const (
	SampleRate    = 8000
	FrameDuration = 20 * time.Millisecond
	FrameSamples  = SampleRate / int(time.Second/FrameDuration) // 160
)

// FrameSource produces audio one frame at a time: a session's jitter
// buffer, a prompt, a tone. ReadFrame fills dst (FrameSamples long) and
// reports false once the source has ended (dst is then silence).
type FrameSource interface {
	ReadFrame(dst []int16) bool
}

// startFrames switches the session to frame mode: received audio is
// decoded into a jitter buffer (read by a mixer) instead of being relayed.
func (s *Session) startFrames() (*jitter.Buffer, error) {
	if b := s.input.Load(); b != nil {
		return b, nil
	}
	b, err := jitter.New(jitter.Config{ClockRate: SampleRate, FrameSamples: FrameSamples})
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", s, err)
	}
	if !s.input.CompareAndSwap(nil, b) {
		return s.input.Load(), nil
	}
	return b, nil
}

// stopFrames returns the session to the relay path.
func (s *Session) stopFrames() { s.input.Store(nil) }

// InFrameMode reports whether received audio goes to a mixer.
func (s *Session) InFrameMode() bool { return s.input.Load() != nil }

// everyFrame calls tick every FrameDuration until stop is closed: the
// clock of a mixer or a music stream. A panic in tick is logged with msg
// and ends the loop, not the process.
func everyFrame(stop <-chan struct{}, tick func(), log *slog.Logger, msg string) {
	defer func() {
		if r := recover(); r != nil {
			log.Error(msg, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	t := time.NewTicker(FrameDuration)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			tick()
		}
	}
}
