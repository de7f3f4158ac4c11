package calls

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ringdesk/ringdesk/sip"
)

// notifyTimeout bounds one NOTIFY of a transfer's progress.
const notifyTimeout = 5 * time.Second

// Errors of the call control API.
var (
	ErrCallEnded     = errors.New("calls: the call has ended")
	ErrNoSuchLeg     = errors.New("calls: no such party in the call")
	ErrUnknownTarget = errors.New("calls: no such extension")
	ErrUnreachable   = errors.New("calls: the extension has no registered phone")
	ErrNotAnswered   = errors.New("calls: the call is not answered yet")
	ErrBusy          = errors.New("calls: a transfer is already in progress")
	ErrNoConsult     = errors.New("calls: no consultation in progress")
	ErrNotConnected  = errors.New("calls: the target has not answered")
	ErrNotRecording  = errors.New("calls: the call is not being recorded")
)

// dialPurpose says why Ringdesk calls someone into a running call.
type dialPurpose int

const (
	dialConference dialPurpose = iota + 1 // add a participant
	dialBlind                             // blind transfer target
	dialConsult                           // consultation (attended transfer) target
	dialRecall                            // the transferring agent again, after a failed blind transfer
)

// dial is one attempt to bring a party into the call: every registered
// phone of the target rings, the first to answer joins.
type dial struct {
	purpose dialPurpose
	target  Party
	legs    []*Leg
	timer   *time.Timer
	by      *Leg       // who asked: the transferring or consulting agent
	refer   *sip.Refer // the REFER to report to, for a transfer by phone
	answer  *Leg       // the leg that answered
	over    bool       // answered, failed or cancelled
	started time.Time
}

// dialTimeout is posted when a dial's ring timeout expires.
type dialTimeout struct{ d *dial }

// recallTimeout is posted when a transferring phone stayed on the line
// recallGrace after its transfer failed.
type recallTimeout struct{}

// recallGrace is how long Ringdesk waits, after telling a phone its
// transfer failed, to see whether the phone hangs up (then its agent is
// rung again) or stays (then the conversation resumes).
const recallGrace = 2 * time.Second

// recallExpired resumes the conversation with a transferring phone that
// stayed on the line after its transfer failed.
func (c *Call) recallExpired() {
	by := c.recallFor
	c.recallFor = nil
	if by == nil || !c.connected(by) {
		return
	}
	c.unholdAll(nil)
	c.rewire()
}

func (c *Call) stopRecallTimer() {
	if c.recallTimer != nil {
		c.recallTimer.Stop()
		c.recallTimer = nil
	}
}

func (d *dial) stop() {
	if d.timer != nil {
		d.timer.Stop()
	}
}

func (d *dial) live() bool { return !d.over }

// liveDials counts dials still ringing.
func (c *Call) liveDials() int {
	n := 0
	for _, d := range c.dials {
		if d.live() {
			n++
		}
	}
	return n
}

// dialExtension rings every phone of extension number for purpose.
func (c *Call) dialExtension(ctx context.Context, number string, purpose dialPurpose, by *Leg) (*dial, error) {
	ext, ok := c.sw.ext[number]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTarget, number)
	}
	bindings := c.sw.sig.Bindings(ext.Number)
	if len(bindings) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrUnreachable, ext.Number)
	}
	d := &dial{
		purpose: purpose, by: by, started: time.Now(),
		target: Party{Extension: ext.Number, Name: ext.Name, AgentID: ext.AgentID, URI: "sip:" + ext.Number},
	}
	first := ""
	if c.caller.hasNeg {
		first = c.caller.neg.Codec.Name
	}
	for _, b := range bindings {
		d.legs = append(d.legs, c.originate(ctx, b, d.target, first, d))
	}
	if d.liveLegs() == 0 {
		d.over = true
		return nil, fmt.Errorf("%w: %s", ErrUnreachable, ext.Number)
	}
	c.dials = append(c.dials, d)
	d.timer = time.AfterFunc(c.sw.cfg.RingTimeout, func() { c.post(nil, dialTimeout{d}) })
	return d, nil
}

func (d *dial) liveLegs() int {
	n := 0
	for _, l := range d.legs {
		if l.state != LegStateEnded {
			n++
		}
	}
	return n
}

