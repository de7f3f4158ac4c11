package media

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"
)

// Relay tests run on an in-memory network (pipe_test.go) inside a synctest
// bubble: time is fake, so 20 ms pacing and the one-second relatch window cost
// nothing, and synctest.Wait returns once every datagram sent so far has been
// read and relayed.
//
// The topology is always the same: phone P1 talks to session A, P2 to B and
// P3 to C; A and B are bridged. What P1 sends to A comes out of B towards P2.

const (
	samplesPer20ms = 160 // 8 kHz clock (RFC 3551 §4.5.14)
	dtmfPT         = 101
)

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

type relayRig struct {
	net        *pipeNet
	p1, p2, p3 *pipeConn
	a, b, c    *Session
}

func newRelayRig(t *testing.T) *relayRig {
	t.Helper()
	n := newPipeNet()
	r := &relayRig{net: n}
	r.p1 = n.listen(t, "192.0.2.1:4000")
	r.p2 = n.listen(t, "192.0.2.2:5000")
	r.p3 = n.listen(t, "192.0.2.3:6000")
	r.a = newPipeSession(t, n, "10.0.0.1:20000")
	r.b = newPipeSession(t, n, "10.0.0.1:20002")
	r.c = newPipeSession(t, n, "10.0.0.1:20004")
	r.a.SetParams(phoneParams(r.p1.addr, PCMU))
	r.b.SetParams(phoneParams(r.p2.addr, PCMU))
	r.c.SetParams(phoneParams(r.p3.addr, PCMU))
	Bridge(r.a, r.b)
	return r
}

func newPipeSession(t *testing.T, n *pipeNet, addr string) *Session {
	t.Helper()
	conn := n.listen(t, addr)
	s := NewSessionConn(conn, conn.addr, discardLog())
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// phoneParams are what a G.711 phone at remote negotiated: it sends codec
// and telephone-event 101, and may send either law.
func phoneParams(remote netip.AddrPort, codec G711) Params {
	return Params{
		Remote:          remote,
		Send:            true,
		Codec:           codec,
		PayloadType:     codec.PayloadType(),
		DTMFPayloadType: dtmfPT,
		Recv: []Payload{
			{PayloadType: 0, Codec: PCMU},
			{PayloadType: 8, Codec: PCMA},
			{PayloadType: dtmfPT, DTMF: true},
		},
	}
}

func (r *relayRig) setB(f func(*Params)) {
	p := r.b.Params()
	f(&p)
	r.b.SetParams(p)
}

// talker is a phone's outgoing RTP stream.
type talker struct {
	conn *pipeConn
	to   netip.AddrPort
	ssrc uint32
	seq  uint16
	ts   uint32
	pt   uint8
}

func (r *relayRig) talker(conn *pipeConn, to *Session, ssrc uint32) *talker {
	return &talker{conn: conn, to: to.LocalAddr(), ssrc: ssrc, seq: uint16(ssrc >> 3), ts: ssrc * 7}
}

// audioPayload is 160 bytes that differ from packet to packet and, over a
// few packets, cover every byte value.
func audioPayload(seq uint16) []byte {
	b := make([]byte, samplesPer20ms)
	for i := range b {
		b[i] = byte(int(seq)*97 + i)
	}
	return b
}

// next is the talker's next 20 ms audio packet; it advances seq and ts.
func (p *talker) next(tb testing.TB, marker bool) []byte {
	tb.Helper()
	b := rtpBytes(tb, rtp.Header{Marker: marker, PayloadType: p.pt, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}, audioPayload(p.seq))
	p.seq++
	p.ts += samplesPer20ms
	return b
}

// talk sends n audio packets 20 ms apart, the first at once, and returns
// once the relay has handled them (it must run in a synctest bubble).
func (p *talker) talk(tb testing.TB, n int) {
	tb.Helper()
	for i := range n {
		if i > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		p.conn.send(tb, p.to, p.next(tb, false))
	}
	synctest.Wait()
}

func rtpBytes(tb testing.TB, h rtp.Header, payload []byte) []byte {
	tb.Helper()
	h.Version = 2
	b, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	if err != nil {
		tb.Fatalf("marshal rtp: %v", err)
	}
	return b
}

// dtmfPayload is an RFC 4733 §2.3 event payload.
func dtmfPayload(event byte, end bool, volume byte, duration uint16) []byte {
	b := []byte{event, volume & 0x3f, 0, 0}
	if end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], duration)
	return b
}

// received waits for the bubble to settle and parses what c got; every
// datagram must come from want.
func received(t *testing.T, c *pipeConn, from netip.AddrPort) []rtp.Packet {
	t.Helper()
	synctest.Wait()
	var out []rtp.Packet
	for _, d := range c.drain() {
		if d.from != from {
			t.Errorf("%s got a datagram from %s, want only from %s", c.addr, d.from, from)
		}
		var p rtp.Packet
		if err := p.Unmarshal(d.b); err != nil {
			t.Fatalf("%s got a datagram that is not RTP (%v): %x", c.addr, err, d.b)
		}
		out = append(out, p)
	}
	return out
}

func expectNone(t *testing.T, c *pipeConn, what string) {
	t.Helper()
	synctest.Wait()
	if got := c.drain(); len(got) > 0 {
		t.Errorf("%s: %s got %d datagrams, want none", what, c.addr, len(got))
	}
}

// checkContinuous asserts that pkts[from:to] carry seq +1 and timestamp +160
// per packet and no marker bit.
func checkContinuous(t *testing.T, pkts []rtp.Packet, from, to int) {
	t.Helper()
	for i := from + 1; i < to; i++ {
		prev, cur := pkts[i-1], pkts[i]
		if cur.SequenceNumber != prev.SequenceNumber+1 {
			t.Errorf("packet %d: seq %d after %d, want +1", i, cur.SequenceNumber, prev.SequenceNumber)
		}
		if cur.Timestamp != prev.Timestamp+samplesPer20ms {
			t.Errorf("packet %d: timestamp %d after %d, want +%d", i, cur.Timestamp, prev.Timestamp, samplesPer20ms)
		}
		if cur.Marker {
			t.Errorf("packet %d: marker set in the middle of a talkspurt", i)
		}
	}
}

func checkSSRC(t *testing.T, pkts []rtp.Packet, want uint32) {
	t.Helper()
	for i, p := range pkts {
		if p.SSRC != want {
			t.Fatalf("packet %d: SSRC %#x, want the relay's own %#x", i, p.SSRC, want)
		}
	}
}

func TestRelayRewritesStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		p1 := r.talker(r.p1, r.a, 0x11111111)
		p1.seq, p1.ts = 65530, 0xffffff00 // both wrap during the test
		first := p1.seq
		const n = 20
		for i := range n {
			if i > 0 {
				time.Sleep(20 * time.Millisecond)
			}
			r.p1.send(t, r.a.LocalAddr(), p1.next(t, i == 0))
		}
		got := received(t, r.p2, r.b.LocalAddr())
		if len(got) != n {
			t.Fatalf("P2 got %d packets, want %d", len(got), n)
		}
		checkSSRC(t, got, r.b.out.ssrc)
		if got[0].SSRC == p1.ssrc {
			t.Errorf("P2 sees P1's SSRC: the relay must send its own stream (RFC 3550 §8)")
		}
		if !got[0].Marker {
			t.Errorf("first packet has no marker bit")
		}
		checkContinuous(t, got, 0, n)
		for i, p := range got {
			if p.PayloadType != 0 || !bytes.Equal(p.Payload, audioPayload(first+uint16(i))) {
				t.Errorf("packet %d: PT %d, payload changed", i, p.PayloadType)
			}
			if len(p.CSRC) != 0 || p.Extension || p.Padding {
				t.Errorf("packet %d: CSRC %v, extension %v, padding %v", i, p.CSRC, p.Extension, p.Padding)
			}
		}
		expectNone(t, r.p1, "one-way talk")
		expectNone(t, r.p3, "one-way talk")

		// The other direction, with A's own SSRC.
		p2 := r.talker(r.p2, r.b, 0x22222222)
		p2.talk(t, 3)
		back := received(t, r.p1, r.a.LocalAddr())
		if len(back) != 3 {
			t.Fatalf("P1 got %d packets, want 3", len(back))
		}
		checkSSRC(t, back, r.a.out.ssrc)
		if r.a.out.ssrc == r.b.out.ssrc {
			t.Errorf("A and B share SSRC %#x", r.a.out.ssrc)
		}
		checkContinuous(t, back, 0, 3)
	})
}

func TestRelayPreservesGapsAndReorder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		p1 := r.talker(r.p1, r.a, 0x1234)
		base, baseTS := p1.seq, p1.ts
		// Sequence offsets as they arrive: 3 and 6,7 are lost, 5 arrives before 4.
		offsets := []uint16{0, 1, 2, 5, 4, 8, 9, 10}
		for i, off := range offsets {
			if i > 0 {
				time.Sleep(20 * time.Millisecond)
			}
			p1.seq, p1.ts = base+off, baseTS+uint32(off)*samplesPer20ms
			r.p1.send(t, r.a.LocalAddr(), p1.next(t, false))
		}
		got := received(t, r.p2, r.b.LocalAddr())
		if len(got) != len(offsets) {
			t.Fatalf("P2 got %d packets, want %d", len(got), len(offsets))
		}
		for i, off := range offsets {
			if d := got[i].SequenceNumber - got[0].SequenceNumber; d != off {
				t.Errorf("packet %d: seq offset %d, want %d (gaps and reordering must be passed on)", i, d, off)
			}
			if d := got[i].Timestamp - got[0].Timestamp; d != uint32(off)*samplesPer20ms {
				t.Errorf("packet %d: timestamp offset %d, want %d", i, d, uint32(off)*samplesPer20ms)
			}
			if i > 0 && got[i].Marker {
				t.Errorf("packet %d: marker set", i)
			}
		}
	})
}

// TestRelaySourceSwitch: whatever feeds B, P2 sees one stream (RFC 3550 §5.1):
// one SSRC, seq continuing at last+1, the timestamp moving on by at least a
// packet (and by the silence, if any), marker on the first packet after the
// switch.
func TestRelaySourceSwitch(t *testing.T) {
	tests := []struct {
		name    string
		silence time.Duration // between the last packet before the switch and the first after
		// run sends five packets from the first source, switches, waits
		// silence and sends five from the second.
		run func(t *testing.T, r *relayRig, silence time.Duration)
	}{
		{
			name: "P1 changes SSRC",
			run: func(t *testing.T, r *relayRig, silence time.Duration) {
				t.Helper()
				p1 := r.talker(r.p1, r.a, 0xaaaa)
				p1.talk(t, 5)
				time.Sleep(20*time.Millisecond + silence)
				p1.ssrc, p1.seq, p1.ts = 0xbbbb, 40000, 123456789
				p1.talk(t, 5)
			},
		},
		{
			name:    "P1 changes SSRC after a second of silence",
			silence: time.Second,
			run: func(t *testing.T, r *relayRig, silence time.Duration) {
				t.Helper()
				p1 := r.talker(r.p1, r.a, 0xaaaa)
				p1.talk(t, 5)
				time.Sleep(20*time.Millisecond + silence)
				p1.ssrc, p1.seq, p1.ts = 0xbbbb, 7, 3
				p1.talk(t, 5)
			},
		},
		{
			name: "B's source moves from A to C",
			run: func(t *testing.T, r *relayRig, silence time.Duration) {
				t.Helper()
				r.talker(r.p1, r.a, 0xaaaa).talk(t, 5)
				r.a.SetPeer(nil)
				Bridge(r.c, r.b)
				time.Sleep(20*time.Millisecond + silence)
				r.talker(r.p3, r.c, 0xcccc).talk(t, 5)
			},
		},
		{
			name: "early media from C, answer from A",
			run: func(t *testing.T, r *relayRig, silence time.Duration) {
				t.Helper()
				r.a.SetPeer(nil)
				r.b.SetPeer(nil)
				r.c.SetPeer(r.b) // early media: one way
				r.talker(r.p3, r.c, 0xcccc).talk(t, 5)
				r.c.SetPeer(nil)
				Bridge(r.a, r.b)
				time.Sleep(20*time.Millisecond + silence)
				r.talker(r.p1, r.a, 0xaaaa).talk(t, 5)
			},
		},
		{
			// Both branches come through one upstream SBC that reuses the
			// SSRC: only the session tells the sources apart.
			name: "A to C, same SSRC",
			run: func(t *testing.T, r *relayRig, silence time.Duration) {
				t.Helper()
				r.talker(r.p1, r.a, 0xaaaa).talk(t, 5)
				r.a.SetPeer(nil)
				Bridge(r.c, r.b)
				time.Sleep(20*time.Millisecond + silence)
				p3 := r.talker(r.p3, r.c, 0xaaaa)
				p3.seq, p3.ts = 30000, 77
				p3.talk(t, 5)
			},
		},
		{
			name:    "A to C after 300 ms",
			silence: 300 * time.Millisecond,
			run: func(t *testing.T, r *relayRig, silence time.Duration) {
				t.Helper()
				r.talker(r.p1, r.a, 0xaaaa).talk(t, 5)
				r.a.SetPeer(nil)
				Bridge(r.c, r.b)
				time.Sleep(20*time.Millisecond + silence)
				r.talker(r.p3, r.c, 0xcccc).talk(t, 5)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRelayRig(t)
				tt.run(t, r, tt.silence)
				got := received(t, r.p2, r.b.LocalAddr())
				if len(got) != 10 {
					t.Fatalf("P2 got %d packets, want 10", len(got))
				}
				checkSSRC(t, got, r.b.out.ssrc)
				checkContinuous(t, got, 0, 5)
				checkContinuous(t, got, 5, 10)
				before, after := got[4], got[5]
				if after.SequenceNumber != before.SequenceNumber+1 {
					t.Errorf("seq %d after %d across the switch, want +1", after.SequenceNumber, before.SequenceNumber)
				}
				minStep := uint32(max(samplesPer20ms, (20*time.Millisecond+tt.silence)/(125*time.Microsecond)))
				if d := after.Timestamp - before.Timestamp; int32(d) < int32(minStep) {
					t.Errorf("timestamp moved by %d across the switch, want at least %d", int32(d), minStep)
				}
				if !after.Marker {
					t.Errorf("no marker bit on the first packet after the switch")
				}
				if !got[0].Marker {
					t.Errorf("no marker bit on the first packet")
				}
			})
		})
	}
}

