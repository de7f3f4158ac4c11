package acd

import (
	"cmp"
	"slices"
	"time"
)

// Limits of ring groups and queues (checklist A27, A28, A40).
const (
	// MaxCycles is the most times a ring group goes through its agents.
	MaxCycles = 10
	// MaxSimultaneous is the most agents one Next rings at once.
	MaxSimultaneous = 100
	// MaxQueueLen is the most callers a queue holds.
	MaxQueueLen = 100
)

// HuntOptions configure a Hunt.
type HuntOptions struct {
	// Cycles is how many times a ring group goes through its agents
	// (Sequential, LongestIdle), 1 to MaxCycles; 0 means 1, more means
	// MaxCycles. Ignored by Simultaneous and by queues.
	Cycles int
	// Queue makes the hunt a queue's: it cycles forever and returns Wait
	// instead of Done when nobody is available. A ring group's hunt
	// (Queue false) ends with Done.
	Queue bool
}

// Hunt is one call's walk through a group of agents: each Next says whom
// to ring now. Agents it returns are reserved for the call, so no other
// hunt rings them at the same time, until the caller of Next reports the
// outcome with Pool.CallStarted (answered) or Pool.Release (stopped
// ringing), or until Stop. An agent the call still holds is not rung
// again by the next Next.
//
// A Hunt is safe for concurrent use (it shares its pool's lock), though
// one call's flow normally drives it from one goroutine.
type Hunt struct {
	p        *Pool
	callID   string
	strategy Strategy
	cycles   int
	queue    bool

	// The fields below are guarded by p.mu.
	ids     []string // the group, without repeats
	members []*agent // ids resolved in the pool; nil: unknown agent
	gen     uint64   // the pool generation members were resolved in
	order   []int    // Sequential: indexes into members, in login order
	pos     int      // Sequential: next index into order to look at
	tried   []bool   // LongestIdle: rung in the current cycle
	cycle   int      // cycles over
	rung    bool     // someone was rung in the current cycle
	held    []*agent // reserved by this hunt and maybe not released yet
	done    bool
}

