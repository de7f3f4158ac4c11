package calls

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"time"

	"github.com/ringdesk/ringdesk/acd"
	"github.com/ringdesk/ringdesk/dialplan"
	"github.com/ringdesk/ringdesk/ivr"
	"github.com/ringdesk/ringdesk/media"
)

const (
	// flowDigits bounds the caller's keys waiting for the flow.
	flowDigits = 32
	// maxFlowSteps bounds the steps of one flow (menus offered again,
	// queues falling back to queues), so no plan can keep a caller forever.
	maxFlowSteps = 64
	// voicemailEnd is the key that ends a voicemail message.
	voicemailEnd = '#'
)

// errAnswered ends a flow: an agent took the call.
var errAnswered = errors.New("calls: answered")

// flow runs a dialplan route on a call Ringdesk answered: messages, menus,
// ring groups, queues, voicemail. It runs on its own goroutine, owned by
// the call (stopped and waited for by teardown), and reaches the call's
// state only through commands (Call.do).
type flow struct {
	c      *Call
	plan   *dialplan.Plan
	route  dialplan.Route
	pool   *acd.Pool
	log    *slog.Logger
	digits chan byte
	cancel context.CancelFunc
	done   chan struct{}

	path  ivr.Path
	dept  string
	steps int
}

// run is the flow's goroutine.
func (f *flow) run(ctx context.Context) {
	defer close(f.done)
	f.dept = f.route.Number.Department
	if m := f.route.Message; m != nil {
		if _, err := f.playAll(ctx, m.Audio, ""); err != nil {
			return
		}
	}
	err := f.exec(ctx, f.route.Action, nil)
	switch {
	case err == nil:
		f.hangup(ctx)
	case errors.Is(err, errAnswered), ctx.Err() != nil, errors.Is(err, ErrCallEnded):
	default:
		f.log.Warn("call flow failed", "error", err)
		f.hangup(ctx)
	}
}

// hangup ends the call: the flow has nothing more for the caller.
func (f *flow) hangup(ctx context.Context) {
	_ = f.c.do(ctx, func(context.Context) error {
		f.c.finish(CauseNormal, RoleSystem)
		return nil
	})
}

