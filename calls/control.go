package calls

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ringdesk/ringdesk/media/dtmf"
	"github.com/ringdesk/ringdesk/sip"
)

// adoptTimeout bounds asking another call for a leg (REFER with Replaces).
const adoptTimeout = 5 * time.Second

// PartyInfo describes one leg of a live call, for the agent UI.
type PartyInfo struct {
	Leg   LegID    `json:"leg"`
	Party Party    `json:"party"`
	State LegState `json:"state"`
	// Held: Ringdesk holds the party (music); Host: it controls the call.
	Held bool `json:"held"`
	Host bool `json:"host"`
}

// Call returns a live call by its ID.
func (s *Switch) Call(id CallID) (*Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[id]
	return c, ok
}

// CallIDs lists the live calls.
func (s *Switch) CallIDs() []CallID {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]CallID, 0, len(s.calls))
	for id := range s.calls {
		ids = append(ids, id)
	}
	return ids
}

// ID is the call's ID.
func (c *Call) ID() CallID { return c.id }

// Done is closed when the call is over.
func (c *Call) Done() <-chan struct{} { return c.done }

// do runs fn on the call's supervisor and returns its error.
func (c *Call) do(ctx context.Context, fn func(ctx context.Context) error) error {
	cmd := command{fn: fn, reply: make(chan error, 1)}
	select {
	case c.cmds <- cmd:
	case <-c.closing:
		return ErrCallEnded
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-cmd.reply:
		return err
	case <-c.done:
		// A command that ends the call (removing the host of a two-party
		// call) replies before the call is done: prefer its answer.
		select {
		case err := <-cmd.reply:
			return err
		default:
			return ErrCallEnded
		}
	}
}