// Hunt starts a hunt for call callID through agents (IDs; unknown ones
// and repeats are ignored) with strategy s:
//
//   - Sequential: one agent per Next, in order of login (earliest first;
//     agents logged out or never logged in last, in group order); agents
//     not available are skipped. A cycle is over at the end of the order;
//     a ring group is Done after o.Cycles cycles, or after a cycle in which
//     nobody was available.
//   - Simultaneous: every available agent of the group (up to
//     MaxSimultaneous, in group order) in one Next; a ring group is Done at
//     the next Next, or at once when nobody is available.
//   - LongestIdle: one agent per Next, the available agent idle longest
//     (see AgentState.IdleSince) among those not yet rung in this cycle; a
//     cycle is over when every available agent has been rung, and a ring
//     group is then Done as with Sequential.
//
// In a queue (o.Queue) every strategy cycles forever and Next returns Wait
// when nobody is available. An unknown strategy is taken as Sequential.
func (p *Pool) Hunt(callID string, agents []string, s Strategy, o HuntOptions) *Hunt {
	ids := make([]string, 0, len(agents))
	for _, id := range agents {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if s != Simultaneous && s != LongestIdle {
		s = Sequential
	}
	h := &Hunt{
		p:        p,
		callID:   callID,
		strategy: s,
		cycles:   min(max(o.Cycles, 1), MaxCycles),
		queue:    o.Queue,
		ids:      ids,
		members:  make([]*agent, len(ids)),
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	h.resolveLocked()
	switch h.strategy {
	case Sequential:
		h.order = make([]int, len(ids))
		h.sortLocked()
	case LongestIdle:
		h.tried = make([]bool, len(ids))
	case Simultaneous: // every available agent at once: nothing to track
	}
	return h
}

// Next says what to do now: Ring (the agents returned, now reserved for
// the call), Wait (queues: nobody is available; call Next again when
// Pool.Changed is closed or at Pool.NextWake) or Done (ring groups: the
// hunt is over; also after Stop). It is cheap: at most two passes over
// the group.
func (h *Hunt) Next() (ring []string, st HuntState) {
	p := h.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if h.done {
		return nil, Done
	}
	if h.gen != p.gen {
		h.resolveLocked()
	}
	h.pruneLocked()
	now := p.now()
	switch h.strategy {
	case Simultaneous:
		return h.simultaneousLocked(now)
	case LongestIdle:
		return h.longestIdleLocked(now)
	default:
		return h.sequentialLocked(now)
	}
}

// Stop ends the hunt: reservations it made that are still held for the
// call are released (no missed call is counted) and Next returns Done from
// now on. Stop may be called more than once.
func (h *Hunt) Stop() {
	p := h.p
	p.mu.Lock()
	defer p.mu.Unlock()
	released := false
	for _, a := range h.held {
		if a.reservedBy == h.callID {
			a.reservedBy = ""
			released = true
		}
	}
	h.held = nil
	h.done = true
	if released {
		p.notifyLocked()
	}
}

// sequentialLocked rings the next available agent in login order.
func (h *Hunt) sequentialLocked(now time.Time) ([]string, HuntState) {
	// At most two passes: the rest of this cycle, then a whole new one.
	for pass := 0; ; pass++ {
		for h.pos < len(h.order) {
			i := h.order[h.pos]
			h.pos++
			if a := h.members[i]; a != nil && a.available(now) {
				return h.ringLocked(i), Ring
			}
		}
		// The end of the order: this cycle is over.
		if st, over := h.cycleOverLocked(pass); over {
			return nil, st
		}
		h.sortLocked()
		h.pos = 0
	}
}

// longestIdleLocked rings the available agent idle longest that was not
// rung in this cycle.
func (h *Hunt) longestIdleLocked(now time.Time) ([]string, HuntState) {
	for pass := 0; ; pass++ {
		best := -1
		for i, a := range h.members {
			if h.tried[i] || a == nil || !a.available(now) {
				continue
			}
			if best < 0 || a.idleSince.Before(h.members[best].idleSince) {
				best = i
			}
		}
		if best >= 0 {
			h.tried[best] = true
			return h.ringLocked(best), Ring
		}
		// Every available agent was rung: this cycle is over.
		if st, over := h.cycleOverLocked(pass); over {
			return nil, st
		}
		clear(h.tried)
	}
}

// cycleOverLocked ends a cycle of a one-at-a-time hunt, in the pass-th
// pass of one Next. It reports the state to return when the hunt cannot
// go on to a new cycle now: Done for a ring group that did all its cycles
// or rang nobody in this one, Wait for a queue that found nobody in a
// whole cycle.
func (h *Hunt) cycleOverLocked(pass int) (HuntState, bool) {
	rung := h.rung
	h.cycle++
	h.rung = false
	switch {
	case !h.queue && (!rung || h.cycle >= h.cycles):
		h.done = true
		return Done, true
	case h.queue && pass > 0:
		return Wait, true
	}
	return 0, false
}

// simultaneousLocked rings every available agent at once.
func (h *Hunt) simultaneousLocked(now time.Time) ([]string, HuntState) {
	if !h.queue && h.rung {
		h.done = true
		return nil, Done
	}
	var ring []string
	for i, a := range h.members {
		if len(ring) == MaxSimultaneous {
			break
		}
		if a != nil && a.available(now) {
			ring = append(ring, h.reserveLocked(i))
		}
	}
	switch {
	case len(ring) > 0:
		h.rung = true
		return ring, Ring
	case h.queue:
		return nil, Wait
	default:
		h.done = true
		return nil, Done
	}
}

// ringLocked reserves member i and returns it as the one agent to ring.
func (h *Hunt) ringLocked(i int) []string {
	h.rung = true
	return []string{h.reserveLocked(i)}
}

// reserveLocked reserves member i for the call and returns its ID.
func (h *Hunt) reserveLocked(i int) string {
	a := h.members[i]
	a.reservedBy = h.callID
	h.held = append(h.held, a)
	return h.ids[i]
}

// resolveLocked looks the group's IDs up in the pool (again after
// SetAgents).
func (h *Hunt) resolveLocked() {
	for i, id := range h.ids {
		h.members[i] = h.p.agents[id]
	}
	h.gen = h.p.gen
}

// pruneLocked forgets the reservations that already ended.
func (h *Hunt) pruneLocked() {
	h.held = slices.DeleteFunc(h.held, func(a *agent) bool { return a.reservedBy != h.callID })
}

// sortLocked puts the sequential order in login order: earliest login
// first, then agents logged out, never logged in or unknown, in group
// order.
func (h *Hunt) sortLocked() {
	for i := range h.order {
		h.order[i] = i
	}
	seq := func(i int) uint64 {
		if a := h.members[i]; a != nil && a.loginSeq != 0 {
			return a.loginSeq
		}
		return ^uint64(0)
	}
	slices.SortStableFunc(h.order, func(x, y int) int { return cmp.Compare(seq(x), seq(y)) })
}
