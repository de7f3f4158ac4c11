package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/tickets"
)

// feedBuffer bounds the call events waiting for the helpdesk: seconds of
// a busy PBX.
const feedBuffer = 8192

// feedWait is how long a call waits for room in a full buffer (the
// database stalled) before its event is dropped and logged: calls must not
// hang on the helpdesk. A call whose end is dropped stays open in the
// helpdesk until the next start closes it with cause "restart".
const feedWait = time.Second

// helpdeskFeed is the calls.Observer that turns call events into the
// helpdesk's events and applies them, in order, on one goroutine (SQLite
// takes one writer at a time anyway), so calls never wait on the disk.
type helpdeskFeed struct {
	svc *tickets.Service
	log *slog.Logger
	// agentOf maps an extension to its agent id (transfer targets).
	agentOf func(ext string) string

	ch chan tickets.Event

	mu    sync.Mutex
	calls map[calls.CallID]*feedCall
	// applied counts events applied, for Flush.
	applied, queued uint64
	// dropped counts events that found the buffer full for feedWait.
	dropped uint64
	cond    *sync.Cond
}

// feedCall is what the translation remembers of a call in progress.
type feedCall struct {
	seq int
	// pending: an agent's call whose direction (out through a trunk, or
	// internal) is known at its first callee leg; start waits until then.
	pending *calls.CallStarted
}

