package calls

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"time"

	"github.com/ringdesk/ringdesk/acd"
	"github.com/ringdesk/ringdesk/dialplan"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/sip"
)

// This file is the supervisor's half of a routed call: a number of the
// dialplan answered by Ringdesk itself, whose flow (flow.go) runs on its
// own goroutine and asks the supervisor, through commands, to play
// prompts, ring agents and record voicemail.

// backdrop is what a caller in the flow hears when no prompt plays.
type backdrop int

const (
	backdropSilence  backdrop = iota // menus: waiting for a digit
	backdropMusic                    // queues: hold music
	backdropRingback                 // ring groups: ringing tone
)

// offer is a set of phones rung at once for the flow: the agents of one
// step of a ring group or queue, an extension or an outside number.
type offer struct {
	legs   []*Leg
	agents []string // agents reserved for the offer (released when it ends)
	// forwardNext are agents forwarding on no answer: their number is rung
	// next, so they stay reserved when this offer ends.
	forwardNext []string
	result      chan offerResult
	done        bool
	rangOut     bool // withdrawn: nobody answered within the ring interval
}

// offerResult is how an offer ended.
type offerResult struct {
	answered bool
	agent    string // the agent who answered
}

// finishOffer reports how the offer ended, once.
func (o *offer) finish(r offerResult) {
	if o.done {
		return
	}
	o.done = true
	o.result <- r // buffered: never blocks
}

// live counts the offer's legs still ringing.
func (o *offer) live() int {
	n := 0
	for _, l := range o.legs {
		if l.state != LegStateEnded {
			n++
		}
	}
	return n
}

// routed is a call's place in the dialplan, kept for its record.
type routed struct {
	number     *dialplan.Number
	open       bool
	department string
	menuPath   string
	queue      string
	queueSince time.Time     // joined the queue; zero when not in one
	queueWait  time.Duration // time waited in queues, summed
	ringSince  time.Time     // the flow began ringing agents (for the wait time)
	voicemail  *Voicemail
	vmBox      string
	vmRec      *media.Recorder
	vmStarted  time.Time
}

// direct reports whether a route just rings an extension or an outside
// number with no message first: then the caller is not answered by
// Ringdesk but hears the far end ring, as without a dialplan.
func direct(r dialplan.Route) bool {
	return r.Message == nil && (r.Action.Kind == dialplan.ExtensionAction || r.Action.Kind == dialplan.OutsideAction)
}

// startFlow answers the caller and starts the route's flow. It reports
// whether the call is already over.
func (c *Call) startFlow(ctx context.Context, plan *dialplan.Plan, r dialplan.Route) bool {
	c.route = &routed{number: r.Number, open: r.Open, department: r.Number.Department}
	c.callee = Party{Number: r.Number.Number, Name: r.Number.Description}
	if _, ok := c.callerMedia(); !ok {
		return true
	}
	if err := c.caller.in.Answer(c.caller.lastBody); err != nil {
		if errors.Is(err, sip.ErrCancelled) {
			c.caller.peerEnded = true
			c.finish(CauseCancelled, RoleCaller)
			return true
		}
		c.log.Warn("answering the caller failed", "error", err)
		c.finish(CauseSignaling, RoleSystem)
		return true
	}
	now := time.Now()
	c.selfAnswered = true
	c.caller.state = LegStateAnswered
	c.caller.rec.Answered = now
	c.status = 200
	c.parties = []*Leg{c.caller}
	c.caller.quiet = true
	c.listen(c.caller)
	c.rewire()
	c.mediaTimer = time.NewTimer(c.sw.cfg.MediaTimeout)
	c.sw.observe(CallRouted{
		base: c.base(), Number: r.Number.Number, Description: r.Number.Description,
		Department: r.Number.Department, Open: r.Open,
	})
	c.log.Debug("call routed", "number", r.Number.Number, "open", r.Open, "action", r.Action.String())

	fctx, cancel := context.WithCancel(ctx)
	f := &flow{
		c: c, plan: plan, route: r, pool: c.sw.pool, log: c.log,
		digits: make(chan byte, flowDigits),
		cancel: cancel, done: make(chan struct{}),
	}
	c.flow = f
	c.helpers.Go(func() { f.run(fctx) })
	return false
}

// stopFlow cancels the flow and waits for it; the supervisor is leaving.
func (c *Call) stopFlow() {
	if c.flow == nil {
		return
	}
	c.flow.cancel()
	<-c.flow.done
}

// flowDigit hands a caller's keypress to the flow.
func (c *Call) flowDigit(leg *Leg, d byte) {
	if c.flow == nil || leg != c.caller || c.winner != nil {
		return
	}
	select {
	case c.flow.digits <- d:
	default: // the flow is not reading: a key among many
	}
}