// exec runs action a and what follows it. menus is the stack of menus
// the caller went through (for back). It returns nil when the call should
// be hung up, errAnswered when an agent took it.
func (f *flow) exec(ctx context.Context, a dialplan.Action, menus []*dialplan.Menu) error {
	for {
		f.steps++
		if f.steps > maxFlowSteps {
			f.log.Warn("call flow too long: hanging up", "steps", f.steps)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		var next dialplan.Action
		var err error
		switch a.Kind {
		case dialplan.Hangup:
			return nil
		case dialplan.GoMenu:
			menus = append(menus, a.Menu)
			next, menus, err = f.menu(ctx, menus)
		case dialplan.Repeat:
			if len(menus) == 0 {
				return nil
			}
			next = dialplan.Action{Kind: dialplan.GoMenu, Menu: menus[len(menus)-1]}
			menus = menus[:len(menus)-1]
		case dialplan.Back:
			if len(menus) < 2 {
				return nil
			}
			next = dialplan.Action{Kind: dialplan.GoMenu, Menu: menus[len(menus)-2]}
			menus = menus[:len(menus)-2]
			f.path = f.path[:max(0, len(f.path)-1)]
		case dialplan.RingGroupAction:
			next, err = f.ringGroup(ctx, a.RingGroup)
		case dialplan.QueueAction:
			next, err = f.queue(ctx, a.Queue)
		case dialplan.VoicemailAction:
			return f.voicemail(ctx, a.Voicemail)
		case dialplan.ExtensionAction, dialplan.OutsideAction:
			next, err = f.direct(ctx, a)
		default:
			return nil
		}
		if err != nil {
			return err
		}
		a = next
	}
}

// menu offers the last menu of menus and returns what the caller chose.
func (f *flow) menu(ctx context.Context, menus []*dialplan.Menu) (dialplan.Action, []*dialplan.Menu, error) {
	m := menus[len(menus)-1]
	if err := f.backdrop(ctx, backdropSilence); err != nil {
		return dialplan.Action{}, menus, err
	}
	im := ivr.Menu{Name: m.Name, Timeout: m.Timeout, Retries: m.Retries}
	if m.Prompt != nil {
		im.Prompt = m.Prompt.Audio
	}
	if m.InvalidMessage != nil {
		im.Invalid = m.InvalidMessage.Audio
	}
	for d := range m.Options {
		im.Valid += string(rune(d))
	}
	res, err := ivr.Ask(ctx, f.player(), f.digits, im)
	if err != nil {
		return dialplan.Action{}, menus, err
	}
	if res.Outcome != ivr.Chosen {
		noInput := res.Outcome == ivr.NoInput
		f.report(ctx, func(c *Call) {
			c.sw.observe(MenuFailed{base: c.base(), Menu: m.Name, NoInput: noInput})
		})
		if noInput {
			return m.NoInput, menus, nil
		}
		return m.Invalid, menus, nil
	}
	opt := m.Options[res.Digit]
	if opt == nil { // Ask returns only valid digits; be safe
		return m.Invalid, menus, nil
	}
	if k := opt.Action.Kind; k == dialplan.Repeat || k == dialplan.Back {
		return opt.Action, menus, nil
	}
	f.path = append(f.path, opt.Name)
	dept := opt.Department
	if dept == "" {
		dept = m.Department
	}
	if dept != "" {
		f.dept = dept
	}
	path, digit, name, menuName, d := f.path.String(), res.Digit, opt.Name, m.Name, f.dept
	f.report(ctx, func(c *Call) {
		c.route.menuPath = path
		c.route.department = d
		c.sw.observe(MenuSelected{base: c.base(), Menu: menuName, Digit: digit, Option: name, Path: path, Department: d})
	})
	f.log.Debug("menu option", "menu", m.Name, "digit", string(rune(digit)), "option", name, "path", path)
	return opt.Action, menus, nil
}

// ringGroup rings a ring group's agents; when nobody answers the caller
// hears Agent unavailable and the group's no-answer action follows.
func (f *flow) ringGroup(ctx context.Context, g *dialplan.RingGroup) (dialplan.Action, error) {
	f.department(ctx, g.Department)
	if err := f.backdrop(ctx, backdropRingback); err != nil {
		return dialplan.Action{}, err
	}
	hunt := f.pool.Hunt(string(f.c.id), g.Agents, strategy(g.Strategy), acd.HuntOptions{Cycles: g.Cycles})
	defer hunt.Stop()
	for {
		agents, st := hunt.Next()
		if st != acd.Ring {
			break
		}
		answered, _, err := f.ring(ctx, agents, g.RingInterval)
		if err != nil || answered {
			return dialplan.Action{}, orAnswered(err, answered)
		}
	}
	if err := f.message(ctx, f.messages().AgentUnavailable); err != nil {
		return dialplan.Action{}, err
	}
	return g.NoAnswer, nil
}

// queue keeps the caller in a queue, with hold music and announcements,
// until an agent answers or the wait is over.
func (f *flow) queue(ctx context.Context, q *dialplan.Queue) (dialplan.Action, error) {
	f.department(ctx, q.Department)
	id := string(f.c.id)
	state := f.pool.Queue(q.ID)
	pos, ok := state.Join(id, q.MaxCallers)
	if !ok {
		f.report(ctx, func(c *Call) { c.sw.observe(QueueFull{base: c.base(), Queue: q.ID}) })
		f.log.Info("queue full", "queue", q.ID, "max_callers", q.MaxCallers)
		if err := f.message(ctx, f.messages().AllBusy); err != nil {
			return dialplan.Action{}, err
		}
		return q.Fallback, nil
	}
	defer state.Leave(id)
	dept := f.dept
	f.report(ctx, func(c *Call) {
		c.route.queue = q.ID
		c.route.queueSince = time.Now()
		if c.route.ringSince.IsZero() {
			c.route.ringSince = time.Now()
		}
		c.sw.observe(QueueJoined{base: c.base(), Queue: q.ID, Position: pos, Department: dept})
	})
	music, err := f.music(ctx, q)
	if err != nil {
		return dialplan.Action{}, err
	}
	stopMusic := func() {
		if music != nil {
			_ = music.Stop(ctx) // answered: the supervisor stopped it already
		}
	}
	defer stopMusic()

	hunt := f.pool.Hunt(id, q.Agents, strategy(q.Strategy), acd.HuntOptions{Queue: true})
	defer hunt.Stop()
	var deadline <-chan time.Time
	if q.MaxWait > 0 {
		t := time.NewTimer(q.MaxWait)
		defer t.Stop()
		deadline = t.C
	}
	var announce <-chan time.Time
	if q.AnnounceEvery > 0 {
		t := time.NewTicker(q.AnnounceEvery)
		defer t.Stop()
		announce = t.C
	}
	// pause: the agents offered last had no phone to ring (none
	// registered, no trunk for their forwarding); hunting again at once
	// would spin, so the queue waits a ring interval (or a change) first.
	var pause time.Time
	for {
		changed, queueChanged := f.pool.Changed(), state.Changed()
		if state.MayRing(id) && !time.Now().Before(pause) {
			agents, st := hunt.Next()
			if st == acd.Ring {
				state.SetRinging(id, true)
				answered, rang, err := f.ring(ctx, agents, q.RingInterval)
				state.SetRinging(id, false)
				if err != nil || answered {
					return dialplan.Action{}, orAnswered(err, answered)
				}
				if !rang {
					pause = time.Now().Add(q.RingInterval)
				}
				continue
			}
		}
		var wake <-chan time.Time
		var timer *time.Timer
		next := f.pool.NextWake()
		if pause.After(time.Now()) && (next.IsZero() || pause.Before(next)) {
			next = pause
		}
		if !next.IsZero() {
			timer = time.NewTimer(time.Until(next))
			wake = timer.C
		}
		err := f.wait(ctx, changed, queueChanged, wake, deadline, announce)
		if timer != nil {
			timer.Stop()
		}
		switch {
		case errors.Is(err, errQueueTimeout):
			f.report(ctx, func(c *Call) { c.leaveQueue(QueueTimeout) })
			stopMusic()
			music = nil
			if merr := f.message(ctx, f.messages().AllBusy); merr != nil {
				return dialplan.Action{}, merr
			}
			return q.Fallback, nil
		case errors.Is(err, errAnnounce):
			if aerr := f.announce(ctx, q, state.Position(id)); aerr != nil {
				return dialplan.Action{}, aerr
			}
		case err != nil:
			return dialplan.Action{}, err
		}
	}
}

var (
	errQueueTimeout = errors.New("calls: queue wait over")
	errAnnounce     = errors.New("calls: announce")
)

// wait waits in a queue for something to happen.
func (f *flow) wait(ctx context.Context, changed, queueChanged <-chan struct{}, wake, deadline, announce <-chan time.Time) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-changed:
	case <-queueChanged:
	case <-wake:
	case <-deadline:
		return errQueueTimeout
	case <-announce:
		return errAnnounce
	}
	return nil
}

