package web

import (
	"container/list"
	"crypto/sha256"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Login throttling: how many failed logins are allowed before POST
// /api/v1/login answers 429.
const (
	// loginWindow is how long a failed login counts.
	loginWindow = 15 * time.Minute
	// loginFailuresPerUser is the failures allowed for one user name from
	// one client address within loginWindow.
	loginFailuresPerUser = 5
	// loginFailuresPerIP is the failures allowed from one client address
	// within loginWindow, whatever the user names.
	loginFailuresPerIP = 50
	// loginThrottleEntries bounds the throttle's memory: (address, user)
	// pairs and addresses together; the least recently failed goes first.
	loginThrottleEntries = 10_000
	// ipv6ThrottlePrefix: an IPv6 client is counted by its /64, which one
	// host usually has whole.
	ipv6ThrottlePrefix = 64
)

// loginThrottle counts failed logins per (client address, user name) and
// per client address, in memory, and refuses logins over the limits until
// the oldest failure that counts is loginWindow old (a sliding window).
// It is safe for concurrent use.
type loginThrottle struct {
	now     func() time.Time
	window  time.Duration
	max     int // entries
	mu      sync.Mutex
	entries map[throttleKey]*list.Element // of *throttleEntry
	lru     list.List                     // front: the most recent failure
}

// throttleKey is a pair (ip and the user name's hash) or, with all set,
// an address across all user names. The name is hashed so that a huge
// name costs no memory.
type throttleKey struct {
	ip   string
	user [sha256.Size]byte
	all  bool
}

func (k throttleKey) limit() int {
	if k.all {
		return loginFailuresPerIP
	}
	return loginFailuresPerUser
}

type throttleEntry struct {
	key throttleKey
	// fails are the times of the failures still counting, oldest first,
	// at most key.limit().
	fails []time.Time
}

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{now: now, window: loginWindow, max: loginThrottleEntries, entries: map[throttleKey]*list.Element{}}
}

// loginAttempt is an attempt begin let through. It counts as a failure
// until succeeded is called.
type loginAttempt struct {
	ip, user string
	at       time.Time
	// userFull and ipFull say this attempt reaches the pair's or the
	// address's limit should it fail.
	userFull, ipFull bool
}

// begin lets an attempt to log in as user from ip through, or returns how
// long to wait (> 0) when the pair or the address is over its limit. A
// refused attempt is not counted, so a client that keeps trying is let in
// once the window has passed. An attempt let through is counted as a
// failure at once, so that parallel attempts cannot all pass the check
// before one of them has failed; succeeded takes it back.
func (t *loginThrottle) begin(ip, user string) (loginAttempt, time.Duration) {
	now := t.now()
	keys := [2]throttleKey{{ip: ip, user: sha256.Sum256([]byte(user))}, {ip: ip, all: true}}
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		e := t.lookup(k, now)
		if e != nil && len(e.fails) >= k.limit() {
			wait = max(wait, e.fails[0].Add(t.window).Sub(now))
		}
	}
	if wait > 0 {
		return loginAttempt{}, wait
	}
	a := loginAttempt{ip: ip, user: user, at: now}
	for _, k := range keys {
		full := len(t.add(k, now).fails) == k.limit()
		if k.all {
			a.ipFull = full
		} else {
			a.userFull = full
		}
	}
	return a, 0
}

// succeeded takes back a's failure: the pair's count is cleared, and the
// address's loses a's failure.
func (t *loginThrottle) succeeded(a loginAttempt) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remove(throttleKey{ip: a.ip, user: sha256.Sum256([]byte(a.user))})
	if el, ok := t.entries[throttleKey{ip: a.ip, all: true}]; ok {
		e := entryOf(el)
		if i := slices.Index(e.fails, a.at); i >= 0 {
			e.fails = slices.Delete(e.fails, i, i+1)
		}
		if len(e.fails) == 0 {
			t.remove(e.key)
		}
	}
}

// lookup returns k's entry with the failures older than the window
// dropped (nil when none are left).
func (t *loginThrottle) lookup(k throttleKey, now time.Time) *throttleEntry {
	el, ok := t.entries[k]
	if !ok {
		return nil
	}
	e := entryOf(el)
	cut := now.Add(-t.window)
	i := 0
	for i < len(e.fails) && !e.fails[i].After(cut) {
		i++
	}
	e.fails = slices.Delete(e.fails, 0, i)
	if len(e.fails) == 0 {
		t.remove(k)
		return nil
	}
	return e
}

// add records a failure at now for k, making k the most recent entry and
// evicting the least recent one when the throttle is full.
func (t *loginThrottle) add(k throttleKey, now time.Time) *throttleEntry {
	if el, ok := t.entries[k]; ok {
		e := entryOf(el)
		if len(e.fails) >= k.limit() {
			e.fails = slices.Delete(e.fails, 0, 1)
		}
		e.fails = append(e.fails, now)
		t.lru.MoveToFront(el)
		return e
	}
	for len(t.entries) >= t.max {
		oldest := t.lru.Back()
		t.remove(entryOf(oldest).key)
	}
	e := &throttleEntry{key: k, fails: []time.Time{now}}
	t.entries[k] = t.lru.PushFront(e)
	return e
}

func entryOf(el *list.Element) *throttleEntry {
	e, _ := el.Value.(*throttleEntry) // the list holds nothing else
	return e
}

func (t *loginThrottle) remove(k throttleKey) {
	if el, ok := t.entries[k]; ok {
		t.lru.Remove(el)
		delete(t.entries, k)
	}
}

// len is the number of entries.
func (t *loginThrottle) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// clientIP is the address login throttling counts r under: the
// connection's remote address (never X-Forwarded-For, which the client
// writes), an IPv6 address cut to its /64. Behind a reverse proxy every
// client is the proxy's address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil { // not IP (a Unix socket): all such clients count as one
		return "other"
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		p, _ := addr.Prefix(ipv6ThrottlePrefix) // cannot fail: 64 bits of an IPv6 address
		return p.String()
	}
	return addr.String()
}