// handleDialLeg handles the events of a leg Ringdesk dialled into the call
// until it answers; it reports false for events the general code handles
// (a connected leg's BYE, re-INVITE, INFO, REFER, digits).
func (c *Call) handleDialLeg(ctx context.Context, leg *Leg, ev any) bool {
	d := leg.dial
	switch ev := ev.(type) {
	case sip.ProgressReceived:
		if leg.state == LegStateTrying {
			leg.state = LegStateRinging
			leg.rec.Ringing = time.Now()
			c.sw.observe(LegRinging{base: c.base(), Leg: leg.snapshot()})
			if d.refer != nil {
				c.notify(ctx, d.refer, 180, "Ringing")
			}
		}
		return true
	case sip.Answered:
		c.dialAnswered(ctx, leg, ev)
		return true
	case sip.Rejected:
		leg.peerEnded = true
		c.endLeg(ctx, leg, ev.Code, CauseFromStatus(ev.Code))
		if d.live() && d.liveLegs() == 0 {
			c.dialFailed(ctx, d, ev.Code)
		}
		return true
	}
	return false
}

// dialAnswered connects the first phone of a dial to answer.
func (c *Call) dialAnswered(ctx context.Context, leg *Leg, ev sip.Answered) {
	d := leg.dial
	leg.state = LegStateAnswered
	if !d.live() || c.ended {
		c.endLeg(ctx, leg, 200, CauseNormal) // another phone won, or too late
		return
	}
	if ev.UserAgent != "" {
		leg.rec.UserAgent = ev.UserAgent
	}
	leg.rec.Answered = time.Now()
	if err := leg.takeAnswer(ev.SDP); err != nil {
		c.log.Warn("answer refused", "leg_id", string(leg.id), "error", err)
		c.endLeg(ctx, leg, 488, CauseIncompatible)
		if d.liveLegs() == 0 {
			c.dialFailed(ctx, d, 488)
		}
		return
	}
	d.over = true
	d.answer = leg
	d.stop()
	for _, l := range d.legs {
		if l != leg && l.state != LegStateEnded {
			c.endLeg(ctx, l, 487, CauseNormal)
		}
	}
	c.parties = append(c.parties, leg)
	c.listen(leg)
	if d.purpose == dialBlind || d.purpose == dialRecall {
		for _, p := range c.parties {
			p.ringback = false
		}
	}
	c.rewire() // LegConnected means the party can be heard
	c.sw.observe(LegConnected{base: c.base(), Leg: leg.snapshot()})
	switch d.purpose {
	case dialConference:
		c.log.Debug("participant joined", "leg_id", string(leg.id), "extension", d.target.Extension)
	case dialBlind, dialRecall:
		c.completeBlind(ctx, d)
	case dialConsult:
		c.log.Debug("consultation connected", "leg_id", string(leg.id))
		if d.by == nil || !c.connected(d.by) {
			// the agent hung up while the target rang: the customer goes
			// to the target (attended transfer on hang-up)
			c.completeConsult(ctx)
			return
		}
	}
	c.rewire()
}

// dialTimedOut ends a dial nobody answered.
func (c *Call) dialTimedOut(ctx context.Context, d *dial) {
	if !d.live() {
		return
	}
	for _, l := range d.legs {
		if l.state != LegStateEnded {
			c.endLeg(ctx, l, 487, CauseNoAnswer)
		}
	}
	c.dialFailed(ctx, d, 480)
}

