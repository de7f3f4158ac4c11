package media

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// countConn is a PacketConn without syscalls: writes are counted (and the
// last one kept, if record is set); reads report a closed socket. It is for a
// single goroutine: sessions on it are built with newSession and never
// started.
type countConn struct {
	record  bool
	writes  int
	bytes   int
	to      netip.AddrPort
	last    [maxPacket + 64]byte
	lastLen int
}

var _ PacketConn = (*countConn)(nil)

func (c *countConn) ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error) {
	return 0, netip.AddrPort{}, net.ErrClosed
}

func (c *countConn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	c.writes++
	c.bytes += len(b)
	c.to = addr
	if c.record {
		c.lastLen = copy(c.last[:], b)
	}
	return len(b), nil
}

func (c *countConn) LocalAddr() net.Addr { return &net.UDPAddr{} }
func (c *countConn) Close() error        { return nil }

// relayCases are the relay paths pinned at zero allocations and benchmarked.
var relayCases = []string{"PCMU", "PCMU-to-PCMA", "telephone-event", "source-switch"} //nolint:gochecknoglobals // test table

// benchRelay builds A and C feeding B over countConns and returns one step
// of the named case: one 172-byte packet (a 16-byte event packet for
// telephone-event) through receive and forward.
func benchRelay(tb testing.TB, name string) (step func(), out *countConn) {
	tb.Helper()
	p1 := netip.MustParseAddrPort("192.0.2.1:4000")
	p2 := netip.MustParseAddrPort("192.0.2.2:5000")
	p3 := netip.MustParseAddrPort("192.0.2.3:6000")
	a := newSession(&countConn{}, 20000, discardLog())
	c := newSession(&countConn{}, 20004, discardLog())
	out = &countConn{}
	b := newSession(out, 20002, discardLog())
	a.SetParams(phoneParams(p1, PCMU))
	c.SetParams(phoneParams(p3, PCMU))
	pb := phoneParams(p2, PCMU)
	switch name {
	case "PCMU-to-PCMA":
		pb.Codec, pb.PayloadType = PCMA, 8
	case "telephone-event":
		pb.DTMFPayloadType = 96
	}
	b.SetParams(pb)
	Bridge(a, b)
	c.SetPeer(b)

	pt, payload := uint8(0), audioPayload(1)
	if name == "telephone-event" {
		pt, payload = dtmfPT, dtmfPayload(5, false, 10, 160)
	}
	pktA := rtpBytes(tb, rtp.Header{PayloadType: pt, SequenceNumber: 1, Timestamp: 160, SSRC: 0xa}, payload)
	pktC := rtpBytes(tb, rtp.Header{PayloadType: pt, SequenceNumber: 1, Timestamp: 160, SSRC: 0xc}, payload)
	if name != "telephone-event" && len(pktA) != 172 {
		tb.Fatalf("packet is %d bytes, want 172", len(pktA))
	}
	var pkt rtp.Packet
	var seq uint16
	var ts uint32
	step = func() {
		seq++
		if name != "telephone-event" { // an event's packets share its timestamp
			ts += samplesPer20ms
		}
		if name == "source-switch" && seq%2 == 0 {
			binary.BigEndian.PutUint16(pktC[2:], seq)
			binary.BigEndian.PutUint32(pktC[4:], ts)
			c.receive(pktC, p3, &pkt)
			return
		}
		binary.BigEndian.PutUint16(pktA[2:], seq)
		binary.BigEndian.PutUint32(pktA[4:], ts)
		a.receive(pktA, p1, &pkt)
	}
	return step, out
}

// TestRelayZeroAlloc pins the relay fast path (receive → latch → forward) at
// zero allocations per packet (STYLE §5, §8).
func TestRelayZeroAlloc(t *testing.T) {
	for _, name := range relayCases {
		t.Run(name, func(t *testing.T) {
			step, out := benchRelay(t, name)
			step() // first packet: random start, latching
			const runs = 1000
			before := out.writes
			if n := testing.AllocsPerRun(runs, step); n != 0 {
				t.Errorf("%v allocations per relayed packet, want 0", n)
			}
			if got := out.writes - before; got != runs+1 { // AllocsPerRun warms up once
				t.Errorf("%d packets forwarded in %d steps: the path under test dropped packets", got, runs+1)
			}
		})
	}
}