// setBackdrop chooses what the caller hears between prompts.
func (c *Call) setBackdrop(b backdrop) {
	c.caller.quiet = b == backdropSilence
	c.caller.ringback = b == backdropRingback
	c.rewire()
}

// ringAgents rings the phones of agents (reserved by the flow's hunt) for
// the flow. An agent forwarding every call is rung at their number
// instead; forwardNow says to ring every agent's forward number.
func (c *Call) ringAgents(ctx context.Context, agents []string, forwardNow bool) *offer {
	o := &offer{agents: agents, result: make(chan offerResult, 1)}
	for _, id := range agents {
		st, ok := c.sw.pool.Agent(id)
		if !ok {
			continue
		}
		callee := Party{Extension: st.Extension, Name: st.Name, AgentID: id, URI: "sip:" + st.Extension}
		if !forwardNow && st.Forward.Number != "" && st.Forward.When == acd.ForwardNoAnswer {
			o.forwardNext = append(o.forwardNext, id)
		}
		if st.Forward.Number != "" && (forwardNow || st.Forward.When == acd.ForwardAlways) {
			if leg := c.ringOutside(ctx, st.Forward.Number, callee); leg != nil {
				o.legs = append(o.legs, leg)
			}
			continue
		}
		if forwardNow {
			continue
		}
		for _, b := range c.sw.sig.Bindings(st.Extension) {
			o.legs = append(o.legs, c.ringLeg(ctx, b, callee))
		}
	}
	c.settleOffer(o)
	return o
}

// ringExtension rings every phone of an extension for the flow.
func (c *Call) ringExtension(ctx context.Context, number string) *offer {
	o := &offer{result: make(chan offerResult, 1)}
	ext, ok := c.sw.ext[number]
	if ok {
		callee := Party{Extension: ext.Number, Name: ext.Name, AgentID: ext.AgentID, URI: "sip:" + ext.Number}
		for _, b := range c.sw.sig.Bindings(ext.Number) {
			o.legs = append(o.legs, c.ringLeg(ctx, b, callee))
		}
	}
	c.settleOffer(o)
	return o
}

// ringNumber calls an outside number through its route's trunks for the flow.
func (c *Call) ringNumber(ctx context.Context, number string) *offer {
	o := &offer{result: make(chan offerResult, 1)}
	if leg := c.ringOutside(ctx, number, Party{Number: number, URI: "tel:" + number}); leg != nil {
		o.legs = append(o.legs, leg)
	}
	c.settleOffer(o)
	return o
}

// ringLeg originates one leg of an offer.
func (c *Call) ringLeg(ctx context.Context, b sip.Binding, callee Party) *Leg {
	leg := c.originate(ctx, b, callee, c.caller.neg.Codec.Name, nil)
	c.branches = append(c.branches, leg)
	return leg
}

// ringOutside calls number through the first trunk of its route that
// takes the call; nil when none does.
func (c *Call) ringOutside(ctx context.Context, number string, callee Party) *Leg {
	o, ok := c.sw.routeOutside(number)
	if !ok {
		c.log.Info("no route for the number", "number", number)
		return nil
	}
	saved, savedCallee := c.out, c.callee
	c.out, c.callee = o, callee
	defer func() { c.out, c.callee = saved, savedCallee }()
	n := len(c.branches)
	if !c.ringTrunk(ctx, c.caller.neg.Codec.Name) || len(c.branches) == n {
		return nil
	}
	return c.branches[len(c.branches)-1]
}

// settleOffer ends the offer when none of its legs is ringing any more.
func (c *Call) settleOffer(o *offer) {
	if c.offer == nil || c.offer == o {
		c.offer = o
	}
	if o.live() == 0 && !o.done {
		c.endOffer(o)
		o.finish(offerResult{})
	}
}

// withdraw stops ringing an offer's phones; the agents let the call ring
// out. It reports whether somebody answered first.
func (c *Call) withdraw(ctx context.Context, o *offer) bool {
	if o.done {
		return c.winner != nil
	}
	o.rangOut = true
	for _, l := range o.legs {
		if l.state != LegStateEnded {
			l.rangOut = true
			c.endLeg(ctx, l, 487, CauseNoAnswer) // the last one settles the offer
		}
	}
	if !o.done {
		c.endOffer(o)
		o.finish(offerResult{})
	}
	return false
}

// endOffer releases an offer's agents that did not answer: when it was
// withdrawn, they let the call ring out.
func (c *Call) endOffer(o *offer) {
	for _, id := range o.agents {
		if c.winner != nil && c.winner.party.AgentID == id {
			continue
		}
		if c.winner == nil && o.rangOut && slices.Contains(o.forwardNext, id) {
			continue // their number rings next: still theirs (the hunt's Stop releases it otherwise)
		}
		c.sw.pool.Release(id, string(c.id), o.rangOut)
	}
	if c.offer == o {
		c.offer = nil
	}
}

