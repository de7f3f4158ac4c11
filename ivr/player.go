package ivr

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Player plays audio to the caller. Package calls implements it on a call's
// caller leg.
type Player interface {
	// Play starts playing pcm (8 kHz mono 16-bit PCM) and returns once it
	// has started. An error means nothing plays.
	Play(ctx context.Context, pcm []int16) (Playing, error)
}

// Playing is audio that a Player is playing.
type Playing interface {
	// Done is closed when the audio has played to its end. After Stop it
	// may stay open.
	Done() <-chan struct{}
	// Stop ends the audio early and returns once nothing more of it is
	// sent. Stopping audio that has ended does nothing.
	Stop(ctx context.Context) error
}

// PlayerFunc is a function that is a Player.
type PlayerFunc func(ctx context.Context, pcm []int16) (Playing, error)

// Play implements Player.
func (f PlayerFunc) Play(ctx context.Context, pcm []int16) (Playing, error) { return f(ctx, pcm) }

// Clock makes the timers of a Collector.
type Clock interface {
	// After returns a channel that receives the time once d has passed,
	// like time.After.
	After(d time.Duration) <-chan time.Time
}

// systemClock is the Clock of time.After.
type systemClock struct{}

func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// stopTimeout bounds how long stopping a prompt may take once the context
// that played it has ended (the caller hung up).
const stopTimeout = 2 * time.Second

// Collector runs menus and prompts on a Player. The zero value is ready to
// use with the system clock; Ask and PlayAll are those of the zero value.
// A Collector holds no state of its own: use one for any number of calls.
type Collector struct {
	// Clock times the wait for a digit; nil means the system clock.
	Clock Clock
}

func (c Collector) clock() Clock {
	if c.Clock == nil {
		return systemClock{}
	}
	return c.Clock
}

// PlayAll plays pcm to the caller and waits for its end, or for ctx to
// end. Empty pcm plays nothing.
//
// With digits non-nil and stopOn non-empty, it reads digits while playing:
// a digit in stopOn stops the audio at once and is returned, any other
// digit is dropped. Otherwise it reads no digits, and those the caller
// presses stay queued in the channel for whatever comes next (a menu takes
// them as typed ahead). It returns 0 when the audio played to its end.
//
// The digits channel belongs to the caller: PlayAll only receives from it,
// and a closed channel counts as one that never delivers.
//
// When ctx ends, PlayAll stops the audio (under a short timeout of its own)
// and returns ctx.Err().
func PlayAll(ctx context.Context, p Player, pcm []int16, digits <-chan byte, stopOn string) (byte, error) {
	return Collector{}.PlayAll(ctx, p, pcm, digits, stopOn)
}

// PlayAll is the package's PlayAll (the clock plays no part).
func (c Collector) PlayAll(ctx context.Context, p Player, pcm []int16, digits <-chan byte, stopOn string) (byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(pcm) == 0 {
		return 0, nil
	}
	if stopOn == "" {
		digits = nil
	}
	return play(ctx, p, pcm, digits, func(d byte) bool { return strings.IndexByte(stopOn, d) >= 0 })
}

// play plays pcm and waits for its end. It reads digits (unless nil): the
// first for which stop is true stops the audio and is returned; others
// are dropped.
func play(ctx context.Context, p Player, pcm []int16, digits <-chan byte, stop func(byte) bool) (byte, error) {
	pl, err := p.Play(ctx, pcm)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("%w: %w", ErrPlay, err)
	}
	for {
		select {
		case <-pl.Done():
			return 0, nil
		case d, ok := <-digits:
			if !ok {
				digits = nil // closed: never more digits
				continue
			}
			if d == 0 || !stop(d) {
				continue
			}
			if err := pl.Stop(ctx); err != nil {
				if ctx.Err() != nil {
					return 0, ctx.Err()
				}
				return 0, fmt.Errorf("%w: stop: %w", ErrPlay, err)
			}
			return d, nil
		case <-ctx.Done():
			// The call is going away; stop the prompt anyway, so that
			// nothing more is sent, but not for long. Its error changes
			// nothing: ctx's is the news.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
			_ = pl.Stop(sctx)
			cancel()
			return 0, ctx.Err()
		}
	}
}

// anyDigit is a stop function that stops on every digit.
func anyDigit(byte) bool { return true }
