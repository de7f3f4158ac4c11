package acd

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestStartOnline(t *testing.T) {
	p, c := newTestPool(t, Options{StartOnline: true}, "c", "a", "b")
	for _, st := range p.Agents() {
		if st.Status != Online || !st.Available || st.LoggedIn.IsZero() {
			t.Errorf("agent %s: %+v, want Online and available", st.ID, st)
		}
	}
	h := p.Hunt("call", []string{"a", "b", "c"}, Sequential, HuntOptions{})
	defer h.Stop()
	want := []string{"c", "a", "b", "done"} // list order
	if got := walk(p, h, "call", len(want)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("steps = %v, want %v", got, want)
	}
	// Added on reload: logged in after those already there.
	c.Advance(time.Minute)
	p.SetAgents(infos("d", "c", "a", "b"))
	h = p.Hunt("call2", []string{"d", "a", "b", "c"}, Sequential, HuntOptions{})
	defer h.Stop()
	want = []string{"c", "a", "b", "d", "done"}
	if got := walk(p, h, "call2", len(want)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after reload: steps = %v, want %v", got, want)
	}
}

func TestSetAgentsKeepsState(t *testing.T) {
	p, c := newTestPool(t, Options{WrapUp: time.Minute}, "a", "b", "c")
	login(t, p, c, "a", "b")
	_ = p.SetMode("a", Phone)
	_ = p.SetForward("a", Forward{Number: "+351210000000", When: ForwardNoAnswer})
	h := p.Hunt("x", []string{"a"}, Sequential, HuntOptions{})
	mustNext(t, h, "a")
	p.Release("a", "x", true)
	p.CallStarted("b", "call-b")
	before := mustAgent(t, p, "a")
	beforeB := mustAgent(t, p, "b")

	p.SetAgents([]AgentInfo{
		{ID: "d", Name: "D", Extension: "104"},
		{ID: "b", Name: "Bea", Extension: "202"},
		{ID: "a", Name: "A", Extension: "101"},
	})
	got := p.Agents()
	if len(got) != 3 || got[0].ID != "d" || got[1].ID != "b" || got[2].ID != "a" {
		t.Fatalf("Agents() = %+v, want d, b, a", got)
	}
	if got[2] != before {
		t.Errorf("a after reload = %+v, want %+v", got[2], before)
	}
	if got[2].Missed != 1 || got[2].Mode != Phone || got[2].Forward.When != ForwardNoAnswer {
		t.Errorf("a lost its state: %+v", got[2])
	}
	wantB := beforeB
	wantB.Name, wantB.Extension = "Bea", "202"
	if got[1] != wantB {
		t.Errorf("b after reload = %+v, want %+v", got[1], wantB)
	}
	if got[0].Status != Offline || got[0].Available || !got[0].LoggedIn.IsZero() {
		t.Errorf("new agent d = %+v, want Offline", got[0])
	}
	if _, ok := p.Agent("c"); ok {
		t.Error("dropped agent c still known")
	}
	if err := p.SetStatus("c", Online); !errors.Is(err, ErrUnknownAgent) {
		t.Errorf("SetStatus(dropped) = %v, want ErrUnknownAgent", err)
	}
	for ext, want := range map[string]string{"202": "b", "101": "a", "104": "d", "102": "", "103": ""} {
		id, ok := p.ByExtension(ext)
		if id != want || ok != (want != "") {
			t.Errorf("ByExtension(%s) = %q, %t; want %q", ext, id, ok, want)
		}
	}
	// The call that started before the reload still ends the usual way.
	p.CallEnded("b", "call-b")
	if st := mustAgent(t, p, "b"); st.OnCall != "" || !st.WrapUntil.Equal(c.Now().Add(time.Minute)) {
		t.Errorf("b after CallEnded = %+v", st)
	}
}