func newHelpdeskFeed(svc *tickets.Service, agentOf func(string) string, log *slog.Logger) *helpdeskFeed {
	f := &helpdeskFeed{svc: svc, log: log, agentOf: agentOf, ch: make(chan tickets.Event, feedBuffer), calls: map[calls.CallID]*feedCall{}}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// Observe implements calls.Observer.
func (f *helpdeskFeed) Observe(e calls.Event) {
	for _, te := range f.translate(e) {
		select {
		case f.ch <- te:
		default:
			t := time.NewTimer(feedWait)
			select {
			case f.ch <- te:
				t.Stop()
			case <-t.C:
				f.mu.Lock()
				f.dropped++
				n := f.dropped
				f.mu.Unlock()
				f.log.Error("helpdesk: the database is behind; call event dropped", "call", te.Call, "kind", te.Kind, "seq", te.Seq, "dropped", n)
				continue
			}
		}
		f.mu.Lock()
		f.queued++
		f.mu.Unlock()
	}
}

// heartbeatEvery is how often the feed tells the database the process is
// alive: a call a kill interrupts ends, on the next start, at most this
// long before the kill.
const heartbeatEvery = 2 * time.Second

// applyAttempts is how often the feed tries events the database refused
// (busy, I/O) before it logs them lost.
const applyAttempts = 4

// feedBatch bounds the events applied in one transaction when they queue
// up (each still all or nothing on its own).
const feedBatch = 128

// run applies events until ctx ends, then what is already queued.
func (f *helpdeskFeed) run(ctx context.Context) {
	beat := time.NewTicker(heartbeatEvery)
	defer beat.Stop()
	f.heartbeat(ctx)
	for {
		select {
		case e := <-f.ch:
			f.apply(ctx, f.gather(e))
		case <-beat.C:
			f.heartbeat(ctx)
		case <-ctx.Done():
			for {
				select {
				case e := <-f.ch:
					f.apply(ctx, f.gather(e))
				default:
					return
				}
			}
		}
	}
}

func (f *helpdeskFeed) heartbeat(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := f.svc.Heartbeat(ctx, time.Now()); err != nil {
		f.log.Warn("helpdesk: heartbeat", "error", err)
	}
}

// gather returns first and the events queued behind it, up to feedBatch:
// applied together, they share one commit.
func (f *helpdeskFeed) gather(first tickets.Event) []tickets.Event {
	batch := []tickets.Event{first}
	for len(batch) < feedBatch {
		select {
		case e := <-f.ch:
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

func (f *helpdeskFeed) apply(ctx context.Context, batch []tickets.Event) {
	// The database outlives the feed's context: the last events of calls
	// hung up at shutdown still land.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	// A busy database (a long API write, a checkpoint) is worth waiting
	// for; an event the rules refuse is not.
	for attempt := 0; ; attempt++ {
		errs, err := f.svc.ApplyAll(ctx, batch)
		if err == nil {
			for i, e := range errs {
				if e != nil {
					ev := batch[i]
					f.log.Error("helpdesk: call event not applied", "call", ev.Call, "kind", ev.Kind, "seq", ev.Seq, "error", e)
				}
			}
			break
		}
		if attempt == applyAttempts-1 || ctx.Err() != nil {
			f.log.Error("helpdesk: call events not applied", "events", len(batch), "first_call", batch[0].Call, "attempts", attempt+1, "error", err)
			break
		}
		f.log.Warn("helpdesk: call events not applied yet, trying again", "events", len(batch), "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
		}
	}
	f.mu.Lock()
	f.applied += uint64(len(batch))
	f.cond.Broadcast()
	f.mu.Unlock()
}

// translate turns one call event into the helpdesk's (none, one, or a
// held-back start and the event).
func (f *helpdeskFeed) translate(e calls.Event) []tickets.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := e.Call()
	st := f.calls[id]
	if st == nil {
		st = &feedCall{}
		f.calls[id] = st
	}
	if _, ok := e.(calls.CallEnded); ok {
		delete(f.calls, id)
	}
	var out []tickets.Event
	emit := func(te tickets.Event) {
		st.seq++
		te.Call, te.Seq = string(id), st.seq
		if te.At.IsZero() {
			te.At = e.Time()
		}
		out = append(out, te)
	}
	if started, ok := e.(calls.CallStarted); ok {
		if started.Caller.Trunk == "" && started.Caller.AgentID != "" {
			st.pending = &started // an agent's call: out or internal?
			return out
		}
		emit(tickets.Event{
			Kind: tickets.CallStarted, Direction: tickets.Inbound, From: partyNumber(started.Caller),
			To: started.Dialed, CallerName: started.Caller.Name,
		})
		return out
	}
	if p := st.pending; p != nil {
		if outside, number, known := outsideParty(e); known {
			st.pending = nil
			start := tickets.Event{
				Kind: tickets.CallStarted, Direction: tickets.Internal, From: partyNumber(p.Caller), To: p.Dialed,
				Agent: p.Caller.AgentID, At: p.At,
			}
			if outside {
				start.Direction, start.To = tickets.Outbound, firstOf(number, p.Dialed)
			}
			emit(start)
		}
	}
	if te, ok := f.convert(e); ok {
		emit(te)
	}
	return out
}

// outsideParty says, for an agent's call, whether e shows where it went:
// a callee leg or the end. outside is true for a party reached through a
// trunk, with its number.
func outsideParty(e calls.Event) (outside bool, number string, known bool) {
	var p calls.Party
	switch ev := e.(type) {
	case calls.LegRinging:
		p = ev.Leg.Party
	case calls.LegEnded:
		p = ev.Leg.Party
	case calls.CallAnswered:
		p = ev.Leg.Party
	case calls.CallRouted:
		return false, "", true // an internal number of the dialplan
	case calls.CallEnded:
		p = ev.Record.Callee
	default:
		return false, "", false
	}
	return p.Trunk != "", p.Number, true
}

func partyNumber(p calls.Party) string {
	if p.Trunk != "" || p.Extension == "" {
		return p.Number
	}
	return p.Extension
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func legOf(l calls.LegRecord) *tickets.LegRecord {
	return &tickets.LegRecord{
		ID: string(l.ID), Direction: strings.ToLower(l.Direction.String()), Agent: l.Party.AgentID, Extension: l.Party.Extension,
		Number: l.Party.Number, SIPCallID: l.SIPCallID, Started: l.Started, Ringing: l.Ringing, Answered: l.Answered, Ended: l.Ended,
		Status: l.Status, Cause: l.Cause.String(), HeldMS: l.HeldFor.Milliseconds(),
	}
}

// convert maps one call event to the helpdesk's; ok is false for events
// the helpdesk does not keep (keypresses, recording pauses).
func (f *helpdeskFeed) convert(e calls.Event) (tickets.Event, bool) {
	switch ev := e.(type) {
	case calls.CallRouted:
		return tickets.Event{Kind: tickets.CallRouted, Number: ev.Number, Department: ev.Department}, true
	case calls.MenuSelected:
		return tickets.Event{Kind: tickets.MenuSelected, MenuPath: ev.Path, Department: ev.Department}, true
	case calls.QueueJoined:
		return tickets.Event{Kind: tickets.QueueJoined, Queue: ev.Queue, Department: ev.Department}, true
	case calls.QueueLeft:
		return tickets.Event{Kind: tickets.QueueLeft, Queue: ev.Queue, Reason: ev.Reason, Wait: ev.Waited}, true
	case calls.LegRinging:
		return tickets.Event{Kind: tickets.LegRinging, Leg: legOf(ev.Leg)}, true
	case calls.LegEnded:
		l := legOf(ev.Leg)
		l.RangOut = ev.RangOut
		return tickets.Event{Kind: tickets.LegEnded, Leg: l}, true
	case calls.CallAnswered:
		return tickets.Event{Kind: tickets.CallAnswered, Leg: legOf(ev.Leg)}, true
	case calls.LegConnected:
		return tickets.Event{Kind: tickets.LegConnected, Leg: legOf(ev.Leg)}, true
	case calls.LegLeft:
		return tickets.Event{Kind: tickets.LegLeft, Leg: legOf(ev.Leg)}, true
	case calls.CallHeld:
		return tickets.Event{Kind: tickets.CallHeld, Leg: &tickets.LegRecord{ID: string(ev.By)}}, true
	case calls.CallResumed:
		return tickets.Event{Kind: tickets.CallResumed, Leg: &tickets.LegRecord{ID: string(ev.By)}, Hold: ev.HeldFor}, true
	case calls.PartyHeld:
		return tickets.Event{Kind: tickets.CallHeld, Leg: &tickets.LegRecord{ID: string(ev.Leg)}}, true
	case calls.PartyResumed:
		return tickets.Event{Kind: tickets.CallResumed, Leg: &tickets.LegRecord{ID: string(ev.Leg)}, Hold: ev.HeldFor}, true
	case calls.TransferEnded:
		return tickets.Event{
			Kind: tickets.TransferEnded, To: ev.Transfer.Target, Agent: f.agentOf(ev.Transfer.Target),
			Outcome: ev.Transfer.Outcome,
		}, true
	case calls.VoicemailLeft:
		v := ev.Voicemail
		return tickets.Event{
			Kind: tickets.VoicemailLeft, Department: v.Department, MenuPath: ev.MenuPath,
			File: &tickets.FileInfo{Path: v.Path, Duration: v.Duration, Size: v.Size},
		}, true
	case calls.CallEnded:
		return endOf(ev.Record), true
	}
	return tickets.Event{}, false
}

func endOf(r calls.CallRecord) tickets.Event {
	end := &tickets.CallEnd{
		Cause: r.Cause.String(), Status: r.Status, HungUpBy: strings.ToLower(r.HungUpBy.String()), Answered: !r.Answered.IsZero(),
		Ring: r.RingDuration, Talk: r.TalkDuration, Hold: r.HoldDuration,
	}
	if rt := r.Route; rt != nil {
		end.Abandoned, end.Queue, end.Department, end.MenuPath = rt.Abandoned, rt.Queue, rt.Department, rt.MenuPath
		end.Wait = rt.Waited
		if end.Wait == 0 {
			end.Wait = rt.QueueWait
		}
	}
	for _, l := range r.Legs {
		end.Legs = append(end.Legs, *legOf(l))
	}
	te := tickets.Event{Kind: tickets.CallEnded, End: end, At: r.Ended}
	if rec := r.Recording; rec != nil && !rec.Deleted {
		te.File = &tickets.FileInfo{Path: rec.Path, Duration: rec.Duration, Size: rec.Size}
	}
	return te
}

// flush waits until every event queued so far is applied, or ctx ends.
func (f *helpdeskFeed) flush(ctx context.Context) error {
	f.mu.Lock()
	target := f.queued
	f.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.applied < target {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f.cond.Wait()
	}
	return nil
}
