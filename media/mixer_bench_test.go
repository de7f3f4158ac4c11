package media

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// discardConn is a PacketConn that sends nowhere: writes are counted, reads
// block until Close and then report net.ErrClosed, as a real socket's do.
// Sessions on it run their read loop (NewSessionConn), which stays parked.
type discardConn struct {
	writes atomic.Int64
	bytes  atomic.Int64

	done      chan struct{}
	closeOnce sync.Once
}

var _ PacketConn = (*discardConn)(nil)

func newDiscardConn() *discardConn { return &discardConn{done: make(chan struct{})} }

func (c *discardConn) ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error) {
	<-c.done
	return 0, netip.AddrPort{}, net.ErrClosed
}

func (c *discardConn) WriteToUDPAddrPort(b []byte, _ netip.AddrPort) (int, error) {
	c.writes.Add(1)
	c.bytes.Add(int64(len(b)))
	return len(b), nil
}

func (c *discardConn) LocalAddr() net.Addr { return &net.UDPAddr{} }

func (c *discardConn) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	return nil
}

// benchSessions opens n started sessions on discardConns, negotiated for
// PCMU towards distinct TEST-NET-1 addresses, closed at cleanup.
func benchSessions(tb testing.TB, n int) ([]*Session, []*discardConn) {
	tb.Helper()
	ss := make([]*Session, n)
	cs := make([]*discardConn, n)
	for i := range n {
		cs[i] = newDiscardConn()
		local := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(20000+2*(i%20000)))
		ss[i] = NewSessionConn(cs[i], local, discardLog())
		remote := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i%250)}), uint16(30000+i))
		ss[i].SetParams(phoneParams(remote, PCMU))
	}
	tb.Cleanup(func() {
		for _, s := range ss {
			_ = s.Close()
		}
	})
	return ss, cs
}

func totalWrites(cs []*discardConn) int64 {
	var n int64
	for _, c := range cs {
		n += c.writes.Load()
	}
	return n
}

// reportPerUnit reports the cost of one 20 ms frame per participant (or
// listener) and how many of them one core could serve in real time.
func reportPerUnit(b *testing.B, d time.Duration, frames, units int, unit string) {
	b.Helper()
	per := float64(d.Nanoseconds()) / float64(frames) / float64(units)
	b.ReportMetric(per, "ns/"+unit)
	b.ReportMetric(float64(FrameDuration.Nanoseconds())/per, unit+"s/core")
}

// BenchmarkMixerTick mixes a conference of n participants: one op is one
// 20 ms frame, in which every participant has one fresh frame in its jitter
// buffer (pushed as the session's reader would, on a 20 ms clock) and the
// mixer sends every one of them the mix of the others, encoded as PCMU, to
// a socket that discards it. Reported: ns/participant and
// participants/core, from the time spent in Tick alone; ns/op also counts
// the pushes (the readers' share, without their decoding). Nothing here
// counts the syscalls a real socket costs (see BenchmarkRelayLoopback).
func BenchmarkMixerTick(b *testing.B) {
	for _, n := range []int{3, 10, 100, 1000} {
		b.Run(fmt.Sprintf("participants=%d", n), func(b *testing.B) {
			m := NewMixer(nil, discardLog())
			// Stop the mixer's own ticker before anyone joins: only the
			// benchmark ticks, so no frame is popped behind its back.
			m.Close()
			ss, cs := benchSessions(b, n)
			parts := make([]*Participant, n)
			frames := make([][]int16, n)
			for i, s := range ss {
				p, err := m.Add(s, ParticipantOptions{Channel: i % 2})
				if err != nil {
					b.Fatal(err)
				}
				parts[i] = p
				frames[i] = sine(float64(300+7*i), FrameSamples)
			}
			t0 := time.Unix(1_700_000_000, 0)
			var seq uint16
			var ts uint32
			push := func() {
				now := t0.Add(time.Duration(seq) * FrameDuration)
				for i, p := range parts {
					p.buf.Push(seq, ts, uint32(i+1), frames[i], now)
				}
				seq++
				ts += samplesPer20ms
			}
			audio := func() (played, popped uint64) {
				for _, p := range parts {
					st := p.buf.Stats()
					played += st.Played
					popped += st.Popped
				}
				return played, popped
			}
			push() // the jitter buffers prime to their 40 ms target
			m.Tick()
			sent0 := totalWrites(cs)
			played0, popped0 := audio()
			b.ReportAllocs()
			var inTick time.Duration
			ticks := 0
			for b.Loop() {
				push()
				start := time.Now()
				m.Tick()
				inTick += time.Since(start)
				ticks++
			}
			if got, want := totalWrites(cs)-sent0, int64(ticks)*int64(n); got != want {
				b.Fatalf("sent %d frames in %d ticks of %d participants, want %d", got, ticks, n, want)
			}
			played, popped := audio()
			reportPerUnit(b, inTick, ticks, n, "participant")
			b.ReportMetric(float64(played-played0)/float64(popped-popped0), "audio/frame")
		})
	}
}