// TestRelaySwitchAfterTelephoneEvent: a switch right after a long RFC 4733
// event must not place the new source's audio inside the event, which started
// at its timestamp and lasted its duration (RFC 4733 §2.5.1.3), nor behind the
// wall clock: the stream's timestamp must advance by the time that passed
// since the packet that carried the highest timestamp.
func TestRelaySwitchAfterTelephoneEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		p1 := r.talker(r.p1, r.a, 0xaaaa)
		p1.talk(t, 5)
		// A one-second event: 50 packets 20 ms apart sharing the event's
		// start timestamp, then two more end packets (RFC 4733 §2.5.1.4).
		evTS, evSeq := p1.ts, p1.seq
		const packets = 50
		for i := range packets + 2 {
			time.Sleep(20 * time.Millisecond)
			d := min(i+1, packets) * samplesPer20ms
			b := rtpBytes(t, rtp.Header{Marker: i == 0, PayloadType: dtmfPT, SequenceNumber: evSeq, Timestamp: evTS, SSRC: p1.ssrc},
				dtmfPayload(5, i >= packets-1, 10, uint16(d)))
			evSeq++
			r.p1.send(t, r.a.LocalAddr(), b)
		}
		synctest.Wait()
		// The call is transferred: C now feeds B.
		r.a.SetPeer(nil)
		Bridge(r.c, r.b)
		time.Sleep(20 * time.Millisecond)
		r.talker(r.p3, r.c, 0xcccc).talk(t, 1)

		got := received(t, r.p2, r.b.LocalAddr())
		if len(got) != 5+packets+2+1 {
			t.Fatalf("P2 got %d packets, want %d", len(got), 5+packets+2+1)
		}
		ev, after := got[5], got[len(got)-1]
		if ev.PayloadType != dtmfPT || after.PayloadType != 0 {
			t.Fatalf("unexpected payload types %d and %d", ev.PayloadType, after.PayloadType)
		}
		// The event covers [ev.Timestamp, ev.Timestamp+8000); 1.04 s passed
		// since its first packet, 8320 samples.
		const wantMin = packets*samplesPer20ms + samplesPer20ms
		if d := int32(after.Timestamp - ev.Timestamp); d < wantMin {
			t.Errorf("first packet after the switch is %d samples after the start of a %d-sample event sent 1.04 s earlier; want at least %d "+
				"(forward measures elapsed time from the last packet sent, a telephone-event end packet, but adds it to the event's start timestamp)",
				d, packets*samplesPer20ms, wantMin)
		}
		if after.SequenceNumber != got[len(got)-2].SequenceNumber+1 || !after.Marker {
			t.Errorf("seq %d after %d, marker %v; want +1 and marker", after.SequenceNumber, got[len(got)-2].SequenceNumber, after.Marker)
		}
	})
}

// TestRelaySwitchReordered: packets of the new source that arrive out of
// order right after a switch must not reuse sequence numbers already sent
// for the previous source: within one SSRC a sequence number identifies one
// packet (RFC 3550 §5.1), and P2 would drop or mix up the duplicates.
func TestRelaySwitchReordered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		p1 := r.talker(r.p1, r.a, 0xaaaa)
		p1.talk(t, 5)
		// New SSRC (say, after a transfer); its first two packets swap places.
		p1.ssrc, p1.seq, p1.ts = 0xbbbb, 1000, 500000
		first, second, third := p1.next(t, false), p1.next(t, false), p1.next(t, false)
		time.Sleep(20 * time.Millisecond)
		r.p1.send(t, r.a.LocalAddr(), second)
		r.p1.send(t, r.a.LocalAddr(), first)
		time.Sleep(20 * time.Millisecond)
		r.p1.send(t, r.a.LocalAddr(), third)

		got := received(t, r.p2, r.b.LocalAddr())
		seen := map[uint16]int{}
		for i, p := range got {
			if j, dup := seen[p.SequenceNumber]; dup {
				t.Errorf("packets %d and %d both carry seq %d (timestamps %d and %d); the late packet of the new source "+
					"was mapped into the sequence space already used by the old one", j, i, p.SequenceNumber, got[j].Timestamp, p.Timestamp)
			}
			seen[p.SequenceNumber] = i
		}
	})
}