// dialFailed handles a dial that ended without an answer: nobody is lost.
// A failed transfer brings the customer back to the transferring agent (or
// rings the agent again when the agent has hung up).
func (c *Call) dialFailed(ctx context.Context, d *dial, code int) {
	d.over = true
	d.stop()
	c.log.Debug("dial failed", "extension", d.target.Extension, "status", code)
	switch d.purpose {
	case dialConference:
	case dialBlind:
		c.notify(ctx, d.refer, code, "")
		if d.refer != nil && d.by != nil && c.connected(d.by) {
			// Most phones hang up once told the transfer failed; some
			// resume. Wait a moment to see which: a hang-up rings the agent
			// back, staying resumes the conversation.
			c.recallFor = d.by
			c.recallTimer = time.AfterFunc(recallGrace, func() { c.post(nil, recallTimeout{}) })
			c.endTransfer(TransferBlind, "failed", false)
			break
		}
		recalled := c.recallOrResume(ctx, d)
		c.endTransfer(TransferBlind, "failed", recalled)
	case dialRecall:
		c.log.Info("transfer recall not answered", "extension", d.target.Extension)
		if len(c.parties) <= 1 {
			c.finish(CauseNoAnswer, RoleSystem)
			return
		}
	case dialConsult:
		c.consult = nil
		recalled := false
		if d.by != nil && c.connected(d.by) {
			c.unholdAll(nil)
		} else {
			recalled = c.recallOrResume(ctx, d)
		}
		c.endTransfer(TransferAttended, "failed", recalled)
	}
	c.settle()
}

// recallOrResume gives the waiting parties back to the transferring agent:
// still connected, the conversation resumes; gone, the agent's phones ring
// again (it reports true then).
func (c *Call) recallOrResume(ctx context.Context, d *dial) bool {
	if d.by != nil && c.connected(d.by) {
		c.unholdAll(nil)
		return false
	}
	return c.ringBack(ctx, d.by)
}

// ringBack rings a transferring agent's phones again to take back the
// parties still in the call, who hear ringback meanwhile. It reports false
// when that cannot be done.
func (c *Call) ringBack(ctx context.Context, agent *Leg) bool {
	if agent == nil || agent.party.Extension == "" || len(c.parties) == 0 {
		return false
	}
	if _, err := c.dialExtension(ctx, agent.party.Extension, dialRecall, nil); err != nil {
		c.log.Info("transfer recall impossible", "extension", agent.party.Extension, "error", err)
		return false
	}
	for _, p := range c.parties {
		p.ringback = true
	}
	return true
}

// unholdAll resumes every party Ringdesk held or parked, except but.
func (c *Call) unholdAll(but *Leg) {
	now := time.Now()
	for _, p := range c.parties {
		if p == but {
			continue
		}
		p.parked = false
		p.ringback = false
		if p.apiHeld {
			p.apiHeld = false
			c.sw.observe(PartyResumed{base: c.base(), Leg: p.id, HeldFor: now.Sub(p.heldAt)})
		}
	}
}

// completeBlind finishes a blind transfer (or a recall) whose target answered.
func (c *Call) completeBlind(ctx context.Context, d *dial) {
	for _, p := range c.parties {
		p.ringback = false
	}
	if d.purpose == dialRecall {
		c.log.Debug("transfer recall answered")
		return
	}
	c.endTransfer(TransferBlind, "completed", false)
	if d.by != nil && c.connected(d.by) {
		c.release(ctx, d.by, d.refer)
	}
}

// referNotified is posted once the final NOTIFY of a phone's transfer was
// answered (or given up on): the transferring phone can be released.
type referNotified struct{}

// release lets go of the party that transferred the call. A phone that
// asked by REFER (r set) first gets the final NOTIFY and is released only
// once it answered it, since a BYE first would end the dialog the NOTIFY
// belongs to; most phones hang up on that NOTIFY themselves. Meanwhile it
// is parked: it neither hears nor is heard.
func (c *Call) release(ctx context.Context, leg *Leg, r *sip.Refer) {
	if r == nil {
		c.partyLeft(ctx, leg, CauseTransferred)
		return
	}
	leg.parked = true
	c.rewire()
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	c.helpers.Go(func() {
		defer cancel()
		if err := r.Notify(nctx, 200, "OK"); err != nil {
			c.log.Debug("notify failed", "error", err)
		}
		c.post(leg, referNotified{})
	})
}

