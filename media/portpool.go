package media

import (
	"fmt"
	"sync"
	"time"
)

// busyRest keeps a port the OS refused (another program holds it) out of the
// rotation for a while.
const busyRest = 30 * time.Second

// PortPool hands out even RTP ports from a range, round robin, and rests a
// released port for a quarantine so late packets of one call cannot reach the
// next (STYLE §5). The odd port above each is left free for RTCP.
type PortPool struct {
	lo, hi     int // even ports lo, lo+2, ..., hi
	quarantine time.Duration
	now        func() time.Time

	mu      sync.Mutex
	next    int
	inUse   map[int]bool
	resting map[int]time.Time // port -> when it may be used again
}

// NewPortPool returns a pool over the even ports in [min, max] whose odd
// neighbour is also in range.
func NewPortPool(minPort, maxPort int, quarantine time.Duration) (*PortPool, error) {
	lo := minPort + minPort%2
	hi := maxPort - 1
	hi -= hi % 2
	if lo < 2 || hi > 65534 || lo > hi {
		return nil, fmt.Errorf("rtp port range %d-%d: %w", minPort, maxPort, ErrNoPorts)
	}
	return &PortPool{
		lo: lo, hi: hi, quarantine: quarantine, now: time.Now,
		next: lo, inUse: make(map[int]bool), resting: make(map[int]time.Time),
	}, nil
}

// Size is the number of RTP ports in the pool.
func (p *PortPool) Size() int { return (p.hi-p.lo)/2 + 1 }

// InUse is the number of ports handed out and not released.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inUse)
}

// Acquire finds a free port and calls bind with it; a port bind fails on is
// rested and the next one tried. It returns the bound port.
func (p *PortPool) Acquire(bind func(port int) error) (int, error) {
	var lastErr error
	for range p.Size() {
		port, ok := p.take()
		if !ok {
			break
		}
		if err := bind(port); err != nil {
			lastErr = err
			p.mu.Lock()
			delete(p.inUse, port)
			p.resting[port] = p.now().Add(busyRest)
			p.mu.Unlock()
			continue
		}
		return port, nil
	}
	if lastErr != nil {
		return 0, fmt.Errorf("%w (last bind error: %w)", ErrNoPorts, lastErr)
	}
	return 0, ErrNoPorts
}

// take reserves the next port that is neither in use nor resting.
func (p *PortPool) take() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for range p.Size() {
		port := p.next
		p.next += 2
		if p.next > p.hi {
			p.next = p.lo
		}
		if p.inUse[port] {
			continue
		}
		if until, ok := p.resting[port]; ok {
			if now.Before(until) {
				continue
			}
			delete(p.resting, port)
		}
		p.inUse[port] = true
		return port, true
	}
	return 0, false
}

// Release returns port to the pool after the quarantine.
func (p *PortPool) Release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.inUse[port] {
		return
	}
	delete(p.inUse, port)
	if p.quarantine > 0 {
		p.resting[port] = p.now().Add(p.quarantine)
	}
}
