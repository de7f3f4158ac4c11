package acd

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSequential(t *testing.T) {
	tests := []struct {
		name  string
		login []string      // agents logging in, in order
		more  func(p *Pool) // further changes, after the logins
		group []string
		opts  HuntOptions
		want  []string
	}{
		{
			name:  "login order, one cycle",
			login: []string{"c", "a", "b"},
			group: []string{"a", "b", "c"},
			opts:  HuntOptions{Cycles: 1},
			want:  []string{"c", "a", "b", "done"},
		},
		{
			name:  "three cycles",
			login: []string{"b", "a"},
			group: []string{"a", "b"},
			opts:  HuntOptions{Cycles: 3},
			want:  []string{"b", "a", "b", "a", "b", "a", "done"},
		},
		{
			name:  "skips unavailable agents",
			login: []string{"a", "b", "c", "d", "e"},
			more: func(p *Pool) {
				_ = p.SetStatus("b", Busy)
				_ = p.SetStatus("c", Offline)
				p.CallStarted("d", "other")
			},
			group: []string{"a", "b", "c", "d", "e"},
			opts:  HuntOptions{Cycles: 2},
			want:  []string{"a", "e", "a", "e", "done"},
		},
		{
			name:  "logged-in agents before the rest",
			login: []string{"c", "b", "a"},
			more: func(p *Pool) {
				_ = p.SetStatus("c", Offline) // logged out: last until the next login
				_ = p.SetStatus("c", Online)
			},
			group: []string{"a", "b", "c"},
			want:  []string{"b", "a", "c", "done"},
		},
		{
			name:  "agents never logged in or unknown are skipped",
			login: []string{"b"},
			group: []string{"a", "b", "c", "unknown"},
			want:  []string{"b", "done"},
		},
		{
			name:  "nobody available",
			group: []string{"a", "b"},
			opts:  HuntOptions{Cycles: 5},
			want:  []string{"done"},
		},
		{
			name: "empty group",
			want: []string{"done"},
		},
		{
			name:  "cycles 0 means 1",
			login: []string{"a"},
			group: []string{"a"},
			want:  []string{"a", "done"},
		},
		{
			name:  "cycles capped at 10",
			login: []string{"a"},
			group: []string{"a", "a"}, // repeats count once
			opts:  HuntOptions{Cycles: 50},
			want:  []string{"a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "done"},
		},
		{
			name:  "queue cycles forever",
			login: []string{"b", "a"},
			group: []string{"a", "b"},
			opts:  HuntOptions{Cycles: 1, Queue: true},
			want:  []string{"b", "a", "b", "a", "b", "a", "b"},
		},
		{
			name:  "queue waits for agents",
			group: []string{"a", "b"},
			opts:  HuntOptions{Queue: true},
			want:  []string{"wait", "wait"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := newTestPool(t, Options{}, "a", "b", "c", "d", "e")
			login(t, p, c, tt.login...)
			if tt.more != nil {
				tt.more(p)
			}
			h := p.Hunt("call", tt.group, Sequential, tt.opts)
			defer h.Stop()
			got := walk(p, h, "call", len(tt.want))
			if !slices.Equal(got, tt.want) {
				t.Errorf("steps = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSequentialChangesDuringHunt(t *testing.T) {
	p, c := newTestPool(t, Options{}, "a", "b", "c")
	login(t, p, c, "a", "b", "c")
	h := p.Hunt("call", []string{"a", "b", "c"}, Sequential, HuntOptions{Cycles: 3})
	defer h.Stop()

	mustNext(t, h, "a")
	p.Release("a", "call", true)
	_ = p.SetStatus("b", Busy)
	mustNext(t, h, "c") // b skipped
	p.Release("c", "call", true)
	// Cycle 2: nobody but a; then a goes away and cycle 3 finds nobody.
	_ = p.SetStatus("c", Busy)
	mustNext(t, h, "a")
	p.Release("a", "call", true)
	_ = p.SetStatus("a", Busy)
	mustNext(t, h, "done")
	mustNext(t, h, "done")
}

func TestSequentialQueueWaitsThenRings(t *testing.T) {
	p, c := newTestPool(t, Options{}, "a", "b")
	h := p.Hunt("call", []string{"a", "b"}, Sequential, HuntOptions{Queue: true})
	defer h.Stop()
	mustNext(t, h, "wait")
	login(t, p, c, "b")
	mustNext(t, h, "b")
	p.Release("b", "call", true)
	login(t, p, c, "a")
	mustNext(t, h, "a") // next after b in login order: a
	p.Release("a", "call", true)
	mustNext(t, h, "b")
}

func TestSimultaneous(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("ag%03d", i)
		}
		return out
	}
	tests := []struct {
		name     string
		agents   []string
		online   []string
		group    []string
		opts     HuntOptions
		wantRing int
		want     []string // steps after the first, or all when wantRing is 0
	}{
		{
			name:   "three agents, one offline",
			agents: []string{"a", "b", "c"}, online: []string{"c", "a"},
			group: []string{"a", "b", "c"}, opts: HuntOptions{Cycles: 3},
			want: []string{"a,c", "done"},
		},
		{
			name:   "nobody available",
			agents: []string{"a", "b"}, group: []string{"a", "b"},
			want: []string{"done"},
		},
		{
			name:   "150 agents capped at 100",
			agents: ids(150), online: ids(150), group: ids(150),
			wantRing: MaxSimultaneous, want: []string{"done"},
		},
		{
			name:   "queue rings again and waits",
			agents: []string{"a", "b"}, online: []string{"b"}, group: []string{"a", "b"},
			opts: HuntOptions{Queue: true},
			want: []string{"b", "b", "b"},
		},
		{
			name:   "queue with nobody",
			agents: []string{"a", "b"}, group: []string{"a", "b"},
			opts: HuntOptions{Queue: true},
			want: []string{"wait", "wait"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := newTestPool(t, Options{}, tt.agents...)
			login(t, p, c, tt.online...)
			h := p.Hunt("call", tt.group, Simultaneous, tt.opts)
			defer h.Stop()
			if tt.wantRing > 0 {
				ring := mustNext(t, h, strings.Join(tt.group[:tt.wantRing], ","))
				for _, id := range ring {
					if st := mustAgent(t, p, id); st.Ringing != "call" || st.Available {
						t.Errorf("agent %s: Ringing %q, Available %t; want reserved", id, st.Ringing, st.Available)
					}
				}
				if st := mustAgent(t, p, tt.group[MaxSimultaneous]); st.Ringing != "" || !st.Available {
					t.Errorf("agent 101: Ringing %q, Available %t; want not rung", st.Ringing, st.Available)
				}
				for _, id := range ring {
					p.Release(id, "call", false)
				}
			}
			if got := walk(p, h, "call", len(tt.want)); !slices.Equal(got, tt.want) {
				t.Errorf("steps = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLongestIdle(t *testing.T) {
	p, c := newTestPool(t, Options{}, "a", "b", "c", "d")
	login(t, p, c, "a", "b", "c", "d")
	// b's call ends first, then a's; c has had no call, so it is idle
	// since its login; d is on a call.
	for _, id := range []string{"a", "b", "d"} {
		p.CallStarted(id, "x-"+id)
	}
	c.Advance(time.Minute)
	p.CallEnded("b", "x-b")
	c.Advance(time.Minute)
	p.CallEnded("a", "x-a")
	// Idle since: c (login, 9:00:03), b (9:01:04), a (9:02:04).

	t.Run("ring group", func(t *testing.T) {
		h := p.Hunt("rg", []string{"a", "b", "c", "d"}, LongestIdle, HuntOptions{Cycles: 2})
		defer h.Stop()
		want := []string{"c", "b", "a", "c", "b", "a", "done"}
		if got := walk(p, h, "rg", len(want)); !slices.Equal(got, want) {
			t.Errorf("steps = %v, want %v", got, want)
		}
	})
	t.Run("queue", func(t *testing.T) {
		h := p.Hunt("q", []string{"a", "b", "c", "d"}, LongestIdle, HuntOptions{Queue: true})
		defer h.Stop()
		mustNext(t, h, "c")
		p.Release("c", "q", true)
		mustNext(t, h, "b")
		p.Release("b", "q", true)
		// d's call ends now: it is the most recently idle, after a.
		c.Advance(time.Minute)
		p.CallEnded("d", "x-d")
		mustNext(t, h, "a")
		p.Release("a", "q", true)
		mustNext(t, h, "d")
		p.Release("d", "q", true)
		mustNext(t, h, "c") // new cycle
		p.Release("c", "q", true)
		for _, id := range []string{"a", "b", "c", "d"} {
			_ = p.SetStatus(id, Busy)
		}
		mustNext(t, h, "wait")
	})
}

func TestReservation(t *testing.T) {
	tests := []struct {
		name string
		s    Strategy
	}{
		{"sequential", Sequential},
		{"simultaneous", Simultaneous},
		{"longest idle", LongestIdle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := newTestPool(t, Options{}, "a", "b")
			login(t, p, c, "a", "b")
			group := []string{"a", "b"}
			h1 := p.Hunt("c1", group, tt.s, HuntOptions{Queue: true})
			defer h1.Stop()
			first, _ := h1.Next()
			h2 := p.Hunt("c2", group, tt.s, HuntOptions{Queue: true})
			defer h2.Stop()
			var second []string
			if tt.s != Simultaneous {
				second = mustNext(t, h2, other(first[0]))
			}
			h3 := p.Hunt("c3", group, tt.s, HuntOptions{Queue: true})
			defer h3.Stop()
			mustNext(t, h3, "wait")
			rg := p.Hunt("c4", group, tt.s, HuntOptions{})
			defer rg.Stop()
			mustNext(t, rg, "done")

			// c1's first agent answers: on a call, still not available.
			p.CallStarted(first[0], "c1")
			if st := mustAgent(t, p, first[0]); st.OnCall != "c1" || st.Ringing != "" || st.Available {
				t.Fatalf("after CallStarted: %+v", st)
			}
			mustNext(t, h3, "wait")
			// c2's agent stops ringing: c3 may ring it.
			for _, id := range second {
				p.Release(id, "c2", true)
			}
			for _, id := range first[1:] {
				p.Release(id, "c1", false)
			}
			mustNext(t, h3, other(first[0]))
			// Stop releases what the hunt holds, without a missed call.
			missed := mustAgent(t, p, other(first[0])).Missed
			h3.Stop()
			if st := mustAgent(t, p, other(first[0])); st.Ringing != "" || !st.Available || st.Missed != missed {
				t.Fatalf("after Stop: %+v", st)
			}
			mustNext(t, h3, "done")
		})
	}
}

// other returns the other agent of the group a, b.
func other(id string) string {
	if id == "a" {
		return "b"
	}
	return "a"
}

func TestHuntAcrossReload(t *testing.T) {
	p, c := newTestPool(t, Options{}, "a", "b", "c")
	login(t, p, c, "a", "b", "c")
	h := p.Hunt("call", []string{"a", "b", "c", "d"}, Sequential, HuntOptions{Cycles: 2})
	defer h.Stop()
	mustNext(t, h, "a")
	p.Release("a", "call", true)
	p.SetAgents(infos("a", "c", "d")) // b dropped, d added (Offline)
	mustNext(t, h, "c")
	p.Release("c", "call", true)
	login(t, p, c, "d")
	mustNext(t, h, "d") // d joined the group with the reload
	p.Release("d", "call", true)
	mustNext(t, h, "a")
	p.Release("a", "call", true)
	mustNext(t, h, "c")
	p.Release("c", "call", true)
	mustNext(t, h, "d")
	p.Release("d", "call", true)
	mustNext(t, h, "done")
}

func BenchmarkHuntNext(b *testing.B) {
	const n = 100
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("agent%03d", i)
	}
	benches := []struct {
		name   string
		s      Strategy
		online func(i int) bool
	}{
		{"sequential", Sequential, func(int) bool { return true }},
		{"sequential_sparse", Sequential, func(i int) bool { return i%25 == 24 }},
		{"longest_idle", LongestIdle, func(int) bool { return true }},
		{"simultaneous", Simultaneous, func(int) bool { return true }},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			c := newClock()
			p := NewPool(Options{Clock: c.Now})
			p.SetAgents(infos(ids...))
			for i, id := range ids {
				if bb.online(i) {
					c.Advance(time.Second)
					_ = p.SetStatus(id, Online)
				}
			}
			h := p.Hunt("call", ids, bb.s, HuntOptions{Queue: true})
			b.ReportAllocs()
			for b.Loop() {
				ring, st := h.Next()
				if st != Ring {
					b.Fatalf("Next = %s", st)
				}
				for _, id := range ring {
					p.Release(id, "call", true)
				}
			}
		})
	}
}
