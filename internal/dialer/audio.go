package dialer

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/dtmf"
	"github.com/ringdesk/ringdesk/media/wav"
)

const (
	// InbandLevel is the level of each of the two tones of an in-band
	// digit, in dBm0: a phone's usual -7 dBm0 (ITU-T Q.23 allows -3 to
	// -20), well above what detectors need (Ringdesk's: -30).
	InbandLevel = -7.0
	// ToneLevel is the level of Script.Tone, in dBm0.
	ToneLevel = -10.0
	// inbandDuck scales the audio under an in-band digit (-20 dB): the
	// digit is mixed into the audio, but a detector's check that the two
	// tones carry most of the energy (speech and music fail it) must pass.
	inbandDuck = 0.1
	// inbandPause is the silence kept after an in-band digit before the
	// next one may start: detectors need a gap to count a key twice.
	inbandPause = 60 * time.Millisecond
	// fullScaleDBm0 is the level of a full-scale sine (ITU-T G.711).
	fullScaleDBm0 = 3.14
	// heardWithin: a frame counts as heard when RTP arrived this recently.
	heardWithin = 3 * media.FrameDuration
	// recordQueue bounds the frames waiting for the disk (5 s).
	recordQueue = 250
	// recordFlushEvery is how often the recording's header is brought up
	// to date, so an interrupted run leaves a playable file.
	recordFlushEvery = 25 // frames: 500 ms
)

// amplitude returns the peak, as a fraction of full scale, of a sine at
// level dBm0.
func amplitude(level float64) float64 {
	return math.Pow(10, (level-fullScaleDBm0)/20)
}

// InbandTone returns digit d as the DTMF dual tone (ITU-T Q.23) that
// MethodInband mixes into the audio: DigitDuration at 8 kHz, each tone at
// InbandLevel. It returns nil if d is not a DTMF digit.
func InbandTone(d dtmf.Digit) []int16 {
	return dtmf.Tone(d, media.SampleRate, DigitDuration, amplitude(InbandLevel))
}

// sender is the audio the dialer sends, a media.FrameSource read by the
// mixer's ticker: the Script's audio looped, or a sine, or silence, with
// in-band digits mixed over it.
type sender struct {
	// ticker only
	audio []int16
	pos   int
	step  float64 // radians per sample of the sine; 0: none
	phase float64
	amp   float64

	mu    sync.Mutex
	digit []int16 // the in-band digit being sent, nil when none
	dpos  int
}

var _ media.FrameSource = (*sender)(nil)

func newSender(audio []int16, toneHz float64) *sender {
	s := &sender{audio: audio, amp: amplitude(ToneLevel) * math.MaxInt16}
	if len(audio) == 0 && toneHz > 0 {
		s.step = 2 * math.Pi * toneHz / media.SampleRate
	}
	return s
}

// ReadFrame fills dst with the next frame; the source never ends.
func (s *sender) ReadFrame(dst []int16) bool {
	switch {
	case len(s.audio) > 0:
		for i := range dst {
			dst[i] = s.audio[s.pos]
			s.pos++
			if s.pos == len(s.audio) {
				s.pos = 0
			}
		}
	case s.step > 0:
		for i := range dst {
			dst[i] = int16(math.Round(s.amp * math.Sin(s.phase)))
			s.phase += s.step
			if s.phase >= 2*math.Pi {
				s.phase -= 2 * math.Pi
			}
		}
	default:
		clear(dst)
	}
	s.mu.Lock()
	if s.digit != nil {
		for i := range dst {
			v := inbandDuck * float64(dst[i])
			if s.dpos < len(s.digit) {
				v += float64(s.digit[s.dpos])
				s.dpos++
			}
			dst[i] = int16(min(max(math.Round(v), math.MinInt16), math.MaxInt16))
		}
		if s.dpos >= len(s.digit) {
			s.digit, s.dpos = nil, 0
		}
	}
	s.mu.Unlock()
	return true
}

// press starts sending d in-band from the next frame on, replacing a digit
// still sounding. It reports false if d is not a DTMF digit.
func (s *sender) press(d dtmf.Digit) bool {
	t := InbandTone(d)
	if t == nil {
		return false
	}
	s.mu.Lock()
	s.digit, s.dpos = t, 0
	s.mu.Unlock()
	return true
}

// listener is the mixer's tap: the left channel is what the session
// received. It counts the frames heard and hands them to the recording.
type listener struct {
	sess   *media.Session
	frames chan [media.FrameSamples]int16 // nil: not recording
	heard  atomic.Int64                   // frames during which RTP arrived
	lost   atomic.Uint64                  // frames the disk was too slow for
}

var _ media.FrameTap = (*listener)(nil)

// WriteFrame is called by the mixer's ticker every 20 ms; it does not block.
func (l *listener) WriteFrame(left, _ []int16) {
	if last := l.sess.LastReceived(); !last.IsZero() && time.Since(last) < heardWithin {
		l.heard.Add(1)
	}
	if l.frames == nil {
		return
	}
	var f [media.FrameSamples]int16
	copy(f[:], left)
	select {
	case l.frames <- f:
	default:
		l.lost.Add(1)
	}
}

// Heard is how long RTP was arriving while the tap was set.
func (l *listener) Heard() time.Duration {
	return time.Duration(l.heard.Load()) * media.FrameDuration
}

// recording writes the frames of a listener to a mono WAV on its own
// goroutine.
type recording struct {
	path string
	w    *wav.Writer
	log  *slog.Logger
	err  error // set by the writer goroutine, read after it ended
}

// createRecording creates path (replacing a file that exists) as an 8 kHz
// mono 16-bit WAV.
func createRecording(path string, log *slog.Logger) (*recording, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("replace %s: %w", path, err)
	}
	w, err := wav.Create(path, media.SampleRate, 1)
	if err != nil {
		return nil, err
	}
	return &recording{path: path, w: w, log: log}, nil
}

// write runs until frames is closed, then finishes the file.
func (r *recording) write(frames <-chan [media.FrameSamples]int16) {
	n := 0
	for f := range frames {
		if r.err != nil {
			continue // keep draining: the tap must not block
		}
		if err := r.w.Write(f[:]); err != nil {
			r.err = err
			continue
		}
		if n++; n%recordFlushEvery == 0 {
			if err := r.w.Flush(); err != nil {
				r.err = err
			}
		}
	}
	if err := r.w.Close(); err != nil && r.err == nil {
		r.err = err
	}
	if r.err != nil {
		r.log.Error("recording failed", "path", r.path, "error", r.err)
	}
}

// duration is the length of what was written; valid after write returned.
func (r *recording) duration() time.Duration { return r.w.Duration() }
