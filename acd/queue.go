package acd

import (
	"slices"
	"sync"
	"time"
)

// Queue is the line of callers waiting in one queue (checklist A39,
// A40), in order of arrival. It keeps no agents: each caller's Hunt rings
// them, and MayRing keeps callers from overtaking those ahead.
//
// A Queue is safe for concurrent use. It starts no goroutines.
type Queue struct {
	id  string
	now func() time.Time

	mu      sync.Mutex
	callers []waiting
	changed chan struct{} // nil until someone asks for it
}

// waiting is one caller in a queue.
type waiting struct {
	callID  string
	joined  time.Time
	ringing bool
}

// ID returns the queue's ID.
func (q *Queue) ID() string { return q.id }

// Join puts call callID at the end of the queue and returns its 1-based
// position. ok is false, and the call not queued, when maxCallers callers are
// already waiting; maxCallers is capped at MaxQueueLen, and 0 or less
// means MaxQueueLen. A call already in the queue keeps its place.
func (q *Queue) Join(callID string, maxCallers int) (position int, ok bool) {
	if maxCallers <= 0 || maxCallers > MaxQueueLen {
		maxCallers = MaxQueueLen
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := q.indexLocked(callID); i >= 0 {
		return i + 1, true
	}
	if len(q.callers) >= maxCallers {
		return 0, false
	}
	q.callers = append(q.callers, waiting{callID: callID, joined: q.now()})
	return len(q.callers), true
}

// Leave takes call callID out of the queue (answered, hung up, timed out)
// and returns how long it waited; 0 when it was not in the queue. The
// callers behind move up and Changed is closed.
func (q *Queue) Leave(callID string) (waited time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := q.indexLocked(callID)
	if i < 0 {
		return 0
	}
	waited = q.now().Sub(q.callers[i].joined)
	q.callers = slices.Delete(q.callers, i, i+1)
	q.notifyLocked()
	return waited
}

// Position returns call callID's 1-based position in the queue, 0 when it
// is not in it.
func (q *Queue) Position(callID string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.indexLocked(callID) + 1
}

// Len returns how many callers are waiting.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.callers)
}

// SetRinging records whether call callID is ringing an agent now. A
// caller that starts ringing closes Changed: the callers behind it may
// ring too (see MayRing).
func (q *Queue) SetRinging(callID string, ringing bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := q.indexLocked(callID)
	if i < 0 || q.callers[i].ringing == ringing {
		return
	}
	q.callers[i].ringing = ringing
	if ringing {
		q.notifyLocked()
	}
}

// MayRing reports whether call callID may ring an agent now: true when
// every caller ahead of it is already ringing one, so an agent who becomes
// available goes to the caller who waited longest. A call not in the
// queue has nobody ahead: true.
func (q *Queue) MayRing(callID string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := q.indexLocked(callID)
	if i < 0 {
		return true
	}
	for _, w := range q.callers[:i] {
		if !w.ringing {
			return false
		}
	}
	return true
}

// Changed returns a channel that is closed at the next change of the
// queue that may let a caller ring (a caller left, so those behind moved
// up, or a caller started ringing) and then replaced: ask again after
// each wake-up.
func (q *Queue) Changed() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.changed == nil {
		q.changed = make(chan struct{})
	}
	return q.changed
}

// notifyLocked wakes the waiters on Changed.
func (q *Queue) notifyLocked() {
	if q.changed != nil {
		close(q.changed)
		q.changed = nil
	}
}

// indexLocked returns call callID's index in the queue, -1 when absent.
func (q *Queue) indexLocked(callID string) int {
	return slices.IndexFunc(q.callers, func(w waiting) bool { return w.callID == callID })
}
