package calls

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ringdesk/ringdesk/dialplan"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/dtmf"
	"github.com/ringdesk/ringdesk/media/sdp"
	"github.com/ringdesk/ringdesk/sip"
)

const (
	// eventQueue bounds the events waiting for a call's supervisor.
	eventQueue = 64
	// teardownTimeout bounds the BYEs sent when a call ends.
	teardownTimeout = 5 * time.Second
	// infoTimeout bounds forwarding one INFO to the other leg.
	infoTimeout = 5 * time.Second
)

// legEvent is something that happened on one leg (a sip.Event, a
// media.Digit, a dial's timeout), queued for the supervisor.
type legEvent struct {
	leg *Leg
	ev  any
}

// command is an API request run on the supervisor.
type command struct {
	fn    func(ctx context.Context) error
	reply chan error
}

// Call is one conversation from the caller's INVITE to the last BYE. Its
// supervisor goroutine (run) owns all of its state; SIP goroutines only post
// events to it.
type Call struct {
	id  CallID
	sw  *Switch
	log *slog.Logger

	events  chan legEvent
	cmds    chan command
	done    chan struct{} // closed when run returns
	closing chan struct{} // closed when the supervisor stops taking commands (teardown)

	caller   *Leg
	branches []*Leg
	winner   *Leg
	early    *Leg // the branch whose early media the caller hears

	started     time.Time
	answered    time.Time
	sentRinging bool
	sentEarly   bool
	ringTimer   *time.Timer
	mediaTimer  *time.Timer
	holdSince   time.Time // when the first of the current holds began
	holdTotal   time.Duration
	lastResume  time.Time
	cause       Cause
	status      int
	hungUpBy    Role
	callee      Party
	helpers     sync.WaitGroup // INFO forwarding
	ended       bool
	legSeq      int

	// the conversation after the first answer
	legs      []*Leg // every leg, in creation order (for the record)
	parties   []*Leg // connected legs, in order of joining
	host      *Leg   // the party controlling the call (the answering agent first)
	dials     []*dial
	mixer     *media.Mixer
	rec       *media.Recorder
	recording *Recording
	transfers []TransferRecord
	consult   *dial // the consultation in progress
	// recallFor is a phone whose transfer failed, on the line for
	// recallGrace: if it hangs up, its agent is rung again
	recallFor   *Leg
	recallTimer *time.Timer
	playing     []*Playback   // prompts and tones playing (Play)
	playEnded   chan struct{} // a playback ended (wakes the supervisor)

	// trunks
	out      *outside // a call to a number outside: the trunks left to try
	channels []string // trunk channels the call holds

	// the dialplan
	flow         *flow   // the route's flow, running while nobody took the call
	route        *routed // what the dialplan did with the call; nil without
	offer        *offer  // the phones the flow rings now
	selfAnswered bool    // Ringdesk answered the caller for the flow

	sipMu  sync.Mutex
	sipIDs map[string]bool // SIP Call-IDs of the call's legs, for REFER with Replaces
}

// addSIPCallID notes a SIP Call-ID of one of the call's legs.
func (c *Call) addSIPCallID(id string) {
	c.sipMu.Lock()
	if c.sipIDs == nil {
		c.sipIDs = make(map[string]bool)
	}
	c.sipIDs[id] = true
	c.sipMu.Unlock()
}

// hasSIPCallID reports whether one of the call's legs has SIP Call-ID id.
func (c *Call) hasSIPCallID(id string) bool {
	c.sipMu.Lock()
	defer c.sipMu.Unlock()
	return c.sipIDs[id]
}

func newCall(sw *Switch, in *sip.InboundCall) *Call {
	id := CallID(newID("c-"))
	c := &Call{
		id:        id,
		sw:        sw,
		log:       sw.log.With("call_id", string(id), "sip_call_id", in.CallID),
		events:    make(chan legEvent, eventQueue),
		cmds:      make(chan command),
		done:      make(chan struct{}),
		closing:   make(chan struct{}),
		started:   time.Now(),
		playEnded: make(chan struct{}, 1),
	}
	caller := sw.partyFor(in)
	c.caller = &Leg{
		id:    c.nextLegID(),
		dir:   Inbound,
		party: caller,
		in:    in,
		state: LegStateTrying,
	}
	c.caller.rec = LegRecord{
		ID: c.caller.id, Direction: Inbound, SIPCallID: in.CallID, Party: caller,
		Source: in.Source, Transport: in.Transport, UserAgent: in.UserAgent, Started: c.started,
	}
	c.legs = append(c.legs, c.caller)
	c.addSIPCallID(in.CallID)
	in.SetEventHandler(c.handler(c.caller))
	return c
}