// TestRelaySwitchAfterReorder: after a switch the stream continues after the
// highest sequence number and timestamp sent, not after the last packet's,
// which may be a late one.
func TestRelaySwitchAfterReorder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		p1 := r.talker(r.p1, r.a, 0xaaaa)
		p1.talk(t, 3)
		fourth, fifth := p1.next(t, false), p1.next(t, false)
		time.Sleep(20 * time.Millisecond)
		r.p1.send(t, r.a.LocalAddr(), fifth)
		r.p1.send(t, r.a.LocalAddr(), fourth)
		time.Sleep(20 * time.Millisecond)
		p1.ssrc, p1.seq, p1.ts = 0xbbbb, 9, 9
		p1.talk(t, 1)

		got := received(t, r.p2, r.b.LocalAddr())
		if len(got) != 6 {
			t.Fatalf("P2 got %d packets, want 6", len(got))
		}
		highest, after := got[3], got[5]
		if after.SequenceNumber != highest.SequenceNumber+1 {
			t.Errorf("seq %d after the switch, want %d (highest sent + 1)", after.SequenceNumber, highest.SequenceNumber+1)
		}
		if d := int32(after.Timestamp - highest.Timestamp); d < samplesPer20ms {
			t.Errorf("timestamp %d after the switch is %d past the highest sent, want at least %d", after.Timestamp, d, samplesPer20ms)
		}
	})
}

// TestParamsIsACopy: Params returns the session's parameters, not a view of
// the immutable snapshot the packet path reads.
func TestParamsIsACopy(t *testing.T) {
	s := newSession(&countConn{}, 20000, discardLog())
	s.SetParams(phoneParams(netip.MustParseAddrPort("192.0.2.1:4000"), PCMU))
	p := s.Params()
	p.Recv[0].PayloadType = 99
	if got := s.Params().Recv[0].PayloadType; got != 0 {
		t.Errorf("changing the slice returned by Params changed the session's parameters (Recv[0].PayloadType is now %d)", got)
	}
}

func TestRelayPayloadMapping(t *testing.T) {
	tests := []struct {
		name   string
		inPT   uint8
		inLaw  G711
		outLaw G711
	}{
		{"PCMU to PCMA", 0, PCMU, PCMA},
		{"PCMA to PCMU", 8, PCMA, PCMU},
		{"PCMU to PCMU", 0, PCMU, PCMU},
		{"PCMA to PCMA", 8, PCMA, PCMA},
		{"PCMU on dynamic PT 112 to PCMA", 112, PCMU, PCMA},
		{"PCMA on dynamic PT 112 to PCMA", 112, PCMA, PCMA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRelayRig(t)
				pa := r.a.Params()
				pa.Recv = append(pa.Recv, Payload{PayloadType: 112, Codec: tt.inLaw})
				r.a.SetParams(pa)
				r.setB(func(p *Params) { p.Codec, p.PayloadType = tt.outLaw, tt.outLaw.PayloadType() })
				p1 := r.talker(r.p1, r.a, 0x5555)
				p1.pt = tt.inPT
				first := p1.seq
				p1.talk(t, 3)
				got := received(t, r.p2, r.b.LocalAddr())
				if len(got) != 3 {
					t.Fatalf("P2 got %d packets, want 3", len(got))
				}
				for i, p := range got {
					in := audioPayload(first + uint16(i))
					want := make([]byte, len(in))
					Transcode(want, in, tt.inLaw, tt.outLaw)
					if p.PayloadType != tt.outLaw.PayloadType() {
						t.Errorf("packet %d: PT %d, want %d", i, p.PayloadType, tt.outLaw.PayloadType())
					}
					if !bytes.Equal(p.Payload, want) {
						t.Errorf("packet %d: payload is not Transcode(%v→%v) of the input", i, tt.inLaw, tt.outLaw)
					}
				}
			})
		})
	}
}

// TestRelayTelephoneEvent: events keep their payload and move to B's
// telephone-event type; their timestamp is mapped like the audio's, so all
// packets of an event share one output timestamp (RFC 4733 §2.5.1.2).
func TestRelayTelephoneEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		r.setB(func(p *Params) { p.DTMFPayloadType = 96 })
		p1 := r.talker(r.p1, r.a, 0x7777)
		inTS0 := p1.ts
		p1.talk(t, 3)
		evTS := p1.ts
		var events [][]byte
		for i := range 6 {
			time.Sleep(20 * time.Millisecond)
			pl := dtmfPayload(5, i >= 3, 10, uint16(min(i+1, 4)*samplesPer20ms))
			events = append(events, pl)
			r.p1.send(t, r.a.LocalAddr(), rtpBytes(t, rtp.Header{Marker: i == 0, PayloadType: dtmfPT, SequenceNumber: p1.seq, Timestamp: evTS, SSRC: p1.ssrc}, pl))
			p1.seq++
		}
		p1.ts += 4 * samplesPer20ms
		time.Sleep(20 * time.Millisecond)
		p1.talk(t, 3)

		got := received(t, r.p2, r.b.LocalAddr())
		if len(got) != 12 {
			t.Fatalf("P2 got %d packets, want 12", len(got))
		}
		checkSSRC(t, got, r.b.out.ssrc)
		for i := 1; i < len(got); i++ {
			if got[i].SequenceNumber != got[i-1].SequenceNumber+1 {
				t.Errorf("packet %d: seq %d after %d", i, got[i].SequenceNumber, got[i-1].SequenceNumber)
			}
		}
		delta := got[0].Timestamp - inTS0
		for i, p := range got[3:9] {
			if p.PayloadType != 96 {
				t.Errorf("event packet %d: PT %d, want 96", i, p.PayloadType)
			}
			if !bytes.Equal(p.Payload, events[i]) {
				t.Errorf("event packet %d: payload %x, want %x", i, p.Payload, events[i])
			}
			if p.Timestamp != evTS+delta {
				t.Errorf("event packet %d: timestamp %d, want %d (the event start, mapped like the audio)", i, p.Timestamp, evTS+delta)
			}
			if p.Marker != (i == 0) {
				t.Errorf("event packet %d: marker %v", i, p.Marker)
			}
		}
		for i, p := range got[9:] {
			if p.PayloadType != 0 {
				t.Errorf("audio packet %d after the event: PT %d", i, p.PayloadType)
			}
			if want := evTS + 4*samplesPer20ms + uint32(i)*samplesPer20ms + delta; p.Timestamp != want {
				t.Errorf("audio packet %d after the event: timestamp %d, want %d", i, p.Timestamp, want)
			}
		}
	})
}

