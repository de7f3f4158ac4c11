package media

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// fakeClock is injected into PortPool.now.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestPool(t *testing.T, lo, hi int, quarantine time.Duration) (*PortPool, *fakeClock) {
	t.Helper()
	p, err := NewPortPool(lo, hi, quarantine)
	if err != nil {
		t.Fatalf("NewPortPool(%d, %d): %v", lo, hi, err)
	}
	clk := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	p.now = clk.now
	return p, clk
}

func bindOK(int) error { return nil }

func mustAcquire(t *testing.T, p *PortPool) int {
	t.Helper()
	port, err := p.Acquire(bindOK)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	return port
}

// acquireAll takes every port the pool will give and returns them in order.
func acquireAll(t *testing.T, p *PortPool) []int {
	t.Helper()
	var ports []int
	for {
		port, err := p.Acquire(bindOK)
		if errors.Is(err, ErrNoPorts) {
			return ports
		}
		if err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		if len(ports) > p.Size() {
			t.Fatalf("Acquire handed out %v, more than Size %d", ports, p.Size())
		}
		ports = append(ports, port)
	}
}

func TestNewPortPool(t *testing.T) {
	tests := []struct {
		min, max int
		want     []int // nil: error
	}{
		{10000, 10001, []int{10000}},
		{10001, 10002, nil},
		{10000, 10000, nil},
		{10001, 10001, nil},
		{10001, 10004, []int{10002}},
		{10001, 10005, []int{10002, 10004}},
		{10000, 10004, []int{10000, 10002}},
		{10000, 10005, []int{10000, 10002, 10004}},
		{1, 3, []int{2}},
		{0, 1, nil},
		{-4, 1, nil},
		{65534, 65535, []int{65534}},
		{65533, 65535, []int{65534}},
		{65535, 65535, nil},
		{20000, 10000, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-%d", tt.min, tt.max), func(t *testing.T) {
			p, err := NewPortPool(tt.min, tt.max, 0)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("NewPortPool(%d, %d) holds %d ports, want an error", tt.min, tt.max, p.Size())
				}
				if !errors.Is(err, ErrNoPorts) {
					t.Errorf("error %v is not ErrNoPorts", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewPortPool(%d, %d): %v", tt.min, tt.max, err)
			}
			if p.Size() != len(tt.want) {
				t.Errorf("Size %d, want %d", p.Size(), len(tt.want))
			}
			if got := acquireAll(t, p); !slices.Equal(got, tt.want) {
				t.Errorf("ports %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPortPoolRangeProperty checks every small range: RTP ports are even,
// within [min, max] with their odd RTCP neighbour, all of them are handed
// out, and the pool agrees with Config.Validate on which ranges are usable.
func TestPortPoolRangeProperty(t *testing.T) {
	for lo := 1; lo <= 12; lo++ {
		for hi := lo; hi <= 16; hi++ {
			cfgErr := Config{PortMin: 10000 + lo, PortMax: 10000 + hi}.Validate()
			p, err := NewPortPool(10000+lo, 10000+hi, 0)
			if (err == nil) != (cfgErr == nil) {
				t.Errorf("range %d-%d: NewPortPool error %v, Config.Validate error %v", 10000+lo, 10000+hi, err, cfgErr)
			}
			want := 0
			for port := 10000 + lo; port+1 <= 10000+hi; port++ {
				if port%2 == 0 {
					want++
				}
			}
			if err != nil {
				if want > 0 {
					t.Errorf("range %d-%d holds %d ports, but NewPortPool: %v", 10000+lo, 10000+hi, want, err)
				}
				continue
			}
			ports := acquireAll(t, p)
			if len(ports) != want || p.Size() != want || p.InUse() != want {
				t.Errorf("range %d-%d: handed out %v, Size %d, InUse %d; want %d ports", 10000+lo, 10000+hi, ports, p.Size(), p.InUse(), want)
			}
			for _, port := range ports {
				if port%2 != 0 || port < 10000+lo || port+1 > 10000+hi {
					t.Errorf("range %d-%d: port %d", 10000+lo, 10000+hi, port)
				}
			}
		}
	}
}

func TestPortPoolRoundRobin(t *testing.T) {
	p, _ := newTestPool(t, 30000, 30007, 0) // 30000, 30002, 30004, 30006
	var got []int
	for range 4 {
		port := mustAcquire(t, p)
		got = append(got, port)
		p.Release(port)
	}
	// Released ports (no quarantine) are free again, but the next one in the
	// rotation comes first.
	got = append(got, mustAcquire(t, p))
	if want := []int{30000, 30002, 30004, 30006, 30000}; !slices.Equal(got, want) {
		t.Errorf("ports %v, want %v", got, want)
	}
	// In-use ports are skipped.
	p2, _ := newTestPool(t, 30000, 30007, 0)
	a, b := mustAcquire(t, p2), mustAcquire(t, p2)
	p2.Release(a)
	c, d, e := mustAcquire(t, p2), mustAcquire(t, p2), mustAcquire(t, p2)
	if a != 30000 || b != 30002 || c != 30004 || d != 30006 || e != 30000 {
		t.Errorf("got %d %d %d %d %d, want 30000 30002 30004 30006 30000", a, b, c, d, e)
	}
	if _, err := p2.Acquire(bindOK); !errors.Is(err, ErrNoPorts) {
		t.Errorf("full pool: %v, want ErrNoPorts", err)
	}
}

func TestPortPoolQuarantine(t *testing.T) {
	const q = 2 * time.Second
	p, clk := newTestPool(t, 30000, 30001, q) // one port
	port := mustAcquire(t, p)
	if p.InUse() != 1 {
		t.Fatalf("InUse %d, want 1", p.InUse())
	}
	p.Release(port)
	if p.InUse() != 0 {
		t.Errorf("InUse %d after Release, want 0", p.InUse())
	}
	if _, err := p.Acquire(bindOK); !errors.Is(err, ErrNoPorts) {
		t.Errorf("Acquire during quarantine: %v, want ErrNoPorts", err)
	}
	clk.advance(q - time.Nanosecond)
	if _, err := p.Acquire(bindOK); !errors.Is(err, ErrNoPorts) {
		t.Errorf("Acquire 1 ns before the quarantine ends: %v, want ErrNoPorts", err)
	}
	clk.advance(time.Nanosecond)
	if got := mustAcquire(t, p); got != port {
		t.Errorf("after the quarantine got %d, want %d", got, port)
	}

	// With more ports, a quarantined one is skipped and the others used.
	p, clk = newTestPool(t, 30000, 30005, q) // 30000, 30002, 30004
	a := mustAcquire(t, p)
	p.Release(a)
	b, c := mustAcquire(t, p), mustAcquire(t, p)
	if _, err := p.Acquire(bindOK); !errors.Is(err, ErrNoPorts) {
		t.Errorf("Acquire with %d quarantined and %d, %d in use: %v, want ErrNoPorts", a, b, c, err)
	}
	clk.advance(q)
	if got := mustAcquire(t, p); got != a {
		t.Errorf("got %d, want %d back after its quarantine", got, a)
	}

	// Releasing a port never handed out does not quarantine it.
	p2, _ := newTestPool(t, 30000, 30003, q) // 30000, 30002
	p2.Release(30002)
	if a, b2 := mustAcquire(t, p2), mustAcquire(t, p2); a != 30000 || b2 != 30002 {
		t.Errorf("after releasing a port never acquired, got %d and %d; want 30000 and 30002", a, b2)
	}

	// Releasing a port twice, or one never handed out, changes nothing.
	p.Release(b)
	p.Release(b)
	p.Release(31000)
	p.Release(30001)
	if p.InUse() != 2 {
		t.Errorf("InUse %d, want 2", p.InUse())
	}
	clk.advance(q)
	if got := mustAcquire(t, p); got != b {
		t.Errorf("got %d, want %d", got, b)
	}
}

func TestPortPoolBindFailure(t *testing.T) {
	p, clk := newTestPool(t, 30000, 30007, 0) // 30000, 30002, 30004, 30006
	busy := map[int]bool{30000: true, 30002: true}
	errBusy := errors.New("address already in use")
	var tried []int
	bind := func(port int) error {
		tried = append(tried, port)
		if busy[port] {
			return errBusy
		}
		return nil
	}
	port, err := p.Acquire(bind)
	if err != nil || port != 30004 {
		t.Fatalf("Acquire = %d, %v; want 30004", port, err)
	}
	if !slices.Equal(tried, []int{30000, 30002, 30004}) {
		t.Errorf("tried %v, want 30000 30002 30004", tried)
	}
	if p.InUse() != 1 {
		t.Errorf("InUse %d, want 1: failed ports must not stay in use", p.InUse())
	}
	// The busy ports rest: the next Acquire does not try them again.
	busy = map[int]bool{}
	tried = nil
	if port := mustAcquire(t, p); port != 30006 {
		t.Errorf("got %d, want 30006", port)
	}
	if _, err := p.Acquire(bind); !errors.Is(err, ErrNoPorts) {
		t.Errorf("Acquire with the others resting: %v, want ErrNoPorts", err)
	}
	if len(tried) != 0 {
		t.Errorf("resting ports were tried: %v", tried)
	}
	clk.advance(busyRest)
	if port := mustAcquire(t, p); port != 30000 {
		t.Errorf("after %v got %d, want 30000", busyRest, port)
	}

	// Every port failing: ErrNoPorts carrying the bind error, nothing in use.
	p, _ = newTestPool(t, 30000, 30007, 0)
	tried = nil
	_, err = p.Acquire(func(port int) error { tried = append(tried, port); return errBusy })
	if !errors.Is(err, ErrNoPorts) || !errors.Is(err, errBusy) {
		t.Errorf("all binds failing: %v, want ErrNoPorts wrapping the bind error", err)
	}
	if len(tried) != 4 || p.InUse() != 0 {
		t.Errorf("tried %v, InUse %d; want each of the 4 ports once and none in use", tried, p.InUse())
	}
}