func (c *Call) nextLegID() LegID {
	c.legSeq++
	return LegID(string(c.id) + "-" + strconv.Itoa(c.legSeq))
}

// handler returns the SIP event handler of leg: it queues the event for the
// supervisor, or drops it once the call is over.
func (c *Call) handler(leg *Leg) sip.EventHandler {
	return func(ev sip.Event) { c.post(leg, ev) }
}

// post queues an event of leg for the supervisor; dropped once the call is over.
func (c *Call) post(leg *Leg, ev any) {
	select {
	case c.events <- legEvent{leg: leg, ev: ev}:
	case <-c.done:
	}
}

// run is the call's supervisor.
func (c *Call) run(ctx context.Context) {
	defer close(c.done)
	defer func() { // a bug in teardown (or an observer) must not take the PBX down either
		if r := recover(); r != nil {
			c.log.Error("call teardown panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	defer c.teardown(ctx)
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("call panicked", "panic", r, "stack", string(debug.Stack()))
			c.finish(CauseInternal, RoleSystem)
		}
	}()
	if c.start(ctx) {
		return
	}
	for !c.ended {
		var ringC, mediaC <-chan time.Time
		if c.ringTimer != nil {
			ringC = c.ringTimer.C
		}
		if c.mediaTimer != nil {
			mediaC = c.mediaTimer.C
		}
		select {
		case <-ctx.Done():
			c.finish(CauseShutdown, RoleSystem)
		case e := <-c.events:
			c.handle(ctx, e)
		case cmd := <-c.cmds:
			cmd.reply <- cmd.fn(ctx)
		case <-c.playEnded:
			c.sweepPlayback()
		case <-ringC:
			c.ringTimer = nil
			c.log.Debug("no answer", "ring_timeout", c.sw.cfg.RingTimeout)
			c.finish(CauseNoAnswer, RoleSystem)
		case <-mediaC:
			c.checkMedia()
		}
	}
}

// start routes the caller's INVITE: find the extension, prepare the caller's
// media and ring every registered phone of the callee. It reports whether
// the call is already over.
func (c *Call) start(ctx context.Context) bool {
	in := c.caller.in
	c.sw.observe(CallStarted{base: c.base(), Caller: c.caller.party, Dialed: in.Dialed, Leg: c.caller.rec})
	c.log.Debug("call started", "caller", c.caller.party.Extension, "dialed", in.Dialed,
		"source", in.Source.String(), "user_agent", in.UserAgent)

	dest, cause := c.destination(in)
	if cause != CauseUnknown {
		c.finish(cause, RoleSystem)
		return true
	}
	if dest.plan != nil {
		return c.startFlow(ctx, dest.plan, dest.route)
	}
	if !dest.ok {
		return c.startOutside(ctx)
	}
	ext := dest.ext
	c.callee = Party{Extension: ext.Number, Name: ext.Name, AgentID: ext.AgentID, URI: "sip:" + ext.Number}
	var targets []sip.Binding
	for _, b := range c.sw.sig.Bindings(ext.Number) {
		if b.Source == in.Source && b.AOR == c.caller.party.Extension {
			continue // the calling phone itself
		}
		targets = append(targets, b)
	}
	if len(targets) == 0 {
		c.finish(CauseUnavailable, RoleSystem)
		return true
	}

	first, ok := c.callerMedia()
	if !ok {
		return true
	}
	for _, b := range targets {
		c.ring(ctx, b, first)
	}
	if c.liveBranches() == 0 {
		c.finish(c.branchCause())
		return true
	}
	c.ringTimer = time.NewTimer(c.sw.cfg.RingTimeout)
	return false
}

// target is where a call goes: an extension (ok), a number of the
// dialplan (plan), or, with neither, a number outside (c.out is set).
type target struct {
	ext   Extension
	ok    bool
	plan  *dialplan.Plan
	route dialplan.Route
}

// destination decides where a call goes, or why nowhere (a cause).
func (c *Call) destination(in *sip.InboundCall) (target, Cause) {
	if in.Trunk != "" {
		if !c.sw.takeChannel(in.Trunk) {
			c.log.Info("trunk full: call refused", "trunk", in.Trunk)
			return target{}, CauseCongestion
		}
		c.channels = append(c.channels, in.Trunk)
		did, err := c.sw.didOf(in)
		if err != nil {
			c.log.Info("called number not understood", "trunk", in.Trunk, "dialed", in.Dialed, "error", err)
			return target{}, CauseNotFound
		}
		t, ok := c.numberTarget(did, false)
		if !ok {
			c.log.Info("number not in the dialplan", "trunk", in.Trunk, "did", did)
			return target{}, CauseNotFound
		}
		c.log.Debug("call from a trunk", "trunk", in.Trunk, "did", did)
		return t, CauseUnknown
	}
	if ext, ok := c.sw.ext[in.Dialed]; ok {
		return target{ext: ext, ok: true}, CauseUnknown
	}
	// Only the configured extensions' phones may call the dialplan's
	// internal numbers and out (never a call that came in from a trunk,
	// nor a SIP user without an extension). A DID of the dialplan dialed
	// by an agent goes out like any outside number, as on other PBXs.
	if _, agent := c.sw.ext[in.AuthUser]; agent {
		if t, ok := c.numberTarget(in.Dialed, true); ok {
			return t, CauseUnknown
		}
		if o, ok := c.sw.outsideNumber(in.Dialed); ok {
			c.out = o
			return target{}, CauseUnknown
		}
	}
	return target{}, CauseNotFound
}

// numberTarget routes a number of the dialplan (with internal, only an
// internal number, not a DID). A number that only rings an extension or
// an outside number is put straight through, as a call to the extension
// would be.
func (c *Call) numberTarget(number string, internal bool) (target, bool) {
	plan := c.sw.Plan()
	if plan == nil {
		return target{}, false
	}
	r, ok := plan.Route(number, time.Now())
	if !ok || (internal && strings.HasPrefix(r.Number.Number, "+")) {
		return target{}, false
	}
	if direct(r) {
		if r.Action.Kind == dialplan.ExtensionAction {
			ext, ok := c.sw.ext[r.Action.Target]
			return target{ext: ext, ok: ok}, ok
		}
		o, ok := c.sw.routeOutside(r.Action.Target)
		if ok {
			c.out = o
		}
		return target{}, ok
	}
	return target{plan: plan, route: r}, true
}

// callerMedia opens the caller's RTP session and answers its offer (or
// prepares ours for a late offer); it returns the caller's codec, and false
// when the call is over.
func (c *Call) callerMedia() (string, bool) {
	in := c.caller.in
	var err error
	c.caller.rtp, err = c.sw.media.NewSession(c.log)
	if err != nil {
		c.log.Error("no rtp session for caller", "error", err)
		c.finish(CauseInternal, RoleSystem)
		return "", false
	}
	c.caller.local = newLocal(c.caller.rtp, "")
	if len(in.SDP) == 0 {
		c.caller.makeOffer() // late offer: our offer goes in the 200 OK
		return "", true
	}
	// The answer to the caller does not depend on the callee: each leg
	// negotiates with Ringdesk, and the relay transcodes if they differ.
	if _, err := c.caller.answerOffer(in.SDP); err != nil {
		c.log.Info("caller offer refused", "error", err)
		c.finish(CauseIncompatible, RoleSystem)
		return "", false
	}
	return c.caller.neg.Codec.Name, true
}

// startOutside sends an agent's call to a number outside through the
// trunks of its route, the first that takes it. It reports whether the
// call is already over.
func (c *Call) startOutside(ctx context.Context) bool {
	c.callee = Party{Number: c.out.number, URI: "tel:" + c.out.number}
	first, ok := c.callerMedia()
	if !ok {
		return true
	}
	if !c.ringTrunk(ctx, first) {
		// every trunk of the route is full or could not be reached
		c.finish(CauseCongestion, RoleSystem)
		return true
	}
	c.ringTimer = time.NewTimer(c.sw.cfg.RingTimeout)
	return false
}

// ring originates one outbound leg of the first ring to binding b.
func (c *Call) ring(ctx context.Context, b sip.Binding, firstCodec string) {
	c.branches = append(c.branches, c.originate(ctx, b, c.callee, firstCodec, nil))
}

// originate sends an INVITE to binding b for callee, as part of dial d (nil
// for the first ring). The leg is returned even when it failed at once
// (then it has ended).
func (c *Call) originate(ctx context.Context, b sip.Binding, callee Party, firstCodec string, d *dial) *Leg {
	from := sip.Party{User: c.caller.party.Extension, DisplayName: c.caller.party.Name}
	if from.User == "" { // a caller from outside: its number
		from.User = c.caller.party.Number
	}
	leg := c.originateReq(ctx, sip.InviteRequest{Target: b, From: from, To: callee.Extension}, callee, firstCodec, d)
	leg.rec.UserAgent = b.UserAgent
	return leg
}

// originateReq sends the INVITE r (its SDP is made here) for callee, as
// part of dial d (nil for the first ring).
func (c *Call) originateReq(ctx context.Context, r sip.InviteRequest, callee Party, firstCodec string, d *dial) *Leg {
	leg := &Leg{id: c.nextLegID(), dir: Outbound, party: callee, state: LegStateTrying, dial: d}
	now := time.Now()
	b := r.Target
	leg.rec = LegRecord{
		ID: leg.id, Direction: Outbound, Party: callee, Contact: b.Contact,
		Source: b.Source, Transport: b.Transport, Started: now,
	}
	c.legs = append(c.legs, leg)
	var err error
	leg.rtp, err = c.sw.media.NewSession(c.log)
	if err != nil {
		c.log.Error("no rtp session for callee", "error", err)
		c.endLeg(ctx, leg, 503, CauseInternal)
		return leg
	}
	leg.local = newLocal(leg.rtp, firstCodec)
	if t, ok := c.sw.trunk(r.Trunk); ok && r.Trunk != "" {
		leg.local.SRTP = t.SRTP
	}
	r.SDP = leg.makeOffer()
	leg.out, err = c.sw.sig.Invite(ctx, r, c.handler(leg))
	if err != nil {
		c.log.Warn("invite failed", "contact", b.Contact, "trunk", r.Trunk, "error", err)
		leg.peerEnded = true
		c.endLeg(ctx, leg, 503, CauseUnavailable)
		return leg
	}
	if r.Trunk != "" {
		t := leg.out.Target
		leg.rec.Contact, leg.rec.Source, leg.rec.Transport = t.Contact, t.Source, t.Transport
	}
	leg.rec.SIPCallID = leg.out.CallID
	c.addSIPCallID(leg.out.CallID)
	c.log.Debug("ringing", "leg_id", string(leg.id), "contact", b.Contact, "source", b.Source.String(),
		"sip_call_id_out", leg.out.CallID)
	return leg
}

// handle applies one event of a leg.
func (c *Call) handle(ctx context.Context, e legEvent) {
	leg := e.leg
	switch ev := e.ev.(type) {
	case dialTimeout:
		c.dialTimedOut(ctx, ev.d)
		return
	case recallTimeout:
		c.recallExpired()
		return
	case referNotified:
		if c.connected(leg) {
			c.partyLeft(ctx, leg, CauseTransferred)
		}
		return
	}
	if leg.state == LegStateEnded {
		// Late events of a finished leg: a 487 after our CANCEL, a 2xx
		// crossing it (the sip package hangs those up).
		return
	}
	if leg.dial != nil {
		if c.handleDialLeg(ctx, leg, e.ev) {
			return
		}
	}
	switch ev := e.ev.(type) {
	case media.Digit:
		c.keypress(leg, byte(ev.Digit), ev.Source)
	case sip.Cancelled:
		leg.peerEnded = true
		c.finish(CauseCancelled, RoleCaller)
	case sip.AckReceived:
		if leg == c.caller && c.caller.offer != nil && !c.caller.hasNeg {
			if len(ev.SDP) == 0 {
				c.log.Warn("late offer: ACK without an answer")
				c.finish(CauseSignaling, RoleSystem)
				return
			}
			if err := c.caller.takeAnswer(ev.SDP); err != nil {
				c.log.Warn("late offer: bad answer in ACK", "error", err)
				c.finish(CauseIncompatible, RoleSystem)
				return
			}
			c.rewire()
		} else if leg.offer != nil && len(ev.SDP) > 0 {
			if err := leg.takeAnswer(ev.SDP); err != nil {
				c.log.Warn("bad answer in ACK", "leg_id", string(leg.id), "error", err)
			}
			c.holdChanged(leg)
		}
	case sip.AckTimedOut:
		c.log.Warn("no ACK from caller")
		c.finish(CauseSignaling, RoleSystem)
	case sip.ByeReceived:
		leg.peerEnded = true
		if c.winner != nil && c.connected(leg) && (len(c.parties) > 2 || c.liveDials() > 0 || leg == c.recallFor) {
			c.partyLeft(ctx, leg, CauseNormal) // the others go on
			return
		}
		role := RoleCallee
		if leg == c.caller {
			role = RoleCaller
		}
		c.finish(CauseNormal, role)
	case sip.ProgressReceived:
		c.progress(leg, ev)
	case sip.Answered:
		c.answer(ctx, leg, ev)
	case sip.Rejected:
		leg.peerEnded = true
		cause := CauseFromStatus(ev.Code)
		c.endLeg(ctx, leg, ev.Code, cause)
		if leg.trunk != "" {
			c.releaseChannel(leg.trunk)
			if c.winner == nil && !c.ended && failover(ev.Code) && c.liveBranches() == 0 && c.out != nil {
				c.log.Info("trunk failed: trying the next", "trunk", leg.trunk, "code", ev.Code)
				if c.ringTrunk(ctx, c.caller.neg.Codec.Name) {
					return
				}
				// every trunk of the route failed: the network, not the
				// number, is the problem (503, not 480)
				c.finish(CauseCongestion, RoleSystem)
				return
			}
		}
		if c.selfAnswered {
			return // the flow goes on (endLeg settled its offer)
		}
		if c.winner == nil && c.liveBranches() == 0 && !c.ended {
			c.finish(c.branchCause())
		}
	case sip.OfferReceived:
		c.reoffer(leg, ev)
	case sip.InfoReceived:
		c.info(ctx, leg, ev)
	case sip.ReferReceived:
		c.refer(ctx, leg, ev)
	}
}

// progress handles 180/183 from a ringing phone.
func (c *Call) progress(leg *Leg, ev sip.ProgressReceived) {
	if c.winner != nil {
		return
	}
	first := leg.state == LegStateTrying
	if first {
		leg.state = LegStateRinging
		leg.rec.Ringing = time.Now()
	}
	if c.selfAnswered {
		// The caller is answered: it hears Ringdesk's ringback or music,
		// never a phone's early media.
		if first {
			c.sw.observe(LegRinging{base: c.base(), Leg: leg.snapshot()})
		}
		return
	}
	early := len(ev.SDP) > 0 && c.caller.hasNeg
	if early {
		if err := leg.takeAnswer(ev.SDP); err != nil {
			c.log.Info("early media refused", "leg_id", string(leg.id), "error", err)
			early = false
		}
	}
	if early {
		if c.early != nil && c.early != leg {
			c.early.rtp.SetPeer(nil) // one early-media source at a time
		}
		c.early = leg
		media.Bridge(c.caller.rtp, leg.rtp)
	}
	if first { // once the early media flows: observers may rely on it
		c.sw.observe(LegRinging{base: c.base(), Leg: leg.snapshot(), EarlyMedia: early})
	}
	if early {
		if !c.sentEarly {
			c.sentEarly = true
			if c.caller.state == LegStateTrying {
				c.caller.state = LegStateRinging
				c.caller.rec.Ringing = time.Now()
			}
			if err := c.caller.in.Progress(183, c.caller.lastBody); err != nil {
				c.log.Debug("183 to caller failed", "error", err)
			}
		}
		return
	}
	if !c.sentRinging && !c.sentEarly {
		c.sentRinging = true
		if c.caller.state == LegStateTrying {
			c.caller.state = LegStateRinging
			c.caller.rec.Ringing = time.Now()
		}
		if err := c.caller.in.Progress(180, nil); err != nil {
			c.log.Debug("180 to caller failed", "error", err)
		}
	}
}

// answer connects the first phone that answers and cancels the others.
func (c *Call) answer(ctx context.Context, leg *Leg, ev sip.Answered) {
	now := time.Now()
	if c.winner != nil {
		// Another phone won the race; its 2xx crossed our CANCEL.
		leg.state = LegStateAnswered
		c.endLeg(ctx, leg, 200, CauseNormal)
		return
	}
	if ev.UserAgent != "" {
		leg.rec.UserAgent = ev.UserAgent
	}
	leg.state = LegStateAnswered
	leg.rec.Answered = now
	if err := leg.takeAnswer(ev.SDP); err != nil {
		c.log.Warn("callee answer refused", "leg_id", string(leg.id), "error", err)
		c.endLeg(ctx, leg, 488, CauseIncompatible)
		if c.liveBranches() == 0 && !c.selfAnswered {
			c.finish(CauseIncompatible, RoleSystem)
		}
		return
	}
	c.winner = leg
	c.answered = now
	if c.ringTimer != nil {
		c.ringTimer.Stop()
		c.ringTimer = nil
	}
	for _, b := range c.branches {
		if b != leg && b.state != LegStateEnded {
			c.endLeg(ctx, b, 487, CauseNormal) // "call completed elsewhere"
		}
	}
	if c.early != nil && c.early != leg {
		c.early.rtp.SetPeer(nil)
	}
	c.parties = []*Leg{c.caller, leg}
	c.host = leg
	c.agentBusy(leg)
	c.agentBusy(c.caller)
	if c.selfAnswered {
		c.flowAnswered(leg)
		c.listen(leg)
		c.rewire()
		c.mediaTimer.Reset(c.sw.cfg.MediaTimeout)
		c.log.Debug("agent answered", "leg_id", string(leg.id), "agent", leg.party.AgentID)
		c.sw.observe(CallAnswered{base: c.base(), Leg: leg.snapshot()})
		if c.route != nil && c.route.queue != "" {
			c.sw.observe(QueueLeft{base: c.base(), Queue: c.route.queue, Reason: QueueAnswered, Waited: c.route.queueWait})
		}
		if c.sw.cfg.Record {
			_ = c.startRecording()
		}
		return
	}
	c.listen(c.caller)
	c.listen(leg)
	c.rewire()
	if err := c.caller.in.Answer(c.caller.lastBody); err != nil {
		// The callee answered, the caller is not there: hang the callee up.
		c.winner, c.answered = nil, time.Time{}
		if errors.Is(err, sip.ErrCancelled) {
			c.caller.peerEnded = true
			c.finish(CauseCancelled, RoleCaller)
			return
		}
		c.log.Warn("answering the caller failed", "error", err)
		c.finish(CauseSignaling, RoleSystem)
		return
	}
	c.caller.state = LegStateAnswered
	c.caller.rec.Answered = now
	c.status = 200
	c.mediaTimer = time.NewTimer(c.sw.cfg.MediaTimeout)
	c.log.Debug("call answered", "leg_id", string(leg.id), "contact", leg.rec.Contact,
		"caller_codec", c.caller.rec.Codec, "callee_codec", leg.rec.Codec)
	c.sw.observe(CallAnswered{base: c.base(), Leg: leg.snapshot()})
	if c.sw.cfg.Record {
		_ = c.startRecording() // a failure is logged; the call goes on unrecorded
	}
}

// reoffer answers a re-INVITE or UPDATE from either party (hold, resume,
// codec change, session refresh) locally: media is anchored, so the other
// party's session need not change.
func (c *Call) reoffer(leg *Leg, ev sip.OfferReceived) {
	if leg.rtp == nil {
		ev.Respond(488, nil)
		return
	}
	if len(ev.SDP) == 0 {
		ev.Respond(200, leg.makeOffer()) // the answer comes in the ACK
		return
	}
	body, err := leg.answerOffer(ev.SDP)
	if err != nil {
		c.log.Info("re-offer refused", "leg_id", string(leg.id), "error", err)
		code := 488
		if errors.Is(err, sdp.ErrMalformed) {
			code = 400
		}
		ev.Respond(code, nil)
		return
	}
	c.holdChanged(leg) // media rewired before the peer learns the answer
	ev.Respond(200, body)
}

// holdChanged reports hold and resume after a leg's direction changed, and
// rewires the media: the other party hears hold music.
func (c *Call) holdChanged(leg *Leg) {
	now := time.Now()
	held := leg.holding()
	switch {
	case held && leg.state == LegStateAnswered:
		leg.state = LegStateHeld
		leg.heldSince = now
		c.log.Debug("call held", "leg_id", string(leg.id))
		c.sw.observe(CallHeld{base: c.base(), By: leg.id})
	case !held && leg.state == LegStateHeld:
		leg.state = LegStateAnswered
		d := now.Sub(leg.heldSince)
		leg.rec.HeldFor += d
		leg.heldSince = time.Time{}
		c.log.Debug("call resumed", "leg_id", string(leg.id), "held_for", d)
		c.sw.observe(CallResumed{base: c.base(), By: leg.id, HeldFor: d})
	}
	if c.winner != nil {
		c.holdClock(now)
		c.rewire()
	}
}

// anyHolding reports whether some party is on hold, by its phone or by Ringdesk.
func (c *Call) anyHolding() bool {
	for _, p := range c.parties {
		if p.state == LegStateHeld || p.apiHeld {
			return true
		}
	}
	return false
}

// holdClock keeps the call's hold time: from the first hold until no
// party is held any more.
func (c *Call) holdClock(now time.Time) {
	held := c.anyHolding()
	switch {
	case held && c.holdSince.IsZero():
		c.holdSince = now
	case !held && !c.holdSince.IsZero():
		c.holdTotal += now.Sub(c.holdSince)
		c.holdSince = time.Time{}
		c.lastResume = now
	}
}

// info handles INFO from a party: a DTMF body is a keypress; in a
// two-party call the INFO also goes to the other party as it came.
func (c *Call) info(ctx context.Context, from *Leg, ev sip.InfoReceived) {
	if d, _, err := dtmf.ParseInfo(ev.ContentType, ev.Body); err == nil {
		c.keypress(from, byte(d), DigitINFO)
	}
	if c.winner == nil || len(c.parties) != 2 || !c.connected(from) {
		return
	}
	to := c.parties[0]
	if to == from {
		to = c.parties[1]
	}
	c.sendInfo(ctx, to, ev.ContentType, ev.Body)
}

// sendInfo sends INFO to a leg in the background.
func (c *Call) sendInfo(ctx context.Context, to *Leg, contentType string, body []byte) {
	send := to.in.SendInfo
	if to.out != nil {
		send = to.out.SendInfo
	}
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), infoTimeout)
	c.helpers.Go(func() {
		defer cancel()
		if err := send(ictx, contentType, body); err != nil {
			c.log.Debug("sending INFO failed", "error", err)
		}
	})
}