func TestRelayTelephoneEventNotNegotiated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		r.setB(func(p *Params) { p.DTMFPayloadType = 0 })
		p1 := r.talker(r.p1, r.a, 0x7777)
		p1.talk(t, 2)
		for i := range 4 {
			time.Sleep(20 * time.Millisecond)
			r.p1.send(t, r.a.LocalAddr(), rtpBytes(t, rtp.Header{Marker: i == 0, PayloadType: dtmfPT, SequenceNumber: p1.seq, Timestamp: p1.ts, SSRC: p1.ssrc},
				dtmfPayload(1, i == 3, 10, uint16((i+1)*samplesPer20ms))))
			p1.seq++
		}
		time.Sleep(20 * time.Millisecond)
		p1.talk(t, 2)
		got := received(t, r.p2, r.b.LocalAddr())
		if len(got) != 4 {
			t.Fatalf("P2 got %d packets, want the 4 audio packets only", len(got))
		}
		for i, p := range got {
			if p.PayloadType != 0 {
				t.Errorf("packet %d: PT %d, want 0", i, p.PayloadType)
			}
		}
		if st := r.b.Stats(); st.TxDropped != 4 || st.TxPackets != 4 {
			t.Errorf("B TxDropped %d, TxPackets %d; want 4 and 4", st.TxDropped, st.TxPackets)
		}
		if st := r.a.Stats(); st.RxPackets != 8 || st.RxDropped != 0 {
			t.Errorf("A RxPackets %d, RxDropped %d; want 8 and 0", st.RxPackets, st.RxDropped)
		}
	})
}

func TestRelayUnknownPayloadType(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		p1 := r.talker(r.p1, r.a, 0x1)
		p1.pt = 18 // G.729, not negotiated
		p1.talk(t, 3)
		expectNone(t, r.p2, "unknown payload type")
		if st := r.a.Stats(); st.RxDropped != 3 {
			t.Errorf("A RxDropped %d, want 3", st.RxDropped)
		}
		if st := r.b.Stats(); st.TxPackets != 0 || st.TxDropped != 0 {
			t.Errorf("B TxPackets %d, TxDropped %d; want 0, 0", st.TxPackets, st.TxDropped)
		}
	})
}

func TestRelayHeld(t *testing.T) {
	tests := []struct {
		name string
		hold func(*Params)
	}{
		{"sendonly from P2 (Send false)", func(p *Params) { p.Send = false }},
		{"c=0.0.0.0 (RFC 2543 hold)", func(p *Params) { p.Remote = netip.AddrPortFrom(netip.IPv4Unspecified(), 5000) }},
		{"port 0", func(p *Params) { p.Remote = netip.AddrPortFrom(p.Remote.Addr(), 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRelayRig(t)
				normal := r.b.Params()
				r.setB(tt.hold)
				p1 := r.talker(r.p1, r.a, 0x9)
				p1.talk(t, 3)
				expectNone(t, r.p2, "held")
				if st := r.b.Stats(); st.TxDropped != 3 || st.TxPackets != 0 {
					t.Errorf("B TxDropped %d, TxPackets %d; want 3 and 0", st.TxDropped, st.TxPackets)
				}
				if n := r.b.conn.(*pipeConn).writes.Load(); n != 0 {
					t.Errorf("B wrote %d datagrams while held", n)
				}
				// Resume.
				r.b.SetParams(normal)
				time.Sleep(20 * time.Millisecond)
				p1.talk(t, 2)
				if got := received(t, r.p2, r.b.LocalAddr()); len(got) != 2 {
					t.Errorf("P2 got %d packets after resume, want 2", len(got))
				}
			})
		})
	}
}

// TestRelayStripsPaddingCSRCExtension: the relay sends its own packets, so
// the input's padding (RFC 3550 §5.1 P), CSRC list and header extension
// (§5.3.1) are not copied into them.
func TestRelayStripsPaddingCSRCExtension(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		payload := audioPayload(3)
		h := rtp.Header{PayloadType: 0, SequenceNumber: 3, Timestamp: 480, SSRC: 0xfeed, CSRC: []uint32{7, 8}}
		if err := h.SetExtension(1, []byte{0xaa, 0xbb}); err != nil {
			t.Fatal(err)
		}
		b := rtpBytes(t, h, payload)
		b[0] |= 0x20 // padding: four bytes, the last one holds the count
		b = append(b, 0, 0, 0, 4)
		r.p1.send(t, r.a.LocalAddr(), b)

		synctest.Wait()
		ds := r.p2.drain()
		if len(ds) != 1 {
			t.Fatalf("P2 got %d datagrams, want 1", len(ds))
		}
		out := ds[0].b
		if len(out) != 12+len(payload) {
			t.Errorf("relayed datagram is %d bytes, want %d (12-byte header + payload)", len(out), 12+len(payload))
		}
		if out[0] != 0x80 {
			t.Errorf("first byte %#x, want 0x80 (V=2, no padding, no extension, no CSRC)", out[0])
		}
		if !bytes.Equal(out[12:], payload) {
			t.Errorf("payload differs from the input without its padding")
		}
	})
}

// TestRelayMaxPacket: a 1500-byte datagram is the largest relayed.
func TestRelayMaxPacket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		payload := bytes.Repeat([]byte{0x55}, maxPacket-12)
		r.p1.send(t, r.a.LocalAddr(), rtpBytes(t, rtp.Header{PayloadType: 0, SequenceNumber: 1, SSRC: 1}, payload))
		got := received(t, r.p2, r.b.LocalAddr())
		if len(got) != 1 || !bytes.Equal(got[0].Payload, payload) {
			t.Fatalf("a %d-byte packet was not relayed intact (%d packets)", maxPacket, len(got))
		}
	})
}

// rtcp builds a multiplexed RTCP packet of the given type and length in
// bytes (a multiple of 4, at least 8).
func rtcp(pt byte, count byte, size int) []byte {
	b := make([]byte, size)
	b[0] = 0x80 | count
	b[1] = pt
	binary.BigEndian.PutUint16(b[2:], uint16(size/4-1))
	binary.BigEndian.PutUint32(b[4:], 0xdecafbad)
	return b
}

