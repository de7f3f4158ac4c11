package main

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/tickets"
)

// The feed's translation of call events into the helpdesk's. (Events built
// here carry no call ID: the calls package sets it; one scenario at a time
// ends with CallEnded, which resets the call's numbering.)
func TestHelpdeskTranslate(t *testing.T) {
	customer := calls.Party{Number: "+351912345678", Trunk: "provider", Name: "Ana"}
	alice := calls.Party{Extension: "1001", AgentID: "alice", Name: "Alice"}
	bob := calls.Party{Extension: "1002", AgentID: "bob"}
	ended := func(callee calls.Party) calls.Event {
		return calls.CallEnded{Record: calls.CallRecord{Callee: callee, Cause: calls.CauseNormal}}
	}
	for _, tc := range []struct {
		name string
		in   []calls.Event
		want string // kind:direction:from:to:agent per event
	}{
		{"a customer calls in", []calls.Event{
			calls.CallStarted{Caller: customer, Dialed: "+351210000000"},
			calls.CallRouted{Number: "+351210000000", Department: "support"},
			calls.MenuSelected{Path: "Support", Department: "support"},
			calls.DigitReceived{Digit: '1'},
			calls.CallAnswered{Leg: calls.LegRecord{ID: "l2", Party: bob}},
			ended(bob),
		}, "call_started:inbound:+351912345678:+351210000000: call_routed:::: menu_selected:::: call_answered:::: call_ended::::"},
		{"an agent calls a customer out", []calls.Event{
			calls.CallStarted{Caller: alice, Dialed: "912345678"},
			calls.LegRinging{Leg: calls.LegRecord{ID: "l2", Party: customer}},
			calls.CallAnswered{Leg: calls.LegRecord{ID: "l2", Party: customer}},
			ended(customer),
		}, "call_started:outbound:1001:+351912345678:alice leg_ringing:::: call_answered:::: call_ended::::"},
		{"an agent calls an agent", []calls.Event{
			calls.CallStarted{Caller: alice, Dialed: "1002"},
			calls.LegRinging{Leg: calls.LegRecord{ID: "l2", Party: bob}},
			ended(bob),
		}, "call_started:internal:1001:1002:alice leg_ringing:::: call_ended::::"},
		{"an agent calls the dialplan's 500", []calls.Event{
			calls.CallStarted{Caller: alice, Dialed: "500"},
			calls.CallRouted{Number: "500"},
			ended(calls.Party{}),
		}, "call_started:internal:1001:500:alice call_routed:::: call_ended::::"},
		{"an agent's call out that fails before ringing", []calls.Event{
			calls.CallStarted{Caller: alice, Dialed: "912345678"},
			ended(customer),
		}, "call_started:outbound:1001:+351912345678:alice call_ended::::"},
		{"a transfer names the agent who takes it", []calls.Event{
			calls.CallStarted{Caller: customer, Dialed: "+351210000000"},
			calls.TransferEnded{Transfer: calls.TransferRecord{Target: "1002", Outcome: "completed"}},
			ended(bob),
		}, "call_started:inbound:+351912345678:+351210000000: transfer_ended:::1002:bob call_ended::::"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newHelpdeskFeed(nil, func(ext string) string { return map[string]string{"1001": "alice", "1002": "bob"}[ext] }, slog.New(slog.DiscardHandler))
			var got []string
			for i, e := range tc.in {
				for _, te := range f.translate(e) {
					if te.Seq != len(got)+1 {
						t.Errorf("event %d (%s) numbered %d, want %d", i, te.Kind, te.Seq, len(got)+1)
					}
					got = append(got, fmt.Sprintf("%s:%s:%s:%s:%s", te.Kind, te.Direction, te.From, te.To, te.Agent))
				}
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("got  %s\nwant %s", s, tc.want)
			}
			if len(f.calls) != 0 {
				t.Errorf("the feed still holds %d calls after CallEnded", len(f.calls))
			}
		})
	}
}

// A call's recording, unless deleted during the call, goes with its end;
// the route's department, menu path, queue and wait go too.
func TestHelpdeskEnd(t *testing.T) {
	rec := calls.CallRecord{
		Cause: calls.CauseNormal, HungUpBy: calls.RoleCaller,
		Recording: &calls.Recording{Path: "/d/r.wav", Size: 10},
		Route:     &calls.RouteRecord{Department: "billing", MenuPath: "Support > Billing", Queue: "billing", QueueWait: 7e9, Abandoned: true},
	}
	e := endOf(rec)
	if e.File == nil || e.File.Path != "/d/r.wav" || e.End.Department != "billing" || e.End.Wait != 7e9 || !e.End.Abandoned ||
		e.End.HungUpBy != "caller" || e.End.Cause != "normal" {
		t.Errorf("end %+v file %+v", e.End, e.File)
	}
	rec.Recording.Deleted = true
	if e := endOf(rec); e.File != nil {
		t.Errorf("a deleted recording is attached: %+v", e.File)
	}
}

// When the database falls behind and the buffer is full, a call waits a
// bounded time for room, then its event is dropped and counted: calls never
// hang on the helpdesk.
func TestHelpdeskFeedFullDrops(t *testing.T) {
	f := newHelpdeskFeed(nil, func(string) string { return "" }, slog.New(slog.DiscardHandler))
	f.ch = make(chan tickets.Event, 1) // and nobody applies
	customer := calls.Party{Number: "+351912345678", Trunk: "provider"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Observe(calls.CallStarted{Caller: customer, Dialed: "+351210000000"})
		f.Observe(calls.CallRouted{Number: "+351210000000"})
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Observe is stuck on a full buffer")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropped != 1 || f.queued != 1 {
		t.Errorf("dropped %d, queued %d; want the second event dropped", f.dropped, f.queued)
	}
}