// checkMedia ends the call when a party sent no RTP for the media timeout.
// The watchdog is suspended while the call is on hold, and while a party
// waits alone (a transfer or a participant being dialled).
func (c *Call) checkMedia() {
	timeout := c.sw.cfg.MediaTimeout
	now := time.Now()
	if c.selfAnswered && c.winner == nil {
		// in the flow: only the caller is there to fall silent
		last := c.caller.rtp.LastReceived()
		if c.caller.rec.Answered.After(last) {
			last = c.caller.rec.Answered
		}
		silent := now.Sub(last)
		if silent >= timeout {
			c.log.Warn("media timeout in the dialplan", "silent_for", silent.Round(time.Second))
			c.finish(CauseMediaTimeout, RoleSystem)
			return
		}
		c.mediaTimer.Reset(timeout - silent)
		return
	}
	if c.anyHolding() || c.winner == nil || len(c.parties) < 2 || c.liveDials() > 0 {
		c.mediaTimer.Reset(timeout)
		return
	}
	next := timeout
	for _, leg := range c.parties {
		last := leg.rtp.LastReceived()
		for _, t := range []time.Time{c.answered, c.lastResume, leg.rec.Answered} {
			if t.After(last) {
				last = t
			}
		}
		silent := now.Sub(last)
		if silent >= timeout {
			c.log.Warn("media timeout", "leg_id", string(leg.id), "silent_for", silent.Round(time.Second))
			c.finish(CauseMediaTimeout, RoleSystem)
			return
		}
		next = min(next, timeout-silent)
	}
	c.mediaTimer.Reset(next)
}

