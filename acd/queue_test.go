package acd

import (
	"testing"
	"time"
)

func TestQueue(t *testing.T) {
	p, c := newTestPool(t, Options{})
	q := p.Queue("support")
	if p.Queue("support") != q || q.ID() != "support" {
		t.Fatal("Queue does not keep queues by ID")
	}
	type join struct {
		call    string
		wantPos int
		wantOK  bool
	}
	for _, j := range []join{{"c1", 1, true}, {"c2", 2, true}, {"c3", 3, true}, {"c4", 0, false}, {"c2", 2, true}} {
		c.Advance(10 * time.Second)
		if pos, ok := q.Join(j.call, 3); pos != j.wantPos || ok != j.wantOK {
			t.Errorf("Join(%s) = %d, %t; want %d, %t", j.call, pos, ok, j.wantPos, j.wantOK)
		}
	}
	if q.Len() != 3 {
		t.Errorf("Len = %d, want 3", q.Len())
	}
	ch := q.Changed()

	// Fairness: c2 may ring only once c1 rings, c3 once c1 and c2 do.
	tests := []struct {
		name    string
		ringing map[string]bool
		want    map[string]bool
	}{
		{"nobody ringing", nil, map[string]bool{"c1": true, "c2": false, "c3": false, "c4": true}},
		{"c1 ringing", map[string]bool{"c1": true}, map[string]bool{"c1": true, "c2": true, "c3": false}},
		{"c1, c2 ringing", map[string]bool{"c2": true}, map[string]bool{"c1": true, "c2": true, "c3": true}},
		{"c1 stopped", map[string]bool{"c1": false}, map[string]bool{"c1": true, "c2": false, "c3": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for call, r := range tt.ringing {
				q.SetRinging(call, r)
			}
			for call, want := range tt.want {
				if got := q.MayRing(call); got != want {
					t.Errorf("MayRing(%s) = %t, want %t", call, got, want)
				}
			}
		})
	}
	if !isClosed(ch) {
		t.Error("Changed not closed when a caller started ringing")
	}

	ch = q.Changed()
	q.SetRinging("c1", false) // stopping wakes nobody
	q.Join("c5", 0)
	if isClosed(ch) {
		t.Error("Changed closed without anyone moving up")
	}
	c.Advance(time.Minute)
	if w := q.Leave("c1"); w != time.Minute+40*time.Second {
		t.Errorf("Leave(c1) waited %v, want 1m40s", w)
	}
	if !isClosed(ch) {
		t.Error("Changed not closed when a caller left")
	}
	if w := q.Leave("c1"); w != 0 {
		t.Errorf("second Leave(c1) = %v, want 0", w)
	}
	for call, want := range map[string]int{"c1": 0, "c2": 1, "c3": 2, "c5": 3, "zz": 0} {
		if got := q.Position(call); got != want {
			t.Errorf("Position(%s) = %d, want %d", call, got, want)
		}
	}
	if !q.MayRing("c3") {
		t.Error("MayRing(c3) with c2 ringing ahead = false")
	}
}

func TestQueueMaxLen(t *testing.T) {
	tests := []struct {
		name string
		max  int
		want int
	}{
		{"zero means the maximum", 0, MaxQueueLen},
		{"negative", -1, MaxQueueLen},
		{"capped", 150, MaxQueueLen},
		{"one", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewPool(Options{}).Queue("q")
			n := 0
			for i := range 200 {
				if _, ok := q.Join(string(rune('A'+i)), tt.max); ok {
					n++
				}
			}
			if n != tt.want || q.Len() != tt.want {
				t.Errorf("joined %d (Len %d), want %d", n, q.Len(), tt.want)
			}
		})
	}
}

func TestQueueKeptAcrossReload(t *testing.T) {
	p, _ := newTestPool(t, Options{}, "a")
	p.Queue("q").Join("c1", 10)
	p.SetAgents(infos("b"))
	if got := p.Queue("q").Position("c1"); got != 1 {
		t.Errorf("Position after reload = %d, want 1", got)
	}
}