// find returns the leg with id, or the host when id is empty.
func (c *Call) find(id LegID) (*Leg, error) {
	if id == "" {
		if c.host == nil {
			return nil, ErrNotAnswered
		}
		return c.host, nil
	}
	for _, l := range c.legs {
		if l.id == id && l.state != LegStateEnded {
			return l, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNoSuchLeg, id)
}

// findParty returns the party of leg id in the conversation (the host when
// id is empty); a leg still ringing, or gone, is ErrNoSuchLeg.
func (c *Call) findParty(id LegID) (*Leg, error) {
	l, err := c.find(id)
	if err != nil {
		return nil, err
	}
	if !c.connected(l) {
		return nil, fmt.Errorf("%w: %s is not connected", ErrNoSuchLeg, id)
	}
	return l, nil
}

func (c *Call) answeredCheck() error {
	if c.winner == nil || c.ended {
		return ErrNotAnswered
	}
	return nil
}

// Parties lists the call's legs still up: connected parties and phones
// being rung.
func (c *Call) Parties(ctx context.Context) ([]PartyInfo, error) {
	var out []PartyInfo
	err := c.do(ctx, func(context.Context) error {
		for _, l := range c.legs {
			if l.state == LegStateEnded {
				continue
			}
			out = append(out, PartyInfo{Leg: l.id, Party: l.party, State: l.state, Held: l.apiHeld, Host: l == c.host})
		}
		return nil
	})
	return out, err
}

// Hold puts a party on hold: it hears hold music and is not heard.
func (c *Call) Hold(ctx context.Context, leg LegID) error {
	return c.do(ctx, func(context.Context) error {
		if err := c.answeredCheck(); err != nil {
			return err
		}
		l, err := c.findParty(leg)
		if err != nil {
			return err
		}
		c.holdParty(l)
		c.rewire()
		return nil
	})
}

func (c *Call) holdParty(l *Leg) {
	if l.apiHeld {
		return
	}
	l.apiHeld = true
	l.heldAt = time.Now()
	c.log.Debug("party held", "leg_id", string(l.id))
	c.sw.observe(PartyHeld{base: c.base(), Leg: l.id})
}

// Resume takes a party off hold.
func (c *Call) Resume(ctx context.Context, leg LegID) error {
	return c.do(ctx, func(context.Context) error {
		if err := c.answeredCheck(); err != nil {
			return err
		}
		l, err := c.find(leg)
		if err != nil {
			return err
		}
		if l.apiHeld {
			l.apiHeld = false
			d := time.Since(l.heldAt)
			c.log.Debug("party resumed", "leg_id", string(l.id), "held_for", d)
			c.sw.observe(PartyResumed{base: c.base(), Leg: l.id, HeldFor: d})
		}
		c.rewire()
		return nil
	})
}

// AddParticipant rings extension target's phones; the first to answer joins
// the conversation (a conference). It returns once the phones ring; the
// leg's progress comes as LegRinging, LegConnected or LegEnded events.
func (c *Call) AddParticipant(ctx context.Context, target string) error {
	return c.do(ctx, func(context.Context) error {
		if err := c.answeredCheck(); err != nil {
			return err
		}
		_, err := c.dialExtension(c.sw.ctx, target, dialConference, c.host) //nolint:contextcheck // the leg lives as long as the call, not the request
		return err
	})
}

// Remove hangs up one party; the others go on (a conference), and when it
// was the host the next party becomes host. Removing the last but one
// party ends the call.
func (c *Call) Remove(ctx context.Context, leg LegID) error {
	return c.do(ctx, func(ctx context.Context) error {
		l, err := c.find(leg)
		if err != nil {
			return err
		}
		if !c.connected(l) {
			// still ringing: stop it
			c.endLeg(ctx, l, 487, CauseNormal)
			if d := l.dial; d != nil && d.live() && d.liveLegs() == 0 {
				c.dialFailed(ctx, d, 487)
			}
			return nil
		}
		c.partyLeft(ctx, l, CauseNormal)
		return nil
	})
}

// End hangs up every party.
func (c *Call) End(ctx context.Context) error {
	return c.do(ctx, func(context.Context) error {
		role := RoleSystem
		if c.host != nil && c.host != c.caller {
			role = RoleCallee
		}
		c.finish(CauseNormal, role)
		return nil
	})
}

// BlindTransfer sends the call to extension target on behalf of party by
// (the host when empty): by leaves at once, the others hear ringback until
// the target answers. If nobody answers, by's phones ring again.
func (c *Call) BlindTransfer(ctx context.Context, by LegID, target string) error {
	return c.do(ctx, func(context.Context) error {
		if err := c.answeredCheck(); err != nil {
			return err
		}
		l, err := c.find(by)
		if err != nil {
			return err
		}
		return c.blind(l, target, nil)
	})
}

// blind starts a blind transfer by leg to target. For a transfer by phone
// (refer set), the transferor stays on the line, parked, until the target
// answers; through the API it leaves at once.
func (c *Call) blind(by *Leg, target string, refer *sip.Refer) error {
	if c.liveDials() > 0 || c.consult != nil {
		return ErrBusy
	}
	d, err := c.dialExtension(c.sw.ctx, target, dialBlind, by) //nolint:contextcheck // lives with the call
	if err != nil {
		return err
	}
	d.refer = refer
	c.startTransfer(TransferBlind, by, target)
	for _, p := range c.parties {
		if p != by {
			p.ringback = true
		}
	}
	if refer != nil {
		by.parked = true
		c.rewire()
		return nil
	}
	c.partyLeft(c.sw.ctx, by, CauseTransferred) //nolint:contextcheck // lives with the call
	return nil
}

// StartConsult begins an attended transfer: the other parties are held
// (music) and extension target rings; when it answers, by talks to it.
// CompleteConsult then joins them with the target; CancelConsult returns.
func (c *Call) StartConsult(ctx context.Context, by LegID, target string) error {
	return c.do(ctx, func(context.Context) error {
		if err := c.answeredCheck(); err != nil {
			return err
		}
		l, err := c.find(by)
		if err != nil {
			return err
		}
		if c.liveDials() > 0 || c.consult != nil {
			return ErrBusy
		}
		d, err := c.dialExtension(c.sw.ctx, target, dialConsult, l) //nolint:contextcheck // lives with the call
		if err != nil {
			return err
		}
		c.consult = d
		c.startTransfer(TransferAttended, l, target)
		for _, p := range c.parties {
			if p != l {
				c.holdParty(p)
			}
		}
		c.rewire()
		return nil
	})
}

// CompleteConsult joins the held parties with the consulted target and
// releases the consulting agent.
func (c *Call) CompleteConsult(ctx context.Context) error {
	return c.do(ctx, func(ctx context.Context) error {
		cs := c.consult
		if cs == nil {
			return ErrNoConsult
		}
		if cs.answer == nil || !c.connected(cs.answer) {
			return ErrNotConnected
		}
		c.completeConsult(ctx)
		return nil
	})
}

// CancelConsult hangs up the consulted target (or stops its ringing) and
// resumes the held parties.
func (c *Call) CancelConsult(ctx context.Context) error {
	return c.do(ctx, func(ctx context.Context) error {
		cs := c.consult
		if cs == nil {
			return ErrNoConsult
		}
		c.consult = nil
		cs.over = true
		cs.stop()
		for _, l := range cs.legs {
			switch {
			case c.connected(l):
				c.parties = removeLeg(c.parties, l)
				c.endLeg(ctx, l, 200, CauseNormal)
				c.sw.observe(LegLeft{base: c.base(), Leg: l.snapshot()})
			case l.state != LegStateEnded:
				c.endLeg(ctx, l, 487, CauseNormal)
			}
		}
		c.unholdAll(nil)
		c.endTransfer(TransferAttended, "cancelled", false)
		c.settle()
		return nil
	})
}

func removeLeg(legs []*Leg, l *Leg) []*Leg {
	for i, x := range legs {
		if x == l {
			return append(legs[:i], legs[i+1:]...)
		}
	}
	return legs
}

// StartRecording records the call from now on.
func (c *Call) StartRecording(ctx context.Context) error {
	return c.do(ctx, func(context.Context) error {
		if err := c.answeredCheck(); err != nil {
			return err
		}
		if c.sw.cfg.RecordingsDir == "" {
			return fmt.Errorf("calls: no recordings directory configured")
		}
		return c.startRecording()
	})
}

// PauseRecording records silence until ResumeRecording (card numbers).
func (c *Call) PauseRecording(ctx context.Context) error {
	return c.do(ctx, func(context.Context) error {
		if c.rec == nil {
			return ErrNotRecording
		}
		if !c.rec.Paused() {
			c.rec.Pause()
			c.sw.observe(RecordingPaused{base: c.base()})
		}
		return nil
	})
}

// ResumeRecording records audio again.
func (c *Call) ResumeRecording(ctx context.Context) error {
	return c.do(ctx, func(context.Context) error {
		if c.rec == nil {
			return ErrNotRecording
		}
		if c.rec.Paused() {
			c.rec.Resume()
			c.sw.observe(RecordingResumed{base: c.base()})
		}
		return nil
	})
}

// DeleteRecording stops the recording and removes its file.
func (c *Call) DeleteRecording(ctx context.Context) error {
	return c.do(ctx, func(context.Context) error {
		if c.rec == nil {
			return ErrNotRecording
		}
		if c.mixer != nil {
			c.mixer.SetTap(nil)
		}
		r := c.rec
		c.rec = nil
		res, err := r.Delete()
		c.recording = &Recording{Path: res.Path, Deleted: true}
		c.rewire()
		c.sw.observe(RecordingDeleted{base: c.base(), Path: res.Path})
		return err
	})
}

// SendDigits sends DTMF to a party: RFC 4733 events when its phone
// negotiated telephone-event, SIP INFO otherwise. It returns once queued;
// the digits go out paced in the background.
func (c *Call) SendDigits(ctx context.Context, leg LegID, digits string) error {
	for i := range len(digits) {
		if !dtmf.Valid(dtmf.Digit(digits[i])) {
			return fmt.Errorf("calls: %q is not a DTMF digit", digits[i])
		}
	}
	return c.do(ctx, func(ctx context.Context) error {
		l, err := c.findParty(leg)
		if err != nil {
			return err
		}
		rtp := l.rtp
		useInfo := l.neg.DTMF == nil
		var send func(ctx context.Context, contentType string, body []byte) error
		if l.in != nil {
			send = l.in.SendInfo
		} else {
			send = l.out.SendInfo
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(len(digits))*time.Second+infoTimeout)
		c.helpers.Go(func() {
			defer cancel()
			for i := range len(digits) {
				d := dtmf.Digit(digits[i])
				var err error
				if useInfo {
					ct, body := dtmf.InfoBody(d, 160*time.Millisecond)
					err = send(sctx, ct, body)
				} else {
					err = rtp.SendDigit(sctx, d, 160*time.Millisecond)
					if err == nil {
						err = sleepCtx(sctx, 80*time.Millisecond)
					}
				}
				if err != nil {
					c.log.Debug("sending digits failed", "error", err)
					return
				}
			}
		})
		return nil
	})
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// refer handles a REFER from a connected party's phone: blind transfer, or
// with Replaces an attended transfer that joins this call's other party
// with the party of the replaced dialog's call.
func (c *Call) refer(ctx context.Context, leg *Leg, ev sip.ReferReceived) {
	if !c.connected(leg) || c.winner == nil {
		c.notify(ctx, ev.Refer, 603, "Decline")
		return
	}
	if ev.Replaces != nil {
		c.referReplaces(ctx, leg, ev)
		return
	}
	c.log.Debug("transfer requested", "leg_id", string(leg.id), "target", ev.User)
	if err := c.blind(leg, ev.User, ev.Refer); err != nil {
		c.log.Info("transfer refused", "target", ev.User, "error", err)
		code := 480
		if errors.Is(err, ErrUnknownTarget) {
			code = 404
		}
		c.notify(ctx, ev.Refer, code, "")
	}
}

// referReplaces completes an attended transfer done on a desk phone: the
// phone has this call and another one (to the target) and asks Ringdesk to
// join this call's other party with the target. The target's leg moves
// from the other call to this one; the phone's two legs are released.
func (c *Call) referReplaces(ctx context.Context, leg *Leg, ev sip.ReferReceived) {
	other, _ := c.sw.findDialog(*ev.Replaces, c)
	if other == nil {
		c.log.Info("transfer: replaced dialog not found", "call_id", ev.Replaces.CallID)
		c.notify(ctx, ev.Refer, 481, "Call/Transaction Does Not Exist")
		return
	}
	actx, cancel := context.WithTimeout(ctx, adoptTimeout)
	defer cancel()
	moved, err := other.surrender(actx, *ev.Replaces)
	if err != nil {
		c.log.Info("transfer: taking the target failed", "error", err)
		c.notify(ctx, ev.Refer, 503, "")
		return
	}
	moved.id = c.nextLegID()
	moved.rec.ID = moved.id
	moved.dial = nil
	moved.state = LegStateAnswered
	if moved.rec.SIPCallID != "" {
		c.addSIPCallID(moved.rec.SIPCallID) // a later Replaces may name it
	}
	c.legs = append(c.legs, moved)
	c.parties = append(c.parties, moved)
	if moved.in != nil {
		moved.in.SetEventHandler(c.handler(moved))
	} else {
		moved.out.SetEventHandler(c.handler(moved))
	}
	c.listen(moved)
	c.startTransfer(TransferAttended, leg, moved.party.Extension)
	c.sw.observe(LegConnected{base: c.base(), Leg: moved.snapshot()})
	c.endTransfer(TransferAttended, "completed", false)
	c.release(ctx, leg, ev.Refer)
	c.rewire()
}

// findDialog finds the live call (other than not) that has a leg whose
// SIP dialog ref names.
func (s *Switch) findDialog(ref sip.DialogRef, not *Call) (*Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c != not && c.hasSIPCallID(ref.CallID) {
			return c, true
		}
	}
	return nil, false
}

// surrender gives away, for a REFER with Replaces received by another
// call, the party on the other side of the leg whose dialog ref names: that
// party's leg leaves this call alive, the named leg is released, and this
// call ends.
func (c *Call) surrender(ctx context.Context, ref sip.DialogRef) (*Leg, error) {
	var moved *Leg
	err := c.do(ctx, func(ctx context.Context) error {
		var named *Leg
		for _, l := range c.parties {
			if (l.in != nil && l.in.MatchesDialog(ref)) || (l.out != nil && l.out.MatchesDialog(ref)) {
				named = l
			}
		}
		if named == nil || len(c.parties) != 2 {
			return fmt.Errorf("%w: no two-party conversation with that dialog", ErrNoSuchLeg)
		}
		moved = c.parties[0]
		if moved == named {
			moved = c.parties[1]
		}
		p := moved
		c.detach(p)
		c.parties = removeLeg(c.parties, p)
		now := time.Now()
		if p.state == LegStateHeld {
			p.rec.HeldFor += now.Sub(p.heldSince)
		}
		// The other call gets its own copy of the leg (dialog and media
		// session go with it); this call's record keeps the original,
		// ended by the transfer, and sends nothing more to its phone.
		handed := *p
		moved = &handed
		p.rec = p.snapshot() // the packet counts so far
		p.state = LegStateEnded
		p.peerEnded = true
		p.rtp = nil
		p.rec.Ended = now
		p.rec.Status = 200
		p.rec.Cause = CauseTransferred
		c.sw.observe(LegLeft{base: c.base(), Leg: p.snapshot()})
		c.finish(CauseTransferred, RoleCaller)
		c.partyLeft(ctx, named, CauseTransferred)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return moved, nil
}