// notify reports a transfer's progress to the referrer, in the background.
func (c *Call) notify(ctx context.Context, r *sip.Refer, code int, reason string) {
	if r == nil {
		return
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	c.helpers.Go(func() {
		defer cancel()
		if err := r.Notify(nctx, code, reason); err != nil {
			c.log.Debug("notify failed", "error", err)
		}
	})
}

// startTransfer records a transfer's start.
func (c *Call) startTransfer(kind TransferKind, by *Leg, target string) {
	t := TransferRecord{Kind: kind, Target: target, Outcome: "started", At: time.Now()}
	if by != nil {
		t.By = by.id
	}
	c.transfers = append(c.transfers, t)
	c.sw.observe(TransferStarted{base: c.base(), Transfer: t})
}

// endTransfer records the outcome of the last transfer of kind.
func (c *Call) endTransfer(kind TransferKind, outcome string, recalled bool) {
	for i := len(c.transfers) - 1; i >= 0; i-- {
		if c.transfers[i].Kind == kind && c.transfers[i].Outcome == "started" {
			c.transfers[i].Outcome = outcome
			c.log.Debug("transfer ended", "kind", string(kind), "outcome", outcome, "recalled", recalled)
			c.sw.observe(TransferEnded{base: c.base(), Transfer: c.transfers[i], Recalled: recalled})
			return
		}
	}
}

// partyLeft takes a connected party out of the call (it hung up, or Ringdesk
// released it); the call goes on while two parties remain, or one with
// someone being dialled for it.
func (c *Call) partyLeft(ctx context.Context, leg *Leg, cause Cause) {
	i := -1
	for j, p := range c.parties {
		if p == leg {
			i = j
		}
	}
	if i < 0 {
		return
	}
	c.parties = append(c.parties[:i], c.parties[i+1:]...)
	if leg == c.recallFor {
		// the phone hung up after its transfer failed: ring it again
		c.recallFor = nil
		c.stopRecallTimer()
		if c.ringBack(c.sw.ctx, leg) { //nolint:contextcheck // lives with the call
			c.sw.observe(TransferRecalled{base: c.base(), Transfer: c.transfers[len(c.transfers)-1]})
		}
	}
	if leg.state == LegStateHeld {
		leg.rec.HeldFor += time.Since(leg.heldSince)
	}
	c.endLeg(ctx, leg, 200, cause)
	if len(c.parties) >= 2 || (len(c.parties) == 1 && c.liveDials() > 0) {
		c.sw.observe(LegLeft{base: c.base(), Leg: leg.snapshot()})
	}
	c.log.Debug("party left", "leg_id", string(leg.id), "cause", cause.String())
	if leg == c.host {
		c.host = nil
		for _, p := range c.parties {
			if p != c.caller {
				c.host = p
				break
			}
		}
		if c.host == nil && len(c.parties) > 0 {
			c.host = c.parties[0]
		}
		if c.host != nil {
			c.sw.observe(HostChanged{base: c.base(), Host: c.host.id})
		}
	}
	if cs := c.consult; cs != nil && leg == cs.by {
		if cs.answer != nil && c.connected(cs.answer) {
			c.completeConsult(ctx) // the agent hung up: customer and target talk
		}
		// still ringing: dialAnswered completes it, dialFailed recalls
	}
	if cs := c.consult; cs != nil && leg == cs.answer {
		// the consulted party hung up: back to the customer
		c.endTransfer(TransferAttended, "cancelled", false)
		c.consult = nil
		c.unholdAll(nil)
	}
	if cause != CauseTransferred {
		c.hungUpBy = RoleCallee
		if leg == c.caller {
			c.hungUpBy = RoleCaller
		}
	}
	c.settle()
}

// settle ends the call when nobody is left to talk to, else rewires.
func (c *Call) settle() {
	if c.ended {
		return
	}
	if len(c.parties) == 0 || (len(c.parties) == 1 && c.liveDials() == 0) {
		role := c.hungUpBy
		if role == RoleNone {
			role = RoleSystem
		}
		c.finish(CauseNormal, role)
		return
	}
	c.rewire()
}

// completeConsult joins the held customer(s) and the consulted target and
// releases the consulting agent.
func (c *Call) completeConsult(ctx context.Context) {
	cs := c.consult
	if cs == nil {
		return
	}
	c.consult = nil
	c.unholdAll(nil)
	c.endTransfer(TransferAttended, "completed", false)
	if cs.by != nil && c.connected(cs.by) {
		c.partyLeft(ctx, cs.by, CauseTransferred)
		return
	}
	c.rewire()
}