// TestReceiveDropsNonRTP: what is not an RTP packet of at most 1500 bytes is
// dropped on arrival: it is not relayed, counted as received, used to latch
// the source or taken as a sign of life (LastReceived).
func TestReceiveDropsNonRTP(t *testing.T) {
	valid := func(size int) []byte {
		b := make([]byte, size)
		b[0], b[1] = 0x80, 0
		return b
	}
	stun := []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	withFirst := func(b0 byte) []byte { b := valid(172); b[0] = b0; return b }
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"11 bytes", valid(11)},
		{"STUN binding request", stun},
		{"version 0", withFirst(0x00)},
		{"version 1", withFirst(0x40)},
		{"version 3", withFirst(0xc0)},
		{"RTCP SR (200)", rtcp(200, 0, 28)},
		{"RTCP RR (201)", rtcp(201, 1, 32)},
		{"RTCP SDES (202)", rtcp(202, 1, 20)},
		{"RTCP BYE (203)", rtcp(203, 2, 12)},
		{"RTCP APP (204)", rtcp(204, 0, 16)},
		{"RTCP RTPFB NACK (205, RFC 4585)", rtcp(205, 1, 16)},
		{"RTCP PSFB PLI (206, RFC 4585)", rtcp(206, 1, 12)},
		{"RTCP XR (207, RFC 3611)", rtcp(207, 0, 24)},
		{"1501 bytes", valid(maxPacket + 1)},
		{"9000 bytes (truncated on read)", valid(9000)},
		{"padding longer than the packet", func() []byte { b := valid(20); b[0] |= 0x20; b[19] = 200; return b }()},
		{"zero padding count", func() []byte { b := valid(20); b[0] |= 0x20; return b }()},
		{"CSRC list beyond the end", withFirst(0x8f)[:40]},
		{"extension beyond the end", func() []byte {
			b := valid(16)
			b[0] |= 0x10
			binary.BigEndian.PutUint16(b[14:], 100)
			return b
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRelayRig(t)
				r.a.SetParams(Params{Send: true, Codec: PCMU, Recv: phoneParams(netip.AddrPort{}, PCMU).Recv}) // no Remote: anything accepted would latch
				r.p1.send(t, r.a.LocalAddr(), tt.b)
				expectNone(t, r.p2, tt.name)
				st := r.a.Stats()
				if st.RxDropped != 1 {
					t.Errorf("RxDropped %d, want 1", st.RxDropped)
				}
				if st.RxPackets != 0 || st.RxBytes != 0 {
					t.Errorf("RxPackets %d, RxBytes %d; want 0: it was not an RTP packet", st.RxPackets, st.RxBytes)
				}
				if !r.a.LastReceived().IsZero() {
					t.Errorf("LastReceived %v, want zero: nothing was accepted", r.a.LastReceived())
				}
				if st.Latched.IsValid() {
					t.Errorf("latched %s on a packet that is not RTP", st.Latched)
				}
			})
		})
	}
}

// TestLatch covers symmetric RTP (RFC 4961) and its RTP-bleed guard.
func TestLatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		nat := r.net.listen(t, "203.0.113.2:7000")    // P2 as seen through its NAT
		stray := r.net.listen(t, "203.0.113.66:7777") // another source
		p1 := r.talker(r.p1, r.a, 0x1111)
		p2 := r.talker(nat, r.b, 0x2222)
		sp := r.talker(stray, r.b, 0x6666)

		// Before P2 sends, B sends where the SDP said.
		p1.talk(t, 1)
		if got := received(t, r.p2, r.b.LocalAddr()); len(got) != 1 {
			t.Fatalf("before latching: P2's SDP address got %d packets, want 1", len(got))
		}
		if st := r.b.Stats(); st.Latched.IsValid() {
			t.Errorf("latched %s before any packet", st.Latched)
		}

		// P2's first packet comes from its NAT address: B sends there from now on.
		p2.talk(t, 1)
		if got := received(t, r.p1, r.a.LocalAddr()); len(got) != 1 {
			t.Fatalf("P1 got %d packets from P2, want 1", len(got))
		}
		if st := r.b.Stats(); st.Latched != nat.addr {
			t.Errorf("latched %s, want %s", st.Latched, nat.addr)
		}
		p1.talk(t, 1)
		if got := received(t, nat, r.b.LocalAddr()); len(got) != 1 {
			t.Errorf("NAT address got %d packets, want 1", len(got))
		}
		expectNone(t, r.p2, "after latching, the SDP address")

		// Another source while P2 is active (500 ms and 999 ms after its last packet) is dropped.
		for _, wait := range []time.Duration{500 * time.Millisecond, 499 * time.Millisecond} {
			time.Sleep(wait)
			dropped := r.b.Stats().RxDropped
			sp.talk(t, 1)
			expectNone(t, r.p1, "RTP bleed: P1")
			if st := r.b.Stats(); st.RxDropped != dropped+1 || st.Latched != nat.addr {
				t.Errorf("stray packet: RxDropped %d→%d, latched %s; want +1 and %s", dropped, st.RxDropped, st.Latched, nat.addr)
			}
		}
		p1.talk(t, 1)
		if got := received(t, nat, r.b.LocalAddr()); len(got) != 1 {
			t.Errorf("NAT address got %d packets after the stray ones, want 1", len(got))
		}

		// P2 active again resets the window.
		p2.talk(t, 1)
		_ = received(t, r.p1, r.a.LocalAddr())

		// P2 silent for longer than relatchAfter: the new source is followed (NAT rebinding).
		time.Sleep(relatchAfter + 10*time.Millisecond)
		sp.talk(t, 1)
		if got := received(t, r.p1, r.a.LocalAddr()); len(got) != 1 {
			t.Errorf("after %v of silence, the new source's packet was not relayed", relatchAfter)
		}
		if st := r.b.Stats(); st.Latched != stray.addr {
			t.Errorf("latched %s, want %s", st.Latched, stray.addr)
		}
		p1.talk(t, 1)
		if got := received(t, stray, r.b.LocalAddr()); len(got) != 1 {
			t.Errorf("new source got %d packets, want 1", len(got))
		}
		expectNone(t, nat, "old source")

		// Now the old address is the stranger.
		time.Sleep(20 * time.Millisecond)
		p2.talk(t, 1)
		expectNone(t, r.p1, "old source while the new one is active")

		// SetParams with another Remote sends there at once and re-arms
		// latching, even though the latched source was active < 1 s ago.
		time.Sleep(20 * time.Millisecond)
		sp.talk(t, 1)
		_ = received(t, r.p1, r.a.LocalAddr())
		moved := r.net.listen(t, "192.0.2.22:5002")
		r.setB(func(p *Params) { p.Remote = moved.addr })
		if st := r.b.Stats(); st.Latched.IsValid() {
			t.Errorf("still latched on %s after a new Remote", st.Latched)
		}
		p1.talk(t, 1)
		if got := received(t, moved, r.b.LocalAddr()); len(got) != 1 {
			t.Errorf("new Remote got %d packets, want 1", len(got))
		}
		p2.talk(t, 1) // from the NAT address, 20 ms after the stray source
		if got := received(t, r.p1, r.a.LocalAddr()); len(got) != 1 {
			t.Errorf("first packet after re-arming was not accepted")
		}
		if st := r.b.Stats(); st.Latched != nat.addr {
			t.Errorf("latched %s after re-arming, want %s", st.Latched, nat.addr)
		}

		// SetParams with the same Remote (say, a codec change) keeps the latch.
		r.setB(func(p *Params) { p.Codec, p.PayloadType = PCMA, 8 })
		time.Sleep(20 * time.Millisecond)
		sp.talk(t, 1)
		expectNone(t, r.p1, "stray source after a renegotiation with the same Remote")
		if st := r.b.Stats(); st.Latched != nat.addr {
			t.Errorf("latched %s, want %s kept", st.Latched, nat.addr)
		}
	})
}

func TestLastReceivedAndStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		if !r.a.LastReceived().IsZero() {
			t.Fatalf("LastReceived %v before any packet, want zero", r.a.LastReceived())
		}
		if st := r.a.Stats(); st != (Stats{}) {
			t.Fatalf("fresh session stats %+v, want zero", st)
		}
		p1 := r.talker(r.p1, r.a, 0x31)
		p1.talk(t, 3)
		synctest.Wait()
		if got, want := r.a.LastReceived(), time.Now(); !got.Equal(want) {
			t.Errorf("LastReceived %v, want %v (the last packet's arrival)", got, want)
		}
		if !r.b.LastReceived().IsZero() {
			t.Errorf("B LastReceived %v, want zero", r.b.LastReceived())
		}
		const size = 12 + samplesPer20ms
		if st, want := r.a.Stats(), (Stats{RxPackets: 3, RxBytes: 3 * size, Latched: r.p1.addr}); st != want {
			t.Errorf("A stats %+v, want %+v", st, want)
		}
		if st, want := r.b.Stats(), (Stats{TxPackets: 3, TxBytes: 3 * size}); st != want {
			t.Errorf("B stats %+v, want %+v", st, want)
		}
		// Transcoding keeps the size; events are 16 bytes.
		r.setB(func(p *Params) { p.Codec, p.PayloadType = PCMA, 8 })
		time.Sleep(20 * time.Millisecond)
		p1.talk(t, 1)
		r.p1.send(t, r.a.LocalAddr(), rtpBytes(t, rtp.Header{PayloadType: dtmfPT, SequenceNumber: p1.seq, Timestamp: p1.ts, SSRC: p1.ssrc}, dtmfPayload(0, false, 10, 160)))
		synctest.Wait()
		if st := r.b.Stats(); st.TxPackets != 5 || st.TxBytes != 4*size+16 {
			t.Errorf("B TxPackets %d, TxBytes %d; want 5 and %d", st.TxPackets, st.TxBytes, 4*size+16)
		}
		if st := r.a.Stats(); st.RxPackets != 5 || st.RxBytes != 4*size+16 {
			t.Errorf("A RxPackets %d, RxBytes %d; want 5 and %d", st.RxPackets, st.RxBytes, 4*size+16)
		}
	})
}

func TestSessionClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRelayRig(t)
		conn := r.a.conn.(*pipeConn)
		if err := r.a.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		// Close returned, so the reader has returned: the bubble would
		// otherwise report a goroutine blocked for ever at the end.
		if err := r.a.Close(); err != nil {
			t.Errorf("second Close: %v, want nil", err)
		}
		select {
		case <-conn.done:
		default:
			t.Errorf("Close did not close the connection")
		}
		if r.a.Peer() != nil {
			t.Errorf("closed session still has a peer")
		}
		// P2 keeps talking to B, whose peer is the closed A: nothing goes
		// out, and the failed write is counted.
		r.talker(r.p2, r.b, 0x2).talk(t, 2)
		expectNone(t, r.p1, "closed A")
		if st := r.a.Stats(); st.TxDropped != 2 || st.TxPackets != 0 {
			t.Errorf("closed A: TxDropped %d, TxPackets %d; want 2 and 0", st.TxDropped, st.TxPackets)
		}
		if st := r.b.Stats(); st.RxPackets != 2 {
			t.Errorf("B RxPackets %d, want 2", st.RxPackets)
		}
	})
}

