// Package acd (automatic call distribution) keeps the agents' presence and
// decides whom a call rings: ring groups (sequential by login order with
// retries, or simultaneous up to 100 agents) and queues (longest idle,
// fair order between waiting callers). It is pure state and decisions:
// calls drives it, and it imports no project package (only the standard
// library).
//
// Main types:
//
//   - Pool: every configured agent's state (SetAgents; reload keeps the
//     state of the agents that remain). Per agent: Status (Offline, Online,
//     Busy; checklist A56), Mode (Web, Phone; A55), login time, calls,
//     wrap-up, Forward (A48-A51), missed calls, reservation. An agent is
//     available when Online, on no call, out of wrap-up and not being rung
//     for another call (A30, A61). Calls report to it with CallStarted,
//     CallEnded and Release.
//   - Hunt: one call's walk through a group of agents with a Strategy
//     (Sequential, A24, A27; Simultaneous, A25, A28; LongestIdle). Each
//     Next returns the agents to ring now, reserved for the call so no
//     other call rings them meanwhile (A29), or Wait (queues) or Done
//     (ring groups).
//   - Queue: the callers waiting in one queue (A39, A40): Join with a
//     maximum length, Position, Leave with the time waited, and MayRing so
//     that a caller rings an agent only when everyone ahead already does.
//
// Waiting for an agent needs no goroutine here: a caller that got Wait
// selects on Pool.Changed (closed when an agent may have become
// available), Queue.Changed and a timer set to Pool.NextWake (the end of
// the next wrap-up), then calls Next again.
//
// Pool, Hunt and Queue are safe for concurrent use. They start no
// goroutines and hold their lock only over their own state. Time comes
// from Options.Clock (time.Now by default), so tests run on a fake clock.
package acd