// music starts a queue's own hold music, or sets the PBX's; the returned
// playback (nil for the PBX's music) is stopped when the caller leaves.
func (f *flow) music(ctx context.Context, q *dialplan.Queue) (*Playback, error) {
	if len(q.HoldMusic) == 0 {
		return nil, f.backdrop(ctx, backdropMusic)
	}
	if err := f.backdrop(ctx, backdropSilence); err != nil {
		return nil, err
	}
	return f.c.playCaller(ctx, media.NewClip(q.HoldMusic, true))
}

// announce plays the on-hold message and the caller's position.
func (f *flow) announce(ctx context.Context, q *dialplan.Queue, position int) error {
	if err := f.message(ctx, f.messages().OnHold); err != nil {
		return err
	}
	if !q.AnnouncePosition || position == 0 {
		return nil
	}
	pcm, err := f.plan.PositionAudio(q, position)
	if err != nil {
		f.log.Warn("position message", "queue", q.ID, "error", err)
		return nil
	}
	_, err = f.playAll(ctx, pcm, "")
	return err
}

// direct rings one extension, or calls one outside number, for as long
// as a call may ring; when nobody answers the caller hears Agent
// unavailable and is hung up.
func (f *flow) direct(ctx context.Context, a dialplan.Action) (dialplan.Action, error) {
	if err := f.backdrop(ctx, backdropRingback); err != nil {
		return dialplan.Action{}, err
	}
	var o *offer
	err := f.c.do(ctx, func(ctx context.Context) error {
		f.c.markRinging()
		if a.Kind == dialplan.ExtensionAction {
			o = f.c.ringExtension(ctx, a.Target)
		} else {
			o = f.c.ringNumber(ctx, a.Target)
		}
		return nil
	})
	if err != nil {
		return dialplan.Action{}, err
	}
	answered, err := f.await(ctx, o, f.c.sw.cfg.RingTimeout)
	if err != nil || answered {
		return dialplan.Action{}, orAnswered(err, answered)
	}
	return dialplan.Action{}, f.message(ctx, f.messages().AgentUnavailable)
}

