package media

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// pipeNet is an in-memory UDP network for Session tests: each endpoint has a
// netip.AddrPort, datagrams travel through a buffered channel per endpoint and
// are dropped, as UDP would drop them, when the receiver's queue is full or
// nobody listens on the destination. Created inside a synctest bubble, its
// channels block durably, so synctest.Wait returns once every datagram has
// been read and handled.
type pipeNet struct {
	depth int

	mu  sync.Mutex
	eps map[netip.AddrPort]*pipeConn
}

// pipeQueue is how many datagrams an endpoint buffers, like a socket buffer.
const pipeQueue = 1024

func newPipeNet() *pipeNet {
	return &pipeNet{depth: pipeQueue, eps: make(map[netip.AddrPort]*pipeConn)}
}

// listen opens the endpoint addr ("192.0.2.1:4000").
func (n *pipeNet) listen(tb testing.TB, addr string) *pipeConn {
	tb.Helper()
	ap := netip.MustParseAddrPort(addr)
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.eps[ap]; ok {
		tb.Fatalf("pipe: %s already in use", ap)
	}
	c := &pipeConn{
		net:    n,
		addr:   ap,
		in:     make(chan pipeDatagram, n.depth),
		done:   make(chan struct{}),
		sentTo: make(map[netip.AddrPort]int),
	}
	n.eps[ap] = c
	return c
}

func (n *pipeNet) lookup(ap netip.AddrPort) *pipeConn {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.eps[ap]
}

type pipeDatagram struct {
	from netip.AddrPort
	b    []byte
}

// pipeConn is one endpoint of a pipeNet; it satisfies PacketConn.
type pipeConn struct {
	net  *pipeNet
	addr netip.AddrPort
	in   chan pipeDatagram

	done      chan struct{}
	closeOnce sync.Once

	writes atomic.Int64 // datagrams written
	lost   atomic.Int64 // written but not delivered (no listener, queue full)

	mu     sync.Mutex
	sentTo map[netip.AddrPort]int // datagrams written, by destination
}

var _ PacketConn = (*pipeConn)(nil)

func (c *pipeConn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	select {
	case <-c.done:
		return 0, netip.AddrPort{}, c.opError("read", net.ErrClosed)
	default:
	}
	select {
	case d := <-c.in:
		return copy(b, d.b), d.from, nil // truncates like a real UDP read
	case <-c.done:
		return 0, netip.AddrPort{}, c.opError("read", net.ErrClosed)
	}
}

func (c *pipeConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-c.done:
		return 0, c.opError("write", net.ErrClosed)
	default:
	}
	c.writes.Add(1)
	c.mu.Lock()
	c.sentTo[addr]++
	c.mu.Unlock()
	dst := c.net.lookup(addr)
	if dst == nil {
		c.lost.Add(1)
		return len(b), nil
	}
	select {
	case <-dst.done:
		c.lost.Add(1)
		return len(b), nil
	default:
	}
	select {
	case dst.in <- pipeDatagram{from: c.addr, b: append([]byte(nil), b...)}:
	default:
		c.lost.Add(1)
	}
	return len(b), nil
}

func (c *pipeConn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.addr) }

func (c *pipeConn) Close() error {
	err := c.opError("close", net.ErrClosed)
	c.closeOnce.Do(func() {
		close(c.done)
		err = nil
	})
	return err
}

func (c *pipeConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "udp", Addr: c.LocalAddr(), Err: err}
}

// send writes b to addr and fails the test on error.
func (c *pipeConn) send(tb testing.TB, addr netip.AddrPort, b []byte) {
	tb.Helper()
	if _, err := c.WriteToUDPAddrPort(b, addr); err != nil {
		tb.Fatalf("pipe %s: write to %s: %v", c.addr, addr, err)
	}
}

// drain returns the datagrams queued for c, without blocking.
func (c *pipeConn) drain() []pipeDatagram {
	var out []pipeDatagram
	for {
		select {
		case d := <-c.in:
			out = append(out, d)
		default:
			return out
		}
	}
}

// sent is the number of datagrams c wrote to addr.
func (c *pipeConn) sent(addr netip.AddrPort) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sentTo[addr]
}

func TestPipe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newPipeNet()
		a := n.listen(t, "192.0.2.1:4000")
		b := n.listen(t, "192.0.2.2:5000")
		c := n.listen(t, "192.0.2.3:6000")
		nowhere := netip.MustParseAddrPort("192.0.2.9:9")

		a.send(t, b.addr, []byte("one"))
		a.send(t, b.addr, []byte("two"))
		c.send(t, b.addr, []byte("three"))
		a.send(t, c.addr, []byte("four"))
		a.send(t, nowhere, []byte("lost"))

		buf := make([]byte, 16)
		for _, want := range []struct {
			from netip.AddrPort
			msg  string
		}{{a.addr, "one"}, {a.addr, "two"}, {c.addr, "three"}} {
			nr, from, err := b.ReadFromUDPAddrPort(buf)
			if err != nil || from != want.from || string(buf[:nr]) != want.msg {
				t.Fatalf("b read %q from %s (%v), want %q from %s", buf[:nr], from, err, want.msg, want.from)
			}
		}
		if got := c.drain(); len(got) != 1 || string(got[0].b) != "four" || got[0].from != a.addr {
			t.Errorf("c got %v, want one datagram \"four\" from %s", got, a.addr)
		}
		if a.sent(b.addr) != 2 || a.sent(c.addr) != 1 || a.sent(nowhere) != 1 || a.writes.Load() != 4 || a.lost.Load() != 1 {
			t.Errorf("a counters: to b %d, to c %d, to nowhere %d, writes %d, lost %d; want 2, 1, 1, 4, 1",
				a.sent(b.addr), a.sent(c.addr), a.sent(nowhere), a.writes.Load(), a.lost.Load())
		}

		// A datagram longer than the read buffer is truncated, as UDP does.
		a.send(t, b.addr, make([]byte, 40))
		if nr, _, _ := b.ReadFromUDPAddrPort(buf); nr != len(buf) {
			t.Errorf("long datagram read as %d bytes, want %d (truncated)", nr, len(buf))
		}

		// Close unblocks a blocked reader with net.ErrClosed.
		errc := make(chan error, 1)
		go func() {
			_, _, err := b.ReadFromUDPAddrPort(buf)
			errc <- err
		}()
		synctest.Wait()
		select {
		case err := <-errc:
			t.Fatalf("read returned %v before Close", err)
		default:
		}
		if err := b.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked read after Close: %v, want net.ErrClosed", err)
		}
		if err := b.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close: %v, want net.ErrClosed", err)
		}
		if _, err := b.WriteToUDPAddrPort([]byte("x"), a.addr); !errors.Is(err, net.ErrClosed) {
			t.Errorf("write on closed conn: %v, want net.ErrClosed", err)
		}
		// Writing to a closed endpoint is not an error: the datagram is lost.
		a.send(t, b.addr, []byte("late"))
		if a.lost.Load() != 2 {
			t.Errorf("lost %d, want 2 after writing to a closed endpoint", a.lost.Load())
		}

		// A full queue drops instead of blocking the writer.
		small := &pipeNet{depth: 2, eps: make(map[netip.AddrPort]*pipeConn)}
		x := small.listen(t, "198.51.100.1:1")
		y := small.listen(t, "198.51.100.2:2")
		for range 5 {
			x.send(t, y.addr, []byte("z"))
		}
		if got := len(y.drain()); got != 2 || x.lost.Load() != 3 {
			t.Errorf("queue of 2 delivered %d, lost %d; want 2 and 3", got, x.lost.Load())
		}
	})
}