// offerLegEnded settles the offer of a leg that ended without answering.
func (c *Call) offerLegEnded(leg *Leg) {
	o := c.offer
	if o == nil || o.done {
		return
	}
	for _, l := range o.legs {
		if l == leg {
			c.settleOffer(o)
			return
		}
	}
}

// flowAnswered connects the caller, answered by Ringdesk, to the agent
// whose phone answered an offer.
func (c *Call) flowAnswered(leg *Leg) {
	c.caller.quiet, c.caller.ringback = false, false
	c.endPlayback()
	if r := c.route; r != nil && !r.queueSince.IsZero() {
		r.queueWait += time.Since(r.queueSince)
		r.queueSince = time.Time{}
	}
	if o := c.offer; o != nil {
		c.endOffer(o)
		o.finish(offerResult{answered: true, agent: leg.party.AgentID})
	}
}

// startVoicemail records the caller into the voicemail directory.
func (c *Call) startVoicemail(box, department string) error {
	now := time.Now()
	path := filepath.Join(c.sw.cfg.VoicemailDir, now.Format("2006"), now.Format("01"), now.Format("02"), string(c.id)+".wav")
	r, err := media.StartMonoRecorder(path, c.log)
	if err != nil {
		return err
	}
	rt := c.route
	rt.vmRec, rt.vmBox, rt.vmStarted = r, box, now
	if department != "" {
		rt.department = department
	}
	c.caller.quiet = true
	if c.mixer != nil {
		c.mixer.SetTap(r)
	}
	c.rewire()
	c.log.Debug("voicemail", "box", box, "path", path)
	return nil
}

// stopVoicemail finishes the voicemail file, if one is being recorded,
// and reports it.
func (c *Call) stopVoicemail() {
	rt := c.route
	if rt == nil || rt.vmRec == nil {
		return
	}
	vm := rt.vmRec
	rt.vmRec = nil
	if c.mixer != nil {
		c.mixer.SetTap(c.recTap())
	}
	res, err := vm.Stop()
	if err != nil {
		c.log.Warn("voicemail incomplete", "path", res.Path, "error", err)
	}
	rt.voicemail = &Voicemail{
		Box: rt.vmBox, Department: rt.department, Path: res.Path,
		Duration: res.Duration, Size: res.Size, Started: rt.vmStarted,
	}
	c.rewire()
	c.sw.observe(VoicemailLeft{base: c.base(), Voicemail: *rt.voicemail, MenuPath: rt.menuPath})
}

// leaveQueue notes that the caller left the queue it waited in.
func (c *Call) leaveQueue(reason string) {
	rt := c.route
	if rt == nil || rt.queueSince.IsZero() {
		return
	}
	waited := time.Since(rt.queueSince)
	rt.queueWait += waited
	rt.queueSince = time.Time{}
	c.sw.observe(QueueLeft{base: c.base(), Queue: rt.queue, Reason: reason, Waited: waited})
}

// endRoute reports what the end of the call means for its flow: a caller
// who hung up in a queue abandoned it; a voicemail being recorded is kept.
func (c *Call) endRoute() {
	if c.route == nil {
		return
	}
	c.stopVoicemail()
	if c.winner == nil && c.hungUpBy == RoleCaller {
		c.leaveQueue(QueueAbandoned)
	} else {
		c.leaveQueue(QueueHungUp)
	}
	if o := c.offer; o != nil {
		c.endOffer(o)
		o.finish(offerResult{})
	}
}

// routeRecord fills the call record's dialplan fields.
func (c *Call) routeRecord(rec *CallRecord) {
	rt := c.route
	if rt == nil {
		return
	}
	rec.Route = &RouteRecord{
		Number: rt.number.Number, Department: rt.department, Open: rt.open,
		MenuPath: rt.menuPath, Queue: rt.queue, QueueWait: rt.queueWait,
		Voicemail: rt.voicemail,
	}
	if c.winner == nil && c.hungUpBy == RoleCaller && !rt.ringSince.IsZero() && rt.voicemail == nil {
		rec.Route.Abandoned = true
		rec.Route.Waited = rec.Ended.Sub(rt.ringSince)
	} else if !rt.ringSince.IsZero() && c.winner != nil {
		rec.Route.Waited = c.answered.Sub(rt.ringSince)
	}
}

// agentBusy tells presence that an agent took a call on leg.
func (c *Call) agentBusy(leg *Leg) {
	if id := leg.party.AgentID; id != "" && c.sw.pool != nil {
		c.sw.pool.CallStarted(id, string(c.id))
		leg.busyAgent = true
	}
}

// agentFree tells presence that an agent's call on leg is over.
func (c *Call) agentFree(leg *Leg) {
	if leg.busyAgent {
		leg.busyAgent = false
		c.sw.pool.CallEnded(leg.party.AgentID, string(c.id))
	}
}