// ring rings agents for interval; an agent forwarding on no answer is
// then rung at their number for another interval. rang is false when no
// phone could be rung at all.
func (f *flow) ring(ctx context.Context, agents []string, interval time.Duration) (answered, rang bool, err error) {
	var o *offer
	err = f.c.do(ctx, func(ctx context.Context) error {
		f.c.markRinging()
		o = f.c.ringAgents(ctx, agents, false)
		return nil
	})
	if err != nil {
		return false, false, err
	}
	rang = len(o.legs) > 0 // o.legs is the supervisor's, read after do returned
	answered, err = f.await(ctx, o, interval)
	if err != nil || answered {
		return answered, rang, err
	}
	var forward []string
	for _, id := range agents {
		if st, ok := f.pool.Agent(id); ok && st.Forward.When == acd.ForwardNoAnswer && st.Forward.Number != "" {
			forward = append(forward, id)
		}
	}
	if len(forward) == 0 {
		return false, rang, nil
	}
	err = f.c.do(ctx, func(ctx context.Context) error {
		o = f.c.ringAgents(ctx, forward, true)
		return nil
	})
	if err != nil {
		return false, rang, err
	}
	rang = rang || len(o.legs) > 0
	answered, err = f.await(ctx, o, interval)
	return answered, rang, err
}

// await waits for an offer to be answered, to fail, or to ring for
// interval (then it is withdrawn).
func (f *flow) await(ctx context.Context, o *offer, interval time.Duration) (bool, error) {
	t := time.NewTimer(interval)
	defer t.Stop()
	select {
	case r := <-o.result:
		return r.answered, nil
	case <-ctx.Done():
		return false, ctx.Err()
	case <-t.C:
	}
	answered := false
	err := f.c.do(ctx, func(ctx context.Context) error {
		answered = f.c.withdraw(ctx, o)
		return nil
	})
	if err != nil {
		return false, err
	}
	if answered {
		return true, nil
	}
	r := <-o.result // withdraw finished it
	return r.answered, nil
}

// voicemail plays the box's greeting and a beep, then records the caller
// until they press #, hang up, or the maximum length passes.
func (f *flow) voicemail(ctx context.Context, vm *dialplan.Voicemail) error {
	f.department(ctx, vm.Department)
	if err := f.backdrop(ctx, backdropSilence); err != nil {
		return err
	}
	if vm.Greeting != nil {
		if _, err := f.playAll(ctx, vm.Greeting.Audio, ""); err != nil {
			return err
		}
	}
	if _, err := f.playAll(ctx, f.c.sw.beep, ""); err != nil {
		return err
	}
	drain(f.digits) // keys pressed during the greeting do not end the message
	err := f.c.do(ctx, func(context.Context) error {
		return f.c.startVoicemail(vm.ID, vm.Department)
	})
	if err != nil {
		f.log.Error("voicemail could not start", "box", vm.ID, "error", err)
		return nil
	}
	t := time.NewTimer(vm.MaxLength)
	defer t.Stop()
wait:
	for {
		select {
		case <-ctx.Done():
			return ctx.Err() // the supervisor keeps the message
		case <-t.C:
			break wait
		case d := <-f.digits:
			if d == voicemailEnd {
				break wait
			}
		}
	}
	return f.c.do(ctx, func(context.Context) error {
		f.c.stopVoicemail()
		return nil
	})
}