func TestRelease(t *testing.T) {
	tests := []struct {
		name       string
		reserve    bool
		callID     string
		rangOut    bool
		wantMissed int
	}{
		{name: "rang out", reserve: true, callID: "call", rangOut: true, wantMissed: 1},
		{name: "stopped ringing", reserve: true, callID: "call"},
		{name: "not reserved", rangOut: true, callID: "call"},
		{name: "reserved for another call", reserve: true, callID: "other", rangOut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := newTestPool(t, Options{}, "a")
			login(t, p, c, "a")
			if tt.reserve {
				mustNext(t, p.Hunt("call", []string{"a"}, Sequential, HuntOptions{}), "a")
			}
			c.Advance(time.Minute)
			p.Release("a", tt.callID, tt.rangOut)
			st := mustAgent(t, p, "a")
			if st.Missed != tt.wantMissed {
				t.Errorf("Missed = %d, want %d", st.Missed, tt.wantMissed)
			}
			wantLast := time.Time{}
			if tt.wantMissed > 0 {
				wantLast = c.Now()
			}
			if !st.LastMissed.Equal(wantLast) {
				t.Errorf("LastMissed = %v, want %v", st.LastMissed, wantLast)
			}
			if wantRinging := tt.reserve && tt.callID != "call"; (st.Ringing != "") != wantRinging {
				t.Errorf("Ringing = %q, want reserved %t", st.Ringing, wantRinging)
			}
		})
	}
}

func TestWrapUp(t *testing.T) {
	p, c := newTestPool(t, Options{WrapUp: 30 * time.Second}, "a", "b")
	login(t, p, c, "a", "b")
	_ = p.SetStatus("b", Busy)
	h := p.Hunt("q", []string{"a"}, Sequential, HuntOptions{Queue: true})
	defer h.Stop()

	if w := p.NextWake(); !w.IsZero() {
		t.Fatalf("NextWake before any call = %v, want zero", w)
	}
	p.CallStarted("a", "c1")
	p.CallStarted("b", "c2")
	if st := mustAgent(t, p, "a"); st.Available || st.OnCall != "c1" {
		t.Fatalf("on a call: %+v", st)
	}
	c.Advance(5 * time.Minute)
	p.CallEnded("b", "c2") // b is Busy: its wrap-up wakes nobody
	c.Advance(time.Second)
	p.CallEnded("a", "c1")
	end := c.Now().Add(30 * time.Second)
	st := mustAgent(t, p, "a")
	if st.Available || st.OnCall != "" || !st.WrapUntil.Equal(end) || !st.IdleSince.Equal(c.Now()) {
		t.Fatalf("in wrap-up: %+v", st)
	}
	if w := p.NextWake(); !w.Equal(end) {
		t.Errorf("NextWake = %v, want %v", w, end)
	}
	mustNext(t, h, "wait")
	c.Advance(29 * time.Second)
	mustNext(t, h, "wait")
	c.Advance(time.Second)
	if !mustAgent(t, p, "a").Available {
		t.Error("not available after the wrap-up")
	}
	if w := p.NextWake(); !w.IsZero() {
		t.Errorf("NextWake after the wrap-up = %v, want zero", w)
	}
	mustNext(t, h, "a")

	// A call during wrap-up cuts it short; none is running then.
	p.Release("a", "q", false)
	p.CallStarted("a", "c3")
	p.CallEnded("a", "c3")
	p.CallStarted("a", "c4")
	if w := p.NextWake(); !w.IsZero() {
		t.Errorf("NextWake on a call = %v, want zero", w)
	}
}

func TestNoWrapUp(t *testing.T) {
	p, c := newTestPool(t, Options{}, "a")
	login(t, p, c, "a")
	p.CallStarted("a", "c1")
	p.CallStarted("a", "c2") // a consultation: two calls at once
	p.CallEnded("a", "c1")
	if st := mustAgent(t, p, "a"); st.Available || st.OnCall != "c2" {
		t.Fatalf("with one call left: %+v", st)
	}
	p.CallEnded("a", "c2")
	if st := mustAgent(t, p, "a"); !st.Available || !st.WrapUntil.IsZero() {
		t.Fatalf("after the calls: %+v", st)
	}
	if w := p.NextWake(); !w.IsZero() {
		t.Errorf("NextWake = %v, want zero", w)
	}
}