// endLeg ends one leg: CANCEL or BYE to it unless the peer ended it, media
// closed, event reported. The hang-up outlives ctx (the call's lifetime,
// cancelled on shutdown), with its own timeout.
func (c *Call) endLeg(ctx context.Context, leg *Leg, code int, cause Cause) {
	if leg.state == LegStateEnded {
		return
	}
	wasAnswered := leg.state == LegStateAnswered || leg.state == LegStateHeld
	if !leg.peerEnded {
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
		if wasAnswered {
			c.helpers.Go(func() {
				defer cancel()
				if err := leg.hangup(hctx, true, cause); err != nil {
					c.log.Debug("bye failed", "leg_id", string(leg.id), "error", err)
				}
			})
		} else {
			_ = leg.hangup(hctx, false, cause)
			cancel()
		}
	}
	leg.peerEnded = true
	leg.state = LegStateEnded
	leg.rec.Ended = time.Now()
	leg.rec.Status = code
	leg.rec.Cause = cause
	c.agentFree(leg)
	c.detach(leg)
	if leg.rtp != nil {
		_ = leg.rtp.Close()
	}
	if leg == c.early {
		c.early = nil
	}
	if leg.dir == Outbound && leg != c.winner && !wasAnswered {
		c.sw.observe(LegEnded{base: c.base(), Leg: leg.snapshot(), RangOut: leg.rangOut})
		c.offerLegEnded(leg)
	}
}