// department notes the department the call reached, when one is named.
func (f *flow) department(ctx context.Context, d string) {
	if d == "" {
		return
	}
	f.dept = d
	f.report(ctx, func(c *Call) { c.route.department = d })
}

// messages are the number's automated messages.
func (f *flow) messages() dialplan.Messages { return f.route.Number.Messages }

// message plays an automated message, if there is one.
func (f *flow) message(ctx context.Context, m *dialplan.Message) error {
	if m == nil {
		return nil
	}
	_, err := f.playAll(ctx, m.Audio, "")
	return err
}

// playAll plays pcm to the caller and waits for its end.
func (f *flow) playAll(ctx context.Context, pcm []int16, stopOn string) (byte, error) {
	if len(pcm) == 0 {
		return 0, nil
	}
	return ivr.PlayAll(ctx, f.player(), pcm, f.digits, stopOn)
}

// backdrop sets what the caller hears between prompts.
func (f *flow) backdrop(ctx context.Context, b backdrop) error {
	return f.c.do(ctx, func(context.Context) error {
		f.c.setBackdrop(b)
		return nil
	})
}

// report runs fn on the supervisor (to change the call's record or
// observe an event); a call that ended meanwhile ignores it.
func (f *flow) report(ctx context.Context, fn func(c *Call)) {
	_ = f.c.do(ctx, func(context.Context) error {
		fn(f.c)
		return nil
	})
}

// player plays prompts to the caller.
func (f *flow) player() ivr.Player { return callerPlayer{f.c} }

// callerPlayer is ivr.Player on the caller of a call.
type callerPlayer struct{ c *Call }

// Play implements ivr.Player.
func (p callerPlayer) Play(ctx context.Context, pcm []int16) (ivr.Playing, error) {
	pb, err := p.c.playCaller(ctx, media.NewClip(pcm, false))
	if err != nil {
		return nil, err
	}
	return pb, nil
}

// playCaller plays src to the caller alone.
func (c *Call) playCaller(ctx context.Context, src media.FrameSource) (*Playback, error) {
	return c.Play(ctx, c.caller.id, src)
}

// markRinging notes when the flow first rang an agent: the wait time
// runs from there.
func (c *Call) markRinging() {
	if c.route != nil && c.route.ringSince.IsZero() {
		c.route.ringSince = time.Now()
	}
}

// strategy maps the dialplan's ring strategy to presence's.
func strategy(s dialplan.Strategy) acd.Strategy {
	switch s {
	case dialplan.Simultaneous:
		return acd.Simultaneous
	case dialplan.LongestIdle:
		return acd.LongestIdle
	case dialplan.Sequential:
	}
	return acd.Sequential
}

// orAnswered is errAnswered when answered, else err.
func orAnswered(err error, answered bool) error {
	if answered {
		return errAnswered
	}
	return err
}

// drain empties a digit channel.
func drain(ch chan byte) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// beepTone is the voicemail beep: 1 kHz for 400 ms, about -12 dBFS.
func beepTone() []int16 {
	const n = media.SampleRate * 4 / 10
	pcm := make([]int16, n)
	for i := range pcm {
		env := min(1, float64(i)/80, float64(n-i)/80) // 10 ms ramps
		pcm[i] = int16(8000 * env * math.Sin(2*math.Pi*1000*float64(i)/media.SampleRate))
	}
	return pcm
}