func TestChanged(t *testing.T) {
	tests := []struct {
		name  string
		do    func(p *Pool, h *Hunt)
		close bool
	}{
		{"SetStatus", func(p *Pool, _ *Hunt) { _ = p.SetStatus("b", Online) }, true},
		{"SetStatus unchanged", func(p *Pool, _ *Hunt) { _ = p.SetStatus("a", Online) }, false},
		{"CallEnded", func(p *Pool, _ *Hunt) { p.CallEnded("c", "other") }, true},
		{"CallEnded of another call", func(p *Pool, _ *Hunt) { p.CallEnded("c", "nope") }, false},
		{"Release", func(p *Pool, _ *Hunt) { p.Release("a", "call", true) }, true},
		{"Release not reserved", func(p *Pool, _ *Hunt) { p.Release("b", "call", true) }, false},
		{"Stop", func(_ *Pool, h *Hunt) { h.Stop() }, true},
		{"SetAgents", func(p *Pool, _ *Hunt) { p.SetAgents(infos("a", "b", "c")) }, true},
		{"CallStarted", func(p *Pool, _ *Hunt) { p.CallStarted("a", "call") }, false},
		{"SetMode", func(p *Pool, _ *Hunt) { _ = p.SetMode("a", Phone) }, false},
		{"SetForward", func(p *Pool, _ *Hunt) { _ = p.SetForward("a", Forward{Number: "1", When: ForwardAlways}) }, false},
		{"Next", func(_ *Pool, h *Hunt) { h.Next() }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := newTestPool(t, Options{}, "a", "b", "c")
			login(t, p, c, "a", "c")
			p.CallStarted("c", "other")
			h := p.Hunt("call", []string{"a"}, Sequential, HuntOptions{})
			mustNext(t, h, "a")
			ch := p.Changed()
			if ch2 := p.Changed(); ch2 != ch {
				t.Fatal("Changed returned a new channel without a change")
			}
			tt.do(p, h)
			if got := isClosed(ch); got != tt.close {
				t.Fatalf("closed = %t, want %t", got, tt.close)
			}
			if tt.close && isClosed(p.Changed()) {
				t.Error("the next Changed channel is closed already")
			}
		})
	}
}

func TestAgentErrors(t *testing.T) {
	p, _ := newTestPool(t, Options{}, "a")
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"status of unknown agent", p.SetStatus("zz", Online), ErrUnknownAgent},
		{"invalid status", p.SetStatus("a", Status(9)), ErrInvalidStatus},
		{"mode of unknown agent", p.SetMode("zz", Phone), ErrUnknownAgent},
		{"invalid mode", p.SetMode("a", Mode(-1)), ErrInvalidMode},
		{"forward of unknown agent", p.SetForward("zz", Forward{}), ErrUnknownAgent},
		{"forward without a number", p.SetForward("a", Forward{When: ForwardAlways}), ErrInvalidForward},
		{"invalid forward", p.SetForward("a", Forward{Number: "1", When: 7}), ErrInvalidForward},
		{"no forward", p.SetForward("a", Forward{Number: "1"}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.want) || (tt.want == nil) != (tt.err == nil) {
				t.Errorf("err = %v, want %v", tt.err, tt.want)
			}
		})
	}
	// Unknown agents are ignored by the call reports.
	p.CallStarted("zz", "c")
	p.CallEnded("zz", "c")
	p.Release("zz", "c", true)
}

func TestLoginTime(t *testing.T) {
	p, c := newTestPool(t, Options{}, "a")
	if st := mustAgent(t, p, "a"); !st.LoggedIn.IsZero() || !st.IdleSince.IsZero() {
		t.Fatalf("never logged in: %+v", st)
	}
	login(t, p, c, "a")
	first := c.Now()
	c.Advance(time.Minute)
	_ = p.SetStatus("a", Busy)
	_ = p.SetStatus("a", Online) // back from Busy: not a login
	if st := mustAgent(t, p, "a"); !st.LoggedIn.Equal(first) {
		t.Errorf("LoggedIn = %v, want %v", st.LoggedIn, first)
	}
	_ = p.SetStatus("a", Offline)
	c.Advance(time.Minute)
	_ = p.SetStatus("a", Busy)
	c.Advance(time.Minute)
	_ = p.SetStatus("a", Online) // Offline → Busy → Online: a login
	if st := mustAgent(t, p, "a"); !st.LoggedIn.Equal(c.Now()) || !st.IdleSince.Equal(c.Now()) {
		t.Errorf("after a new login: %+v, want LoggedIn and IdleSince %v", st, c.Now())
	}
}

