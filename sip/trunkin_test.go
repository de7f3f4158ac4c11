package sip

import (
	"net/netip"
	"testing"
	"time"
)

// TestTrunkMatch: a call is a trunk's by its source network, by the host's
// address when the trunk names no networks, or by being addressed to the
// user the trunk registers; anything else is no trunk's.
func TestTrunkMatch(t *testing.T) {
	ts := newTrunkSet([]Trunk{
		{Name: "nets", Host: "sip.example.net", Networks: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}},
		{Name: "byhost", Host: "198.51.100.7"},
		{Name: "reg", Host: "sip.example.org", Register: true, Username: "acct-1"},
	})
	for _, tc := range []struct {
		src, ruser, want string
	}{
		{"203.0.113.9", "210000000", "nets"},
		{"::ffff:203.0.113.9", "210000000", "nets"},
		{"198.51.100.7", "210000000", "byhost"},
		{"198.51.100.8", "210000000", ""},
		{"192.0.2.1", "acct-1", "reg"},
		{"192.0.2.1", "acct-2", ""},
		{"192.0.2.1", "", ""},
	} {
		got, ok := ts.match(netip.MustParseAddr(tc.src), tc.ruser)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("match(%s, %q) = %q %v, want %q", tc.src, tc.ruser, got, ok, tc.want)
		}
	}
}

// TestSourceLimiter: each source has its own budget of refusals, refilled
// over time, and a flood of sources cannot grow the table without bound.
func TestSourceLimiter(t *testing.T) {
	l := newSourceLimiter(5, time.Minute)
	now := time.Unix(1000, 0)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for i := range 5 {
		if !l.allow(a, now) {
			t.Fatalf("refusal %d of a refused", i+1)
		}
	}
	if l.allow(a, now) {
		t.Error("a sixth refusal within the minute was allowed")
	}
	if !l.allow(b, now) {
		t.Error("another source shares the first one's budget")
	}
	if !l.allow(a, now.Add(12*time.Second)) {
		t.Error("no refill after 12 s (one refusal per 12 s)")
	}
	for i := range forbiddenSources + 10 {
		l.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now)
	}
	if n := len(l.buckets); n > forbiddenSources {
		t.Errorf("%d sources remembered, want at most %d", n, forbiddenSources)
	}
}
