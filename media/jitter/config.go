package jitter

import (
	"fmt"
	"time"
)

// Defaults used when a Config field is zero.
const (
	// DefaultClockRate is the RTP clock rate of narrowband audio (G.711).
	DefaultClockRate = 8000
	// DefaultFrameDuration is the length of one mixer frame; FrameSamples
	// defaults to this much audio at ClockRate (160 samples at 8 kHz).
	DefaultFrameDuration = 20 * time.Millisecond
	// DefaultMinDelay is the smallest (and the initial) target playout delay.
	DefaultMinDelay = 40 * time.Millisecond
	// DefaultMaxDelay is the largest target playout delay; more buffered
	// audio than this is dropped, oldest first.
	DefaultMaxDelay = 200 * time.Millisecond
)

// Limits that Validate enforces.
const (
	// MaxClockRate is the highest clock rate accepted.
	MaxClockRate = 48000
	// DelayLimit is the largest MaxDelay accepted (it sizes the ring).
	DelayLimit = 2 * time.Second
)

// Config configures a Buffer. The zero value is 8 kHz audio in 20 ms frames
// with a playout delay adapting between 40 and 200 ms.
type Config struct {
	// ClockRate is the RTP clock rate of the stream, in Hz, which is also
	// the PCM sample rate. Zero: DefaultClockRate.
	ClockRate int `yaml:"clock_rate"`
	// FrameSamples is how many samples one Pop returns. Zero: 20 ms of
	// audio at ClockRate (160 at 8 kHz, 320 at 16 kHz). Packets may carry
	// any number of samples; it need not match.
	FrameSamples int `yaml:"frame_samples"`
	// MinDelay is the lowest target playout delay and the delay a stream
	// starts with; at least one frame. Zero: DefaultMinDelay.
	MinDelay time.Duration `yaml:"min_delay"`
	// MaxDelay is the highest target playout delay. Packets longer than
	// MaxDelay are rejected, and audio buffered beyond it (a sender whose
	// clock runs fast) is dropped, oldest first. Zero: DefaultMaxDelay.
	MaxDelay time.Duration `yaml:"max_delay"`
}

func (c Config) withDefaults() Config {
	if c.ClockRate == 0 {
		c.ClockRate = DefaultClockRate
	}
	if c.FrameSamples == 0 {
		c.FrameSamples = int(int64(c.ClockRate) * int64(DefaultFrameDuration) / int64(time.Second))
	}
	if c.MinDelay == 0 {
		c.MinDelay = DefaultMinDelay
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = DefaultMaxDelay
	}
	return c
}

// Validate reports the first inconsistency in c (after defaults).
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.ClockRate < 1000 || c.ClockRate > MaxClockRate {
		return fmt.Errorf("jitter: clock rate %d is not within 1000-%d Hz", c.ClockRate, MaxClockRate)
	}
	if c.FrameSamples < 1 {
		return fmt.Errorf("jitter: frame of %d samples", c.FrameSamples)
	}
	if c.MaxDelay > DelayLimit {
		return fmt.Errorf("jitter: max delay %v is above %v", c.MaxDelay, DelayLimit)
	}
	if c.MinDelay < 0 || c.MaxDelay < c.MinDelay {
		return fmt.Errorf("jitter: delays %v-%v are not ordered", c.MinDelay, c.MaxDelay)
	}
	if toSamples(c.MinDelay, c.ClockRate) < int64(c.FrameSamples) {
		return fmt.Errorf("jitter: min delay %v holds less than one frame of %d samples", c.MinDelay, c.FrameSamples)
	}
	return nil
}

// toSamples converts a duration into samples at rate, rounding down and
// without overflow.
func toSamples(d time.Duration, rate int) int64 {
	r := int64(rate)
	return int64(d/time.Second)*r + int64(d%time.Second)*r/int64(time.Second)
}

// toDuration converts samples at rate into a duration.
func toDuration(samples int64, rate int) time.Duration {
	return time.Duration(samples) * time.Second / time.Duration(rate)
}
