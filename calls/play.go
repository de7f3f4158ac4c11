package calls

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/ringdesk/ringdesk/media"
)

// Playback is a prompt or a tone playing into a call (Call.Play).
type Playback struct {
	c    *Call
	src  media.FrameSource
	leg  *Leg // the only listener; nil: every party
	part *media.Participant
	once sync.Once
	done chan struct{}
}

// Done is closed when the playback is over: its source ended, Stop was
// called, its listener left, or the call ended.
func (p *Playback) Done() <-chan struct{} { return p.done }

// Stop ends the playback early; it returns once nothing more of it is
// sent. Stopping a finished playback does nothing.
func (p *Playback) Stop(ctx context.Context) error {
	err := p.c.do(ctx, func(context.Context) error {
		p.c.stopPlayback(p)
		p.c.rewire()
		return nil
	})
	if errors.Is(err, ErrCallEnded) {
		return nil
	}
	return err
}

// finished marks the playback over and wakes the supervisor to tidy up.
// The mixer calls it from its goroutine, so it must not block.
func (p *Playback) finished() {
	p.once.Do(func() { close(p.done) })
	select {
	case p.c.playEnded <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// over reports whether the playback has finished.
func (p *Playback) over() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Play plays src (a prompt, media.Clip, or a tone, media.ToneSource) into
// the call: to one party only (leg) over what it hears from the others, or
// with leg empty to every party that is not on hold. Prompts are not
// recorded. A party alone in the call hears its prompt instead of hold
// music; a party on hold keeps its music and does not hear prompts. Play
// returns once the prompt has started; Done on the returned Playback says
// when it is over.
func (c *Call) Play(ctx context.Context, leg LegID, src media.FrameSource) (*Playback, error) {
	if src == nil {
		return nil, errors.New("calls: nothing to play")
	}
	pb := &Playback{c: c, src: src, done: make(chan struct{})}
	err := c.do(ctx, func(context.Context) error {
		if c.ended || (c.winner == nil && !c.selfAnswered) {
			return ErrNotAnswered
		}
		if leg != "" {
			l, err := c.findParty(leg)
			if err != nil {
				return err
			}
			pb.leg = l
		}
		c.playing = append(c.playing, pb)
		c.rewire()
		if pb.part == nil {
			c.stopPlayback(pb)
			c.rewire()
			return errors.New("calls: the prompt could not start")
		}
		c.log.Debug("playing", "leg_id", string(leg))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pb, nil
}

// promptFor reports whether a prompt plays to leg alone.
func (c *Call) promptFor(leg *Leg) bool {
	for _, pb := range c.playing {
		if pb.leg == leg {
			return true
		}
	}
	return false
}

// startPlayback joins the playbacks not yet playing to the mixer.
func (c *Call) startPlayback() {
	for _, pb := range c.playing {
		switch {
		case pb.part != nil:
		case pb.leg == nil:
			pb.part = c.mixer.Play(pb.src, media.ChannelNone, pb.finished)
		case pb.leg.part != nil:
			pb.part = c.mixer.PlayTo(pb.src, pb.leg.part, pb.finished)
		}
	}
}

// stopPlayback ends pb and forgets it; the caller rewires.
func (c *Call) stopPlayback(pb *Playback) {
	for i, x := range c.playing {
		if x == pb {
			c.playing = append(c.playing[:i], c.playing[i+1:]...)
			break
		}
	}
	if pb.part != nil {
		pb.part.Remove()
	}
	pb.once.Do(func() { close(pb.done) })
}

// sweepPlayback forgets the playbacks that have ended and rewires: a
// party whose prompt is over hears the others (or the music) again.
func (c *Call) sweepPlayback() {
	n := len(c.playing)
	c.playing = slices.DeleteFunc(c.playing, (*Playback).over)
	if len(c.playing) != n && !c.ended {
		c.rewire()
	}
}

// endPlayback ends every playback (the call is over).
func (c *Call) endPlayback() {
	for len(c.playing) > 0 {
		c.stopPlayback(c.playing[0])
	}
}
