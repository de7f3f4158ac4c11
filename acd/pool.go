package acd

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Options configure a Pool.
type Options struct {
	// Clock returns the current time; nil means time.Now. Tests pass a
	// fake clock.
	Clock func() time.Time
	// WrapUp is how long an agent stays unavailable after each call ends,
	// to finish notes; zero (or negative) means no wrap-up.
	WrapUp time.Duration
	// StartOnline makes agents added by SetAgents Online at once, logged
	// in in the order of the list (for tests and desk-phone-only setups).
	// Otherwise they start Offline.
	StartOnline bool
}

// Pool is the presence of every configured agent: status, mode,
// forwarding, calls, wrap-up and reservations (agents being rung). It
// decides whom a call rings (Hunt) and keeps the queues' waiting callers
// (Queue).
//
// A Pool is safe for concurrent use. It starts no goroutines and never
// calls out while holding its lock; time comes from Options.Clock, and
// time-based changes (the end of a wrap-up) take effect lazily, when the
// pool is next asked (see NextWake).
type Pool struct {
	now         func() time.Time
	wrapUp      time.Duration
	startOnline bool

	mu      sync.Mutex
	agents  map[string]*agent // by ID
	order   []*agent          // config order
	byExt   map[string]string // extension → agent ID
	gen     uint64            // bumped by SetAgents, so hunts re-resolve IDs
	logins  uint64            // login counter: each login's sequence number
	changed chan struct{}     // nil until someone asks for it
	queues  map[string]*Queue
}

// agent is one agent's mutable state, guarded by Pool.mu.
type agent struct {
	info       AgentInfo
	status     Status
	mode       Mode
	loggedIn   time.Time
	loginSeq   uint64   // order of the last login; 0: logged out or never logged in
	calls      []string // IDs of the calls the agent is on, oldest first
	wrapUntil  time.Time
	forward    Forward
	missed     int
	lastMissed time.Time
	idleSince  time.Time
	reservedBy string // call ID the agent is being rung for
	gone       bool   // dropped by SetAgents; hunts may still hold it
}

// available reports whether a may be rung at now.
func (a *agent) available(now time.Time) bool {
	return !a.gone && a.status == Online && len(a.calls) == 0 && a.reservedBy == "" && !now.Before(a.wrapUntil)
}

// state returns a's snapshot at now.
func (a *agent) state(now time.Time) AgentState {
	st := AgentState{
		AgentInfo:  a.info,
		Status:     a.status,
		Mode:       a.mode,
		LoggedIn:   a.loggedIn,
		Ringing:    a.reservedBy,
		WrapUntil:  a.wrapUntil,
		Forward:    a.forward,
		Missed:     a.missed,
		LastMissed: a.lastMissed,
		IdleSince:  a.idleSince,
		Available:  a.available(now),
	}
	if n := len(a.calls); n > 0 {
		st.OnCall = a.calls[n-1]
	}
	return st
}

// NewPool returns an empty pool; SetAgents fills it.
func NewPool(o Options) *Pool {
	p := &Pool{
		now:         o.Clock,
		wrapUp:      max(o.WrapUp, 0),
		startOnline: o.StartOnline,
		agents:      make(map[string]*agent),
		byExt:       make(map[string]string),
		queues:      make(map[string]*Queue),
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

// SetAgents replaces the configured agents (at start and on reload).
// Agents that remain keep their state (status, calls, wrap-up, missed
// calls...) and take the new name and extension; agents no longer listed
// are dropped; new agents start Offline, or Online with Options.StartOnline,
// logged in in list order after everyone already logged in. Agents() keeps
// the order of a. A repeated ID counts once (the first).
func (p *Pool) SetAgents(a []AgentInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	agents := make(map[string]*agent, len(a))
	order := make([]*agent, 0, len(a))
	byExt := make(map[string]string, len(a))
	for _, info := range a {
		if _, dup := agents[info.ID]; dup {
			continue
		}
		ag, ok := p.agents[info.ID]
		if !ok {
			ag = &agent{}
			if p.startOnline {
				p.loginLocked(ag, now)
			}
		}
		ag.info = info
		agents[info.ID] = ag
		order = append(order, ag)
		if _, taken := byExt[info.Extension]; info.Extension != "" && !taken {
			byExt[info.Extension] = info.ID
		}
	}
	for id, ag := range p.agents {
		if _, kept := agents[id]; !kept {
			ag.gone = true
		}
	}
	p.agents, p.order, p.byExt = agents, order, byExt
	p.gen++
	p.notifyLocked()
}

// loginLocked makes a Online as a new login at now.
func (p *Pool) loginLocked(a *agent, now time.Time) {
	p.logins++
	a.status = Online
	a.loggedIn = now
	a.loginSeq = p.logins
	if a.idleSince.Before(now) {
		a.idleSince = now
	}
}

// SetStatus sets an agent's status. Going Online after being Offline
// (directly or through Busy) is a login: it sets LoggedIn, moves the
// agent to the end of the sequential order and restarts the idle time. An unknown agent is an error
// wrapping ErrUnknownAgent; an invalid status one wrapping
// ErrInvalidStatus.
func (p *Pool) SetStatus(id string, s Status) error {
	if !s.valid() {
		return fmt.Errorf("%w %d", ErrInvalidStatus, int(s))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.agents[id]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownAgent, id)
	}
	if a.status == s {
		return nil
	}
	switch {
	case s == Online && a.loginSeq == 0:
		p.loginLocked(a, p.now())
	case s == Offline:
		a.status = s
		a.loginSeq = 0 // logged out: going Online again is a new login
	default:
		a.status = s
	}
	p.notifyLocked()
	return nil
}

// SetMode sets where an agent takes calls. An unknown agent is an error
// wrapping ErrUnknownAgent; an invalid mode one wrapping ErrInvalidMode.
func (p *Pool) SetMode(id string, m Mode) error {
	if !m.valid() {
		return fmt.Errorf("%w %d", ErrInvalidMode, int(m))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.agents[id]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownAgent, id)
	}
	a.mode = m
	return nil
}

