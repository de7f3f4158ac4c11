package ivr_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ringdesk/ringdesk/ivr"
)

func playAll(ctx context.Context, p ivr.Player, audio []int16, digits <-chan byte, stopOn string) <-chan answer {
	out := make(chan answer, 1)
	go func() {
		d, err := ivr.PlayAll(ctx, p, audio, digits, stopOn)
		out <- answer{ivr.Result{Digit: d}, err}
	}()
	return out
}

func TestPlayAll(t *testing.T) {
	t.Run("to the end", func(t *testing.T) {
		p, audio := newPlayer(), pcm(160)
		done := playAll(t.Context(), p, audio, nil, "")
		fp := p.next(t)
		fp.is(t, audio, "the audio")
		fp.finish()
		if res, err := result(t, done); err != nil || res.Digit != 0 {
			t.Errorf("%q, %v; want 0, nil", res.Digit, err)
		}
	})
	t.Run("stopped by a digit", func(t *testing.T) {
		p, digits := newPlayer(), make(chan byte, 4)
		done := playAll(t.Context(), p, pcm(160), digits, "#")
		fp := p.next(t)
		digits <- '5' // not in stopOn: dropped
		digits <- '#'
		if res, err := result(t, done); err != nil || res.Digit != '#' {
			t.Errorf("%q, %v; want '#'", res.Digit, err)
		}
		if !fp.isStopped() {
			t.Error("the audio was not stopped")
		}
		if len(digits) != 0 {
			t.Errorf("%d digits left, want 0", len(digits))
		}
	})
	t.Run("digits left queued without stopOn", func(t *testing.T) {
		p, digits := newPlayer(), make(chan byte, 4)
		digits <- '1'
		done := playAll(t.Context(), p, pcm(160), digits, "")
		fp := p.next(t)
		digits <- '2'
		fp.finish()
		if res, err := result(t, done); err != nil || res.Digit != 0 {
			t.Errorf("%q, %v; want 0, nil", res.Digit, err)
		}
		if fp.isStopped() {
			t.Error("stopped without stopOn")
		}
		if len(digits) != 2 {
			t.Errorf("%d digits left, want both", len(digits))
		}
	})
	t.Run("empty audio", func(t *testing.T) {
		p := newPlayer()
		if d, err := ivr.PlayAll(t.Context(), p, nil, nil, "#"); err != nil || d != 0 {
			t.Errorf("%q, %v", d, err)
		}
		p.none(t)
	})
	t.Run("cancelled", func(t *testing.T) {
		p := newPlayer()
		ctx, cancel := context.WithCancel(t.Context())
		done := playAll(ctx, p, pcm(160), make(chan byte), "#")
		fp := p.next(t)
		cancel()
		if _, err := result(t, done); !errors.Is(err, context.Canceled) {
			t.Errorf("%v, want context.Canceled", err)
		}
		if !fp.isStopped() {
			t.Error("the audio was not stopped")
		}
	})
	t.Run("player fails", func(t *testing.T) {
		p := newPlayer()
		p.err = errors.New("no leg")
		if _, err := ivr.PlayAll(t.Context(), p, pcm(160), nil, ""); !errors.Is(err, ivr.ErrPlay) {
			t.Errorf("%v, want ErrPlay", err)
		}
	})
}
