package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Forbidden INVITEs (not from a trunk, not from a phone that could
// authenticate) get a 403 while their source stays under forbiddenBurst per
// forbiddenPer; beyond that they are dropped without an answer, so a
// scanner costs us no more than reading its packets.
const (
	forbiddenBurst   = 5
	forbiddenPer     = time.Minute
	forbiddenSources = 4096 // sources remembered; beyond, the table starts over
	resolveTimeout   = 3 * time.Second
	// trunkResolveEvery: trunk host names are resolved again every this
	// many sweeps (sweepInterval each): every five minutes.
	trunkResolveEvery = 20
)

// trunkSet tells which trunk an inbound INVITE comes from.
type trunkSet struct {
	trunks []Trunk

	mu       sync.RWMutex
	resolved map[string][]netip.Prefix // trunk name -> its host's addresses, for trunks without Networks
}

func newTrunkSet(ts []Trunk) *trunkSet {
	set := &trunkSet{resolved: make(map[string][]netip.Prefix)}
	for _, t := range ts {
		t = t.withDefaults()
		set.trunks = append(set.trunks, t)
		if len(t.Networks) == 0 {
			if a, err := netip.ParseAddr(t.Host); err == nil {
				set.resolved[t.Name] = []netip.Prefix{netip.PrefixFrom(a.Unmap(), a.BitLen())}
			}
		}
	}
	return set
}

// refresh resolves the host names of the trunks that give no networks.
func (ts *trunkSet) refresh(ctx context.Context) {
	for _, t := range ts.trunks {
		if len(t.Networks) > 0 {
			continue
		}
		if _, err := netip.ParseAddr(t.Host); err == nil {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, resolveTimeout)
		addrs, err := net.DefaultResolver.LookupNetIP(rctx, "ip", t.Host)
		cancel()
		if err != nil || len(addrs) == 0 {
			continue // keep what was resolved before
		}
		ps := make([]netip.Prefix, 0, len(addrs))
		for _, a := range addrs {
			a = a.Unmap()
			ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
		}
		ts.mu.Lock()
		ts.resolved[t.Name] = ps
		ts.mu.Unlock()
	}
}

// match returns the trunk an INVITE from src to Request-URI user ruser
// belongs to: one whose networks hold src, or (for a provider that sends
// calls to the contact Ringdesk registered with it) one that registers
// ruser.
func (ts *trunkSet) match(src netip.Addr, ruser string) (string, bool) {
	src = src.Unmap()
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	for _, t := range ts.trunks {
		nets := t.Networks
		if len(nets) == 0 {
			nets = ts.resolved[t.Name]
		}
		for _, n := range nets {
			if n.Contains(src) {
				return t.Name, true
			}
		}
	}
	for _, t := range ts.trunks {
		if t.Register && ruser != "" && ruser == t.RegisterUser {
			return t.Name, true
		}
	}
	return "", false
}

// sourceLimiter is a token bucket per source address, for answers to
// requests we refuse.
type sourceLimiter struct {
	burst float64
	rate  float64

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newSourceLimiter(burst int, per time.Duration) *sourceLimiter {
	return &sourceLimiter{burst: float64(burst), rate: float64(burst) / per.Seconds(), buckets: make(map[netip.Addr]*bucket)}
}

// allow takes a token of src's bucket.
func (l *sourceLimiter) allow(src netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[src]
	if b == nil {
		if len(l.buckets) >= forbiddenSources {
			clear(l.buckets) // a flood of sources: forget them all rather than grow
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[src] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// get returns the trunk named name.
func (ts *trunkSet) get(name string) (Trunk, bool) {
	for _, t := range ts.trunks {
		if t.Name == name {
			return t, true
		}
	}
	return Trunk{}, false
}

// binding is where an INVITE to user through trunk t goes: the Request-URI
// sip:user@host:port, sent to the provider's address (looked up now when
// the host is a name).
func (s *Server) trunkBinding(ctx context.Context, t Trunk, user string) (Binding, error) {
	u := sip.Uri{Scheme: "sip", User: user, Host: t.Host, Port: t.Port}
	if t.Transport != "udp" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", t.Transport)
	}
	addr, err := netip.ParseAddr(t.Host)
	if err != nil {
		if addr, err = s.lookupTrunkHost(ctx, t.Host, strings.ToUpper(t.Transport), resolveTimeout); err != nil {
			return Binding{}, err
		}
	}
	return Binding{
		AOR:       user,
		Contact:   u.String(),
		Source:    netip.AddrPortFrom(addr.Unmap(), uint16(t.Port)), //nolint:gosec // validated 1-65535
		Transport: strings.ToUpper(t.Transport),
	}, nil
}

// lookupTrunkHost looks a provider's host name up now (it may move) for
// requests over transport, preferring the address family of Ringdesk's
// listener of that transport. The error wraps ErrUnreachable.
func (s *Server) lookupTrunkHost(ctx context.Context, host, transport string, timeout time.Duration) (netip.Addr, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no addresses")
	}
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolve %s: %w", host, errors.Join(ErrUnreachable, err))
	}
	pick := addrs[0].Unmap()
	if l := s.listenerFor(transport); l != nil && l.bound.Addr().Unmap().Is4() {
		for _, a := range addrs {
			if a.Unmap().Is4() {
				pick = a.Unmap()
				break
			}
		}
	}
	return pick, nil
}