func TestNames(t *testing.T) {
	for _, s := range []Status{Offline, Online, Busy} {
		if got, err := ParseStatus(s.String()); got != s || err != nil {
			t.Errorf("ParseStatus(%q) = %v, %v", s, got, err)
		}
	}
	for _, m := range []Mode{Web, Phone} {
		if got, err := ParseMode(m.String()); got != m || err != nil {
			t.Errorf("ParseMode(%q) = %v, %v", m, got, err)
		}
	}
	for _, w := range []ForwardWhen{ForwardNever, ForwardAlways, ForwardNoAnswer} {
		if got, err := ParseForwardWhen(w.String()); got != w || err != nil {
			t.Errorf("ParseForwardWhen(%q) = %v, %v", w, got, err)
		}
	}
	if got, err := ParseForwardWhen(" No-Answer "); got != ForwardNoAnswer || err != nil {
		t.Errorf("ParseForwardWhen(No-Answer) = %v, %v", got, err)
	}
	if _, err := ParseStatus("away"); !errors.Is(err, ErrInvalidStatus) {
		t.Errorf("ParseStatus(away) = %v", err)
	}
	if _, err := ParseMode("fax"); !errors.Is(err, ErrInvalidMode) {
		t.Errorf("ParseMode(fax) = %v", err)
	}
	if _, err := ParseForwardWhen("sometimes"); !errors.Is(err, ErrInvalidForward) {
		t.Errorf("ParseForwardWhen(sometimes) = %v", err)
	}
	for _, s := range []fmt.Stringer{Status(5), Mode(5), ForwardWhen(5), Strategy(5), HuntState(0)} {
		if s.String() == "" {
			t.Errorf("%T: empty String", s)
		}
	}
	if _, err := json.Marshal(AgentState{Status: Status(5)}); err == nil {
		t.Error("invalid status marshalled")
	}
}

func TestAgentStateJSON(t *testing.T) {
	p, c := newTestPool(t, Options{WrapUp: time.Minute}, "a")
	login(t, p, c, "a")
	_ = p.SetMode("a", Phone)
	_ = p.SetForward("a", Forward{Number: "+15550100", When: ForwardAlways})
	p.CallStarted("a", "c1")
	want := mustAgent(t, p, "a")
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got AgentState
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	if !got.LoggedIn.Equal(want.LoggedIn) || !got.IdleSince.Equal(want.IdleSince) {
		t.Errorf("times: got %+v, want %+v", got, want)
	}
	got.LoggedIn, got.IdleSince = want.LoggedIn, want.IdleSince
	if got != want {
		t.Errorf("round trip: got %+v, want %+v (%s)", got, want, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["status"] != "online" || m["mode"] != "phone" || m["id"] != "a" || m["on_call"] != "c1" {
		t.Errorf("JSON = %s", b)
	}
}

// TestConcurrent hunts, answers, releases and changes presence from many
// goroutines; run with -race. No agent is ever rung for two calls at once.
func TestConcurrent(t *testing.T) {
	const agents, callers, rounds = 12, 16, 300
	ids := make([]string, agents)
	for i := range ids {
		ids[i] = fmt.Sprintf("a%02d", i)
	}
	p, c := newTestPool(t, Options{StartOnline: true, WrapUp: time.Millisecond}, ids...)
	var (
		mu     sync.Mutex
		holder = make(map[string]string) // agent → call ringing it
	)
	take := func(call string, ring []string) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ring {
			if h, ok := holder[id]; ok {
				t.Errorf("agent %s rung for %s while ringing for %s", id, call, h)
			}
			holder[id] = call
		}
	}
	drop := func(ring []string) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ring {
			delete(holder, id)
		}
	}
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			q := p.Queue(fmt.Sprintf("q%d", g%3))
			for i := range rounds {
				call := fmt.Sprintf("call-%d-%d", g, i)
				q.Join(call, 0)
				h := p.Hunt(call, ids, Strategy(r.IntN(3)), HuntOptions{Queue: r.IntN(2) == 0, Cycles: 2})
				for range 3 {
					ring, st := h.Next()
					if st != Ring {
						break
					}
					take(call, ring)
					q.SetRinging(call, true)
					_ = q.MayRing(call)
					answer := r.IntN(3) == 0
					drop(ring)
					for j, id := range ring {
						if answer && j == 0 {
							p.CallStarted(id, call)
							p.CallEnded(id, call)
						} else {
							p.Release(id, call, r.IntN(2) == 0)
						}
					}
					q.SetRinging(call, false)
					if answer {
						break
					}
				}
				_ = p.NextWake()
				_ = p.Changed()
				_ = q.Position(call)
				q.Leave(call)
				h.Stop()
			}
		})
	}
	wg.Go(func() {
		for i := range rounds {
			id := ids[i%agents]
			_ = p.SetStatus(id, Status(i%3))
			_ = p.SetStatus(id, Online)
			c.Advance(time.Millisecond)
			_ = p.Agents()
			if i%50 == 0 {
				p.SetAgents(infos(ids...))
			}
		}
	})
	wg.Wait()
	for _, st := range p.Agents() {
		if st.Ringing != "" || st.OnCall != "" {
			t.Errorf("agent %s left with %+v", st.ID, st)
		}
	}
}