// TestRelayConcurrentRenegotiation runs the relay while another goroutine
// renegotiates (SetParams) and moves peers (SetPeer): run it with -race. P2
// must keep seeing one stream with increasing seq and timestamps.
func TestRelayConcurrentRenegotiation(t *testing.T) {
	r := newRelayRig(t)
	ssrc := r.b.out.ssrc

	type result struct {
		n, bad, markers int
		first           string
	}
	done := make(chan result, 1)
	go func() { // P2
		var res result
		var prev rtp.Packet
		var pkt rtp.Packet
		buf := make([]byte, 2048)
		for {
			n, _, err := r.p2.ReadFromUDPAddrPort(buf)
			if err != nil {
				done <- res
				return
			}
			if err := pkt.Unmarshal(buf[:n]); err != nil || pkt.SSRC != ssrc ||
				(res.n > 0 && (int16(pkt.SequenceNumber-prev.SequenceNumber) <= 0 || int32(pkt.Timestamp-prev.Timestamp) <= 0)) {
				if res.bad == 0 {
					res.first = pkt.String() + " after " + prev.String()
				}
				res.bad++
			}
			if pkt.Marker {
				res.markers++ // first packet, and every switch of source
			}
			prev.Header = pkt.Header.Clone()
			res.n++
		}
	}()

	const packets = 3000
	var wg sync.WaitGroup
	var running atomic.Int32
	for _, p := range []*talker{r.talker(r.p1, r.a, 0xa), r.talker(r.p3, r.c, 0xc)} {
		running.Add(1)
		wg.Go(func() {
			defer running.Add(-1)
			for i := range packets {
				p.pt = uint8(i%2) * 8 // PCMU and PCMA alternately
				p.conn.send(t, p.to, p.next(t, false))
				if i%64 == 0 {
					time.Sleep(time.Millisecond) // let the readers drain
				}
			}
		})
	}
	wg.Go(func() {
		for i := 0; running.Load() > 0; i++ {
			r.setB(func(p *Params) {
				p.Codec = []G711{PCMU, PCMA}[i%2]
				p.PayloadType = p.Codec.PayloadType()
				p.Send = i%7 != 0
				p.DTMFPayloadType = uint8(96 + i%3)
			})
			r.a.SetParams(phoneParams(r.p1.addr, []G711{PCMU, PCMA}[i%3%2]))
			switch i % 4 {
			case 0:
				Bridge(r.a, r.b)
			case 1:
				r.c.SetPeer(r.b)
			case 2:
				r.a.SetPeer(nil)
			case 3:
				r.c.SetPeer(nil)
				r.a.SetPeer(r.b)
			}
			_ = r.b.Stats()
			_ = r.a.LastReceived()
			_ = r.b.Peer()
			time.Sleep(50 * time.Microsecond)
		}
	})
	wg.Wait()
	// Let the readers drain, then stop P2's reader.
	deadline := time.Now().Add(5 * time.Second)
	for {
		a, c := r.a.Stats(), r.c.Stats()
		if a.RxPackets+a.RxDropped+c.RxPackets+c.RxDropped+uint64(r.p1.lost.Load()+r.p3.lost.Load()) >= 2*packets || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	_ = r.p2.Close()
	res := <-done
	st := r.b.Stats()
	t.Logf("P2 received %d packets (%d with a marker: source switches); B sent %d, dropped %d", res.n, res.markers, st.TxPackets, st.TxDropped)
	if res.n == 0 || res.markers < 2 {
		t.Fatalf("the test did not exercise the relay: %d packets, %d switches", res.n, res.markers-1)
	}
	if res.bad > 0 {
		t.Errorf("%d of %d packets broke the stream (foreign SSRC, or seq/timestamp not increasing); first: %s", res.bad, res.n, res.first)
	}
}

// FuzzReceive feeds arbitrary datagrams to Session.receive with a reused
// rtp.Packet, as the read loop does. Nothing may panic, and whatever B sends
// must be a plain RTP packet of B's own stream.
//
// The input is a sequence of datagrams, each prefixed by a source selector
// byte and a 16-bit length.
func FuzzReceive(f *testing.F) {
	seed := func(parts ...[]byte) []byte {
		var out []byte
		for i, p := range parts {
			out = append(out, byte(i%3))
			out = binary.BigEndian.AppendUint16(out, uint16(len(p)))
			out = append(out, p...)
		}
		return out
	}
	pkt := func(pt uint8, seq uint16, ssrc uint32, payload []byte) []byte {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: ssrc}, Payload: payload}).Marshal()
		return b
	}
	ext := rtp.Header{Version: 2, SSRC: 5, CSRC: []uint32{1, 2, 3}}
	_ = ext.SetExtension(3, []byte{1, 2, 3, 4, 5})
	extPkt, _ := (&rtp.Packet{Header: ext, Payload: audioPayload(1)}).Marshal()
	padded := append(pkt(8, 9, 9, audioPayload(2)), 0, 0, 3)
	padded[0] |= 0x20

	f.Add(seed(pkt(0, 1, 1, audioPayload(1))), uint8(0))
	f.Add(seed(pkt(0, 1, 1, audioPayload(1)), pkt(8, 2, 1, audioPayload(2)), pkt(dtmfPT, 3, 1, dtmfPayload(1, false, 10, 160))), uint8(1))
	f.Add(seed(pkt(0, 65535, 1, nil), pkt(0, 0, 2, nil), pkt(0, 1, 1, []byte{1})), uint8(2))
	f.Add(seed(extPkt, padded, rtcp(200, 0, 28), rtcp(207, 0, 24)), uint8(3))
	f.Add(seed([]byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}, []byte{0x80}, make([]byte, 1500)), uint8(0))
	f.Add([]byte{0x8f, 0xff, 0xff}, uint8(7))

	f.Fuzz(func(t *testing.T, data []byte, variant uint8) {
		a := newSession(&countConn{}, 20000, discardLog())
		bc := &countConn{record: true}
		b := newSession(bc, 20002, discardLog())
		pa := phoneParams(netip.MustParseAddrPort("192.0.2.1:4000"), PCMU)
		pb := phoneParams(netip.MustParseAddrPort("192.0.2.2:5000"), []G711{PCMU, PCMA}[variant%2])
		if variant&2 != 0 {
			pb.DTMFPayloadType = 0
		}
		if variant&4 != 0 {
			pa.Recv = append(pa.Recv, Payload{PayloadType: 127, Codec: PCMA}, Payload{PayloadType: 200, Codec: PCMU})
		}
		a.SetParams(pa)
		b.SetParams(pb)
		Bridge(a, b)
		sources := []netip.AddrPort{pa.Remote, netip.MustParseAddrPort("198.51.100.7:9"), netip.MustParseAddrPort("[2001:db8::1]:4000")}

		var p rtp.Packet
		var out rtp.Packet
		for len(data) > 0 {
			from := sources[int(data[0])%len(sources)]
			data = data[1:]
			n := len(data)
			if n >= 2 {
				n = min(int(binary.BigEndian.Uint16(data)), n-2)
				data = data[2:]
			}
			dg := data[:n]
			data = data[n:]

			before := bc.writes
			inLen := len(dg)
			a.receive(dg, from, &p)
			if bc.writes == before {
				continue
			}
			sent := bc.last[:bc.lastLen]
			if len(sent) > maxPacket {
				t.Fatalf("sent %d bytes", len(sent))
			}
			if err := out.Unmarshal(sent); err != nil {
				t.Fatalf("sent a datagram that is not RTP: %v", err)
			}
			if sent[0] != 0x80 {
				t.Fatalf("sent first byte %#x, want 0x80", sent[0])
			}
			if out.SSRC != b.out.ssrc {
				t.Fatalf("sent SSRC %#x, want B's %#x", out.SSRC, b.out.ssrc)
			}
			if out.PayloadType != pb.PayloadType && out.PayloadType != pb.DTMFPayloadType {
				t.Fatalf("sent PT %d", out.PayloadType)
			}
			if len(out.Payload) != len(p.Payload) || inLen < 12+len(out.Payload) {
				t.Fatalf("sent payload of %d bytes for %d in a %d-byte datagram", len(out.Payload), len(p.Payload), inLen)
			}
			if bc.to != *b.sendTo.Load() {
				t.Fatalf("sent to %s", bc.to)
			}
		}
		sa, sb := a.Stats(), b.Stats()
		if sb.TxPackets != uint64(bc.writes) {
			t.Fatalf("B TxPackets %d, but %d writes", sb.TxPackets, bc.writes)
		}
		if sb.TxPackets+sb.TxDropped > sa.RxPackets {
			t.Fatalf("B handled %d packets, A accepted %d", sb.TxPackets+sb.TxDropped, sa.RxPackets)
		}
	})
}