// liveBranches counts outbound legs still ringing.
func (c *Call) liveBranches() int {
	n := 0
	for _, b := range c.branches {
		if b.state != LegStateEnded {
			n++
		}
	}
	return n
}

// branchCause picks the caller's outcome when every phone failed, as a
// forking proxy picks the best response (RFC 3261 §16.7): a decline or busy
// phone says more than one that could not be reached.
func (c *Call) branchCause() (Cause, Role) {
	best := CauseUnavailable
	rank := map[Cause]int{CauseDeclined: 5, CauseBusy: 4, CauseIncompatible: 3, CauseRejected: 2, CauseUnavailable: 1}
	for _, b := range c.branches {
		if rank[b.rec.Cause] > rank[best] {
			best = b.rec.Cause
		}
	}
	return best, RoleCallee
}

// finish records why the call ends; run returns and teardown does the rest.
func (c *Call) finish(cause Cause, by Role) {
	if c.ended {
		return
	}
	c.ended = true
	c.cause = cause
	c.hungUpBy = by
	if c.winner == nil {
		c.status = cause.Status()
	}
}

// teardown hangs up every leg still up, closes media and reports the record.
func (c *Call) teardown(ctx context.Context) {
	close(c.closing) // commands sent from now on get ErrCallEnded
	if !c.ended {
		c.finish(CauseInternal, RoleSystem)
	}
	if c.ringTimer != nil {
		c.ringTimer.Stop()
	}
	if c.mediaTimer != nil {
		c.mediaTimer.Stop()
	}
	for _, d := range c.dials {
		d.stop()
	}
	c.stopRecallTimer()
	c.stopFlow()
	c.endRoute()
	now := time.Now()
	if !c.holdSince.IsZero() {
		c.holdTotal += now.Sub(c.holdSince)
	}
	c.stopRecording()
	c.endPlayback()
	if c.mixer != nil {
		c.mixer.Close()
		c.mixer = nil
	}
	for _, leg := range c.legs {
		if leg.state == LegStateHeld {
			leg.rec.HeldFor += now.Sub(leg.heldSince)
		}
		code := c.cause.Status()
		switch {
		case leg.state == LegStateAnswered || leg.state == LegStateHeld:
			code = 200
		case leg.dir == Outbound, leg == c.caller && c.cause == CauseCancelled:
			code = 487 // a phone Ringdesk stopped ringing, or the caller who did
		}
		if leg.rec.Status != 0 {
			code = leg.rec.Status
		}
		c.endLeg(ctx, leg, code, c.cause)
	}
	c.helpers.Wait()
	for _, name := range c.channels {
		c.sw.releaseChannel(name)
	}
	c.channels = nil

	rec := CallRecord{
		ID: c.id, Caller: c.caller.party, Dialed: c.caller.in.Dialed, Callee: c.callee,
		Started: c.started, Answered: c.answered, Ended: now, Cause: c.cause, Status: c.status,
		HungUpBy: c.hungUpBy, HoldDuration: c.holdTotal, Recording: c.recording,
		Transfers: c.transfers,
	}
	if c.winner != nil {
		rec.AnsweredBy = c.winner.id
		rec.RingDuration = c.answered.Sub(c.started)
		rec.TalkDuration = now.Sub(c.answered)
	} else {
		rec.RingDuration = now.Sub(c.started)
	}
	for _, l := range c.legs {
		rec.Legs = append(rec.Legs, l.snapshot())
	}
	c.routeRecord(&rec)
	c.log.Debug("call ended", "cause", c.cause.String(), "status", c.status, "hung_up_by", c.hungUpBy.String(),
		"talk", rec.TalkDuration.Round(time.Millisecond), "ring", rec.RingDuration.Round(time.Millisecond),
		"held", rec.HoldDuration.Round(time.Millisecond))
	c.sw.observe(CallEnded{base: base{CallID: c.id, At: now}, Record: rec})
}

func (c *Call) base() base { return base{CallID: c.id, At: time.Now()} }
