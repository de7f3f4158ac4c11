package media

import (
	"fmt"
	"time"

	"github.com/ringdesk/ringdesk/media/tone"
	"github.com/ringdesk/ringdesk/media/wav"
)

// Clip is a prompt: 8 kHz PCM played once (or looped) as a FrameSource.
// A Clip is read by one mixer; share the samples, not the Clip.
type Clip struct {
	pcm  []int16
	pos  int
	loop bool
}

// NewClip plays pcm (8 kHz mono) once; with loop, forever.
func NewClip(pcm []int16, loop bool) *Clip { return &Clip{pcm: pcm, loop: loop} }

// ReadFrame fills dst with the next frame; false once the clip has ended.
func (c *Clip) ReadFrame(dst []int16) bool {
	n := 0
	for n < len(dst) {
		if c.pos >= len(c.pcm) {
			if !c.loop || len(c.pcm) == 0 {
				clear(dst[n:])
				return n > 0
			}
			c.pos = 0
		}
		k := copy(dst[n:], c.pcm[c.pos:])
		c.pos += k
		n += k
	}
	return true
}

// LoadAudio reads a prompt or music file (WAV: PCM 8 or 16 kHz mono, or
// G.711) as 8 kHz PCM; a file shorter than one frame is ErrNoAudio.
func LoadAudio(path string) ([]int16, error) {
	a, err := wav.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pcm, err := a.To8k()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(pcm) < FrameSamples {
		return nil, fmt.Errorf("%s: %w", path, ErrNoAudio)
	}
	return pcm, nil
}

// RenderTone returns one whole cadence cycle of t (at least a second) as
// 8 kHz PCM, to loop as a shared stream.
func RenderTone(t tone.Tone) []int16 {
	var cycle time.Duration
	for _, d := range t.Cadence {
		cycle += d
	}
	cycle = max(cycle, time.Second)
	frames := int(cycle / FrameDuration)
	pcm := make([]int16, frames*FrameSamples)
	g := t.Generator(SampleRate)
	for i := range frames {
		g.Read(pcm[i*FrameSamples : (i+1)*FrameSamples])
	}
	return pcm
}

// ToneSource plays a call-progress tone (ringback, busy) until removed.
type ToneSource struct{ g *tone.Generator }

// NewToneSource returns t as a FrameSource at the engine's rate.
func NewToneSource(t tone.Tone) *ToneSource { return &ToneSource{g: t.Generator(SampleRate)} }

// ReadFrame fills dst with the next frame of the tone; it never ends.
func (t *ToneSource) ReadFrame(dst []int16) bool {
	t.g.Read(dst)
	return true
}
