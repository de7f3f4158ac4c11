package tickets

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/internal/sqlite"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newService opens a fresh database with settings st (country PT).
func newService(tb testing.TB, st Settings) (*Service, *clock) {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "t.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	if st.Country == "" {
		st.Country = "PT"
	}
	clk := &clock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	s, err := New(ctx, db, Options{Settings: st, Now: clk.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return s, clk
}

// callScript builds a call's events with increasing sequence numbers.
type callScript struct {
	id  string
	seq int
	clk *clock
	evs []Event
}

func newCall(id string, clk *clock) *callScript { return &callScript{id: id, clk: clk} }

func (c *callScript) add(e Event) Event {
	c.seq++
	e.Call, e.Seq = c.id, c.seq
	if e.At.IsZero() {
		e.At = c.clk.Now()
	}
	c.evs = append(c.evs, e)
	return e
}

// apply adds e and applies it.
func (c *callScript) apply(tb testing.TB, s *Service, e Event) {
	tb.Helper()
	if err := s.Apply(context.Background(), c.add(e)); err != nil {
		tb.Fatalf("apply %s: %v", e.Kind, err)
	}
}

func agentLeg(id, agent, ext string) *LegRecord {
	return &LegRecord{ID: id, Direction: "outbound", Agent: agent, Extension: ext}
}

// inboundAnswered plays a whole answered inbound call through a menu.
func inboundAnswered(tb testing.TB, s *Service, clk *clock, id, from, menu, agent string) {
	tb.Helper()
	c := newCall(id, clk)
	c.apply(tb, s, Event{Kind: CallStarted, Direction: Inbound, From: from, To: "+351210000000"})
	c.apply(tb, s, Event{Kind: CallRouted, Number: "+351210000000", Department: "support"})
	if menu != "" {
		c.apply(tb, s, Event{Kind: MenuSelected, MenuPath: menu})
	}
	c.apply(tb, s, Event{Kind: QueueJoined, Queue: "q"})
	clk.Add(5 * time.Second)
	c.apply(tb, s, Event{Kind: QueueLeft, Queue: "q", Reason: "answered", Wait: 5 * time.Second})
	c.apply(tb, s, Event{Kind: CallAnswered, Leg: agentLeg(id+"-2", agent, "1002")})
	clk.Add(30 * time.Second)
	c.apply(tb, s, Event{Kind: CallEnded, End: &CallEnd{Cause: "normal", HungUpBy: "caller", Answered: true, Talk: 30 * time.Second, Wait: 5 * time.Second}})
}