// BenchmarkRelayForward is the relay path without syscalls.
func BenchmarkRelayForward(b *testing.B) {
	for _, name := range relayCases {
		b.Run(name, func(b *testing.B) {
			step, out := benchRelay(b, name)
			b.ReportAllocs()
			for b.Loop() {
				step()
			}
			if out.writes < b.N {
				b.Fatalf("forwarded %d of %d", out.writes, b.N)
			}
		})
	}
}

func listenLoopback(tb testing.TB) *net.UDPConn {
	tb.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

func udpAddr(c *net.UDPConn) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort() //nolint:forcetypeassert // a UDPConn
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRelayLoopback relays over real UDP sockets on 127.0.0.1: a sender
// socket → session A → bridged session B → a receiver socket, in bursts of
// 32 packets so the receiver keeps up. Reported: forwarded packets per second
// (pps), wall and CPU time per forwarded packet (cpu-ns/pkt is the whole
// process, sender and receiver included: an upper bound for the relay), and
// the fraction lost.
func BenchmarkRelayLoopback(b *testing.B) {
	for _, far := range []G711{PCMU, PCMA} {
		b.Run("to-"+far.String(), func(b *testing.B) {
			b.ReportAllocs()
			ca, cb := listenLoopback(b), listenLoopback(b)
			send, recv := listenLoopback(b), listenLoopback(b)
			for _, c := range []*net.UDPConn{ca, cb, send, recv} {
				_ = c.SetReadBuffer(1 << 20)
				_ = c.SetWriteBuffer(1 << 20)
			}
			sa := NewSessionConn(udpConn{ca}, udpAddr(ca), discardLog())
			sb := NewSessionConn(udpConn{cb}, udpAddr(cb), discardLog())
			b.Cleanup(func() { _ = sa.Close(); _ = sb.Close() })
			sa.SetParams(phoneParams(udpAddr(send), PCMU))
			sb.SetParams(phoneParams(udpAddr(recv), far))
			Bridge(sa, sb)

			pkt := rtpBytes(b, rtp.Header{PayloadType: 0, SequenceNumber: 1, Timestamp: 0, SSRC: 0xbe}, audioPayload(1))
			to := sa.LocalAddr()
			rbuf := make([]byte, 2048)
			const burst = 32
			var seq uint16
			var ts uint32
			sent, got := 0, 0
			cpu0 := cpuTime()
			b.ResetTimer()
			for sent < b.N {
				n := min(burst, b.N-sent)
				for range n {
					seq++
					ts += samplesPer20ms
					binary.BigEndian.PutUint16(pkt[2:], seq)
					binary.BigEndian.PutUint32(pkt[4:], ts)
					if _, err := send.WriteToUDPAddrPort(pkt, to); err != nil {
						b.Fatalf("send: %v", err)
					}
				}
				sent += n
				_ = recv.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				for i := 0; i < n; i++ {
					if _, _, err := recv.ReadFromUDPAddrPort(rbuf); err != nil {
						if errors.Is(err, os.ErrDeadlineExceeded) {
							break
						}
						b.Fatalf("receive: %v", err)
					}
					got++
				}
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			_ = recv.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			for got < sent {
				if _, _, err := recv.ReadFromUDPAddrPort(rbuf); err != nil {
					break
				}
				got++
			}
			if got == 0 {
				b.Fatalf("nothing relayed")
			}
			el := b.Elapsed()
			b.ReportMetric(float64(got)/el.Seconds(), "pps")
			b.ReportMetric(float64(el.Nanoseconds())/float64(got), "wall-ns/pkt")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(got), "cpu-ns/pkt")
			b.ReportMetric(float64(sent-got)/float64(sent), "loss")
		})
	}
}
