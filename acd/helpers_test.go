package acd

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand; safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// infos returns agents with the IDs given and extensions 101, 102...
func infos(ids ...string) []AgentInfo {
	out := make([]AgentInfo, len(ids))
	for i, id := range ids {
		out[i] = AgentInfo{ID: id, Name: strings.ToUpper(id), Extension: strconv.Itoa(101 + i)}
	}
	return out
}

// newTestPool returns a pool on a fake clock with agents ids.
func newTestPool(t testing.TB, o Options, ids ...string) (*Pool, *fakeClock) {
	t.Helper()
	c := newClock()
	o.Clock = c.Now
	p := NewPool(o)
	p.SetAgents(infos(ids...))
	return p, c
}

// login sets each agent Online in turn, a second apart.
func login(t testing.TB, p *Pool, c *fakeClock, ids ...string) {
	t.Helper()
	for _, id := range ids {
		c.Advance(time.Second)
		if err := p.SetStatus(id, Online); err != nil {
			t.Fatalf("SetStatus(%q, Online): %v", id, err)
		}
	}
}

// step renders one Next result: the agents rung, comma-separated, or
// "wait" or "done".
func step(ring []string, st HuntState) string {
	if st == Ring {
		return strings.Join(ring, ",")
	}
	return st.String()
}

// walk calls Next n times (or until Done), releasing the agents rung as
// rung out after each ring, and returns the steps.
func walk(p *Pool, h *Hunt, callID string, n int) []string {
	var out []string
	for range n {
		ring, st := h.Next()
		out = append(out, step(ring, st))
		for _, id := range ring {
			p.Release(id, callID, true)
		}
		if st == Done {
			break
		}
	}
	return out
}

// mustNext calls Next and checks its result.
func mustNext(t testing.TB, h *Hunt, want string) []string {
	t.Helper()
	ring, st := h.Next()
	if got := step(ring, st); got != want {
		t.Fatalf("Next = %s, want %s", got, want)
	}
	return ring
}

// isClosed reports whether ch is closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// mustAgent returns agent id's state.
func mustAgent(t testing.TB, p *Pool, id string) AgentState {
	t.Helper()
	st, ok := p.Agent(id)
	if !ok {
		t.Fatalf("Agent(%q): unknown", id)
	}
	return st
}