// BenchmarkMusicStreamTick sends hold music to n listeners: one op is one
// 20 ms frame, already encoded, copied into every listener's stream and
// sent to a socket that discards it. Reported: ns/listener and
// listeners/core.
func BenchmarkMusicStreamTick(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("listeners=%d", n), func(b *testing.B) {
			ms, err := NewMusicStream("bench", sine(440, SampleRate), discardLog())
			if err != nil {
				b.Fatal(err)
			}
			ms.Close() // its ticker stops: only the benchmark ticks
			ss, cs := benchSessions(b, n)
			for i, s := range ss {
				if i%2 == 1 { // half the callers negotiated PCMA
					p := s.Params()
					p.Codec, p.PayloadType = PCMA, 8
					s.SetParams(p)
				}
				ms.Add(s)
			}
			ms.Tick()
			sent0 := totalWrites(cs)
			b.ReportAllocs()
			ticks := 0
			for b.Loop() {
				ms.Tick()
				ticks++
			}
			if got, want := totalWrites(cs)-sent0, int64(ticks)*int64(n); got != want {
				b.Fatalf("sent %d frames in %d ticks of %d listeners, want %d", got, ticks, n, want)
			}
			reportPerUnit(b, b.Elapsed(), ticks, n, "listener")
		})
	}
}

// musicListenerMemory adds n sessions, made beforehand, to one MusicStream
// and returns the live heap it added per listener, and what the stream
// still holds per listener once they have all been removed.
func musicListenerMemory(tb testing.TB, n int) (added, retained float64) {
	tb.Helper()
	ms, err := NewMusicStream("memory", sine(440, FrameSamples), discardLog())
	if err != nil {
		tb.Fatal(err)
	}
	ms.Close() // no ticker: the stream only holds its listeners
	ss := make([]*Session, n)
	for i := range ss {
		// Not started: a listener needs no read loop, and 10000 readers
		// would exceed the race detector's goroutine limit.
		ss[i] = newSession(newDiscardConn(), 20000+2*(i%20000), discardLog())
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var st runtime.MemStats
		runtime.ReadMemStats(&st)
		return st.HeapAlloc
	}
	before := heap()
	for _, s := range ss {
		ms.Add(s)
	}
	after := heap()
	if ms.Listeners() != n {
		tb.Fatalf("%d listeners, want %d", ms.Listeners(), n)
	}
	for _, s := range ss {
		ms.Remove(s)
	}
	emptied := heap()
	runtime.KeepAlive(ss)
	runtime.KeepAlive(ms)
	return (float64(after) - float64(before)) / float64(n), (float64(emptied) - float64(before)) / float64(n)
}

// musicMemoryListeners is how many held callers the memory measurement
// adds to one stream.
const musicMemoryListeners = 10000

// TestMusicMemoryPerListener pins what a held caller costs a MusicStream
// beyond its session: a slot in the listener slice and an index entry,
// some tens of bytes; never a per-listener encoder or buffer.
func TestMusicMemoryPerListener(t *testing.T) {
	added, retained := musicListenerMemory(t, musicMemoryListeners)
	t.Logf("%d listeners: %.1f bytes each added to the heap; %.1f bytes each still held after all were removed",
		musicMemoryListeners, added, retained)
	if added > 256 {
		t.Errorf("a listener adds %.0f bytes to the stream, want a slice slot and an index entry (< 256)", added)
	}
}

// BenchmarkWriteFrame encodes one 20 ms frame and sends it into a session's
// outgoing stream (to a socket that discards it), as the mixer does for
// each participant.
func BenchmarkWriteFrame(b *testing.B) {
	for _, codec := range []G711{PCMU, PCMA} {
		b.Run(codec.String(), func(b *testing.B) {
			ss, cs := benchSessions(b, 1)
			s := ss[0]
			p := s.Params()
			p.Codec, p.PayloadType = codec, codec.PayloadType()
			s.SetParams(p)
			pcm := sine(440, FrameSamples)
			src := new(int) // the producer
			b.ReportAllocs()
			for b.Loop() {
				s.WriteFrame(src, pcm)
			}
			if got := cs[0].writes.Load(); got < int64(b.N) {
				b.Fatalf("sent %d of %d frames", got, b.N)
			}
		})
	}
}

// BenchmarkReceiveFrameMode is one 172-byte PCMU packet arriving at a
// session joined to a mixer: parse, latch, decode and push into the jitter
// buffer. "receive" pushes only: nothing drains the buffer, which drops its
// oldest audio each time it holds more than its maximum delay (see
// overflows/op). "receive+pop" also pops a frame per packet, as the mixer
// would: the steady state.
func BenchmarkReceiveFrameMode(b *testing.B) {
	for _, pop := range []bool{false, true} {
		name := "receive"
		if pop {
			name = "receive+pop"
		}
		b.Run(name, func(b *testing.B) {
			ss, _ := benchSessions(b, 1)
			s := ss[0]
			from := s.Params().Remote
			buf, err := s.startFrames()
			if err != nil {
				b.Fatal(err)
			}
			pkt := rtpBytes(b, rtp.Header{PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 0xfeed}, audioPayload(1))
			if len(pkt) != 172 {
				b.Fatalf("packet is %d bytes, want 172", len(pkt))
			}
			var p rtp.Packet
			out := make([]int16, FrameSamples)
			seq, ts := uint16(1), uint32(160)
			step := func() {
				seq++
				ts += samplesPer20ms
				pkt[2], pkt[3] = byte(seq>>8), byte(seq)
				pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
				s.receive(pkt, from, &p)
				if pop {
					buf.Pop(out)
				}
			}
			step() // latching
			st0 := buf.Stats()
			b.ReportAllocs()
			for b.Loop() {
				step()
			}
			st := buf.Stats()
			if got := st.Accepted - st0.Accepted; got != uint64(b.N) {
				b.Fatalf("jitter buffer accepted %d of %d packets (%+v)", got, b.N, st)
			}
			b.ReportMetric(float64(st.Overflows-st0.Overflows)/float64(b.N), "overflows/op")
			if pop {
				b.ReportMetric(float64(st.Played-st0.Played)/float64(st.Popped-st0.Popped), "audio/frame")
			}
		})
	}
}