// SetForward sets an agent's call forwarding; it applies to the next
// call rung. An unknown agent is an error wrapping ErrUnknownAgent;
// forwarding without a number, or an invalid When, one wrapping
// ErrInvalidForward.
func (p *Pool) SetForward(id string, f Forward) error {
	if !f.When.valid() {
		return fmt.Errorf("%w: when %d", ErrInvalidForward, int(f.When))
	}
	if f.When != ForwardNever && f.Number == "" {
		return fmt.Errorf("%w: %s without a number", ErrInvalidForward, f.When)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.agents[id]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownAgent, id)
	}
	a.forward = f
	return nil
}

// Agent returns a snapshot of agent id, and false when the pool does not
// know it.
func (p *Pool) Agent(id string) (AgentState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.agents[id]
	if !ok {
		return AgentState{}, false
	}
	return a.state(p.now()), true
}

// Agents returns a snapshot of every agent, in config order.
func (p *Pool) Agents() []AgentState {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	out := make([]AgentState, len(p.order))
	for i, a := range p.order {
		out[i] = a.state(now)
	}
	return out
}

// ByExtension returns the ID of the agent whose extension is ext, and
// false when none is.
func (p *Pool) ByExtension(ext string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.byExt[ext]
	return id, ok
}

// CallStarted records that agent id is on call callID (it answered, or
// made or took a call directly): the agent is not available until the
// call ends. A reservation for callID ends, and a running wrap-up is cut
// short. Unknown agents and repeated calls are ignored.
func (p *Pool) CallStarted(id, callID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.agents[id]
	if !ok {
		return
	}
	if a.reservedBy == callID {
		a.reservedBy = ""
	}
	if !slices.Contains(a.calls, callID) {
		a.calls = append(a.calls, callID)
	}
	a.wrapUntil = time.Time{}
}

// CallEnded records that agent id's call callID is over. When it was the
// agent's last call the idle time restarts and the wrap-up (Options.WrapUp)
// begins; the agent is available again when it is over (see NextWake).
// Calls the agent is not on are ignored, except that a reservation for
// callID ends.
func (p *Pool) CallEnded(id, callID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.agents[id]
	if !ok {
		return
	}
	changed := false
	if a.reservedBy == callID {
		a.reservedBy = ""
		changed = true
	}
	if i := slices.Index(a.calls, callID); i >= 0 {
		a.calls = slices.Delete(a.calls, i, i+1)
		if len(a.calls) == 0 {
			now := p.now()
			a.idleSince = now
			if p.wrapUp > 0 {
				a.wrapUntil = now.Add(p.wrapUp)
			}
		}
		changed = true
	}
	if changed {
		p.notifyLocked()
	}
}

// Release ends agent id's reservation for call callID: the agent stopped
// ringing for it without taking it. rangOut says the agent let it ring
// out (or rejected it): that counts a missed call (Missed, LastMissed).
// Nothing happens when the agent is not reserved for callID (it answered,
// or the reservation already ended).
func (p *Pool) Release(id, callID string, rangOut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.agents[id]
	if !ok || callID == "" || a.reservedBy != callID {
		return
	}
	a.reservedBy = ""
	if rangOut {
		a.missed++
		a.lastMissed = p.now()
	}
	p.notifyLocked()
}

// Changed returns a channel that is closed at the next change that may
// make an agent available (a status change, SetAgents, a call ending, a
// reservation released) and then replaced: ask again after each wake-up.
// The end of a wrap-up is a matter of time and closes nothing; wait for
// NextWake as well.
func (p *Pool) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.changed == nil {
		p.changed = make(chan struct{})
	}
	return p.changed
}

// notifyLocked wakes the waiters on Changed.
func (p *Pool) notifyLocked() {
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
}

// NextWake returns the earliest end of a wrap-up still to come, for an
// Online agent on no call: the time a waiter should look again even if
// Changed is not closed. Zero means no wrap-up is running.
func (p *Pool) NextWake() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var next time.Time
	for _, a := range p.order {
		if a.status != Online || len(a.calls) > 0 || !a.wrapUntil.After(now) {
			continue
		}
		if next.IsZero() || a.wrapUntil.Before(next) {
			next = a.wrapUntil
		}
	}
	return next
}

// Queue returns the queue with this ID, creating it on first use. Queues
// live as long as the pool, so a reload keeps their waiting callers.
func (p *Pool) Queue(id string) *Queue {
	p.mu.Lock()
	defer p.mu.Unlock()
	q, ok := p.queues[id]
	if !ok {
		q = &Queue{id: id, now: p.now}
		p.queues[id] = q
	}
	return q
}
