package media

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"
	pionsrtp "github.com/pion/srtp/v3"

	"github.com/ringdesk/ringdesk/media/dtmf"
	"github.com/ringdesk/ringdesk/media/srtp"
)

// SRTP tests: phone P1 speaks SRTP to session A with SDES keys, as a trunk
// that asked for RTP/SAVP does; P2 speaks plain RTP to B. The phone's side is
// pion/srtp used directly, not media/srtp, so that the session is checked
// against an independent use of the library.

// srtpPhone is the SRTP end of a stream: it encrypts with its own key and
// decrypts what the session sends with the session's key.
type srtpPhone struct {
	conn     *pipeConn
	to       netip.AddrPort
	suite    srtp.Suite
	key      srtp.Key // the phone's: what it sends
	peerKey  srtp.Key // the session's: what it receives
	enc, dec *pionsrtp.Context
	ssrc     uint32
	seq      uint16
	ts       uint32
	sent     map[uint16][]byte // SRTP packets sent, by seq, for replays
}

func profileOf(s srtp.Suite) pionsrtp.ProtectionProfile {
	if s == srtp.AESCM128HMACSHA1_32 {
		return pionsrtp.ProtectionProfileAes128CmHmacSha1_32
	}
	return pionsrtp.ProtectionProfileAes128CmHmacSha1_80
}

func newSRTPPhone(tb testing.TB, conn *pipeConn, to netip.AddrPort, suite srtp.Suite) *srtpPhone {
	tb.Helper()
	p := &srtpPhone{conn: conn, to: to, suite: suite, ssrc: 0x5e5e, seq: 65500, ts: 1000, sent: map[uint16][]byte{}}
	p.rekey(tb, mustKey(tb, suite), mustKey(tb, suite))
	return p
}

func mustKey(tb testing.TB, s srtp.Suite) srtp.Key {
	tb.Helper()
	k, err := srtp.NewKey(s, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// rekey gives the phone new keys and fresh contexts.
func (p *srtpPhone) rekey(tb testing.TB, key, peerKey srtp.Key) {
	tb.Helper()
	var err error
	p.key, p.peerKey = key, peerKey
	if p.enc, err = pionsrtp.CreateContext(key[:16], key[16:], profileOf(p.suite)); err != nil {
		tb.Fatal(err)
	}
	if p.dec, err = pionsrtp.CreateContext(peerKey[:16], peerKey[16:], profileOf(p.suite), pionsrtp.SRTPReplayProtection(64)); err != nil {
		tb.Fatal(err)
	}
}

// keys are the session's view of the phone's keys.
func (p *srtpPhone) keys() *srtp.Keys {
	return &srtp.Keys{Suite: p.suite, Local: p.peerKey, Remote: p.key}
}

// packet encrypts an RTP packet of payload type pt with the next seq.
func (p *srtpPhone) packet(tb testing.TB, pt uint8, payload []byte) []byte {
	tb.Helper()
	plain := rtpBytes(tb, rtp.Header{PayloadType: pt, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}, payload)
	b, err := p.enc.EncryptRTP(nil, plain, nil)
	if err != nil {
		tb.Fatal(err)
	}
	p.sent[p.seq] = bytes.Clone(b)
	p.seq++
	p.ts += samplesPer20ms
	return b
}

// talk sends n audio packets (audioPayload of their seq), 20 ms apart.
func (p *srtpPhone) talk(tb testing.TB, n int) {
	tb.Helper()
	for i := range n {
		if i > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		p.conn.send(tb, p.to, p.packet(tb, 0, audioPayload(p.seq)))
	}
	synctest.Wait()
}

// heard decrypts what the phone received; a datagram that does not
// authenticate fails the test.
func (p *srtpPhone) heard(t *testing.T, from netip.AddrPort) []rtp.Packet {
	t.Helper()
	synctest.Wait()
	var out []rtp.Packet
	for _, d := range p.conn.drain() {
		if d.from != from {
			t.Errorf("phone got a datagram from %s, want only from %s", d.from, from)
		}
		plain, err := p.dec.DecryptRTP(nil, d.b, nil)
		if err != nil {
			t.Fatalf("phone cannot decrypt what it got (%d bytes): %v", len(d.b), err)
		}
		var pkt rtp.Packet
		if err := pkt.Unmarshal(plain); err != nil {
			t.Fatal(err)
		}
		out = append(out, pkt)
	}
	return out
}

// newSRTPRig bridges A (SRTP, to phone P1) and B (plain, to P2).
func newSRTPRig(t *testing.T, suite srtp.Suite) (*relayRig, *srtpPhone) {
	t.Helper()
	r := newRelayRig(t)
	ph := newSRTPPhone(t, r.p1, r.a.LocalAddr(), suite)
	p := phoneParams(r.p1.addr, PCMU)
	p.SRTP = ph.keys()
	r.a.SetParams(p)
	return r, ph
}

// TestSRTPRelay relays between an SRTP leg and a plain one both ways: the
// audio bytes arrive intact, and each side gets what it can read.
func TestSRTPRelay(t *testing.T) {
	for _, suite := range srtp.Suites() {
		t.Run(suite.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, ph := newSRTPRig(t, suite)
				first := ph.seq
				ph.talk(t, 60) // the sequence number wraps on the way
				got := received(t, r.p2, r.b.LocalAddr())
				if len(got) != 60 {
					t.Fatalf("P2 got %d plain packets, want 60", len(got))
				}
				for i, p := range got {
					if want := audioPayload(first + uint16(i)); !bytes.Equal(p.Payload, want) {
						t.Fatalf("packet %d: payload differs from what P1 sent", i)
					}
				}
				checkContinuous(t, got, 0, len(got))

				p2 := r.talker(r.p2, r.b, 0x2222)
				p2first := p2.seq
				p2.talk(t, 40)
				back := ph.heard(t, r.a.LocalAddr())
				if len(back) != 40 {
					t.Fatalf("P1 got %d SRTP packets, want 40", len(back))
				}
				for i, p := range back {
					if want := audioPayload(p2first + uint16(i)); !bytes.Equal(p.Payload, want) {
						t.Fatalf("packet %d to P1: payload differs from what P2 sent", i)
					}
				}
				checkContinuous(t, back, 0, len(back))
				checkSSRC(t, back, r.a.out.ssrc)

				sa, sb := r.a.Stats(), r.b.Stats()
				if sa.RxPackets != 60 || sa.RxDropped != 0 || sa.TxPackets != 40 || sa.Latched != r.p1.addr {
					t.Errorf("A stats %+v", sa)
				}
				if want := uint64(40 * (172 + suite.TagLen())); sa.TxBytes != want {
					t.Errorf("A sent %d bytes, want %d (RTP plus the %d-byte tag)", sa.TxBytes, want, suite.TagLen())
				}
				if want := uint64(60 * (172 + suite.TagLen())); sa.RxBytes != want {
					t.Errorf("A received %d bytes, want %d", sa.RxBytes, want)
				}
				if sb.TxBytes != 60*172 {
					t.Errorf("B sent %d bytes, want %d: plain RTP", sb.TxBytes, 60*172)
				}
			})
		})
	}
}

// TestSRTPRefusesForgeries: tampered, replayed, wrongly keyed and plain
// packets sent to an SRTP session are dropped and counted, and none of them
// is forwarded, latches or feeds the media watchdog.
func TestSRTPRefusesForgeries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, ph := newSRTPRig(t, srtp.AESCM128HMACSHA1_80)
		to := r.a.LocalAddr()

		var bad [][]byte
		good := ph.packet(t, 0, audioPayload(1))
		for _, at := range []int{2, 20, len(good) - 1} { // header, payload, tag
			b := bytes.Clone(good)
			b[at] ^= 0x40
			bad = append(bad, b)
		}
		bad = append(bad, good[:len(good)-10])                                                                  // tag cut off
		bad = append(bad, rtpBytes(t, rtp.Header{PayloadType: 0, SequenceNumber: 3, SSRC: 9}, audioPayload(3))) // plain RTP
		stranger := newSRTPPhone(t, r.p3, to, srtp.AESCM128HMACSHA1_80)
		bad = append(bad, stranger.packet(t, 0, audioPayload(4))) // another key
		for _, b := range bad {
			r.p3.send(t, to, b) // from a stranger's address: must not latch
		}
		synctest.Wait()
		if st := r.a.Stats(); st.RxDropped != uint64(len(bad)) || st.RxUnauthenticated != uint64(len(bad)) ||
			st.RxPackets != 0 || st.Latched.IsValid() || !r.a.LastReceived().IsZero() {
			t.Fatalf("after %d forgeries: stats %+v, last received %v", len(bad), st, r.a.LastReceived())
		}
		expectNone(t, r.p2, "forgeries")

		r.p1.send(t, to, good)
		r.p1.send(t, to, bytes.Clone(good)) // replay
		time.Sleep(20 * time.Millisecond)
		r.p1.send(t, to, ph.packet(t, 0, audioPayload(2)))
		r.p1.send(t, to, ph.sent[ph.seq-1]) // replay of the latest
		got := received(t, r.p2, r.b.LocalAddr())
		if len(got) != 2 {
			t.Errorf("P2 got %d packets, want the 2 genuine ones", len(got))
		}
		st := r.a.Stats()
		if st.RxPackets != 2 || st.RxUnauthenticated != uint64(len(bad))+2 || st.Latched != r.p1.addr {
			t.Errorf("stats %+v: want 2 accepted, %d refused, latched to P1", st, len(bad)+2)
		}
	})
}

// TestSRTPRekey: new keys (a re-INVITE) start new contexts: packets under
// the old keys are refused, the new ones work both ways, and the replay
// window starts afresh. The same keys again keep the contexts: replays stay
// refused, and the rollover counter carries on.
func TestSRTPRekey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, ph := newSRTPRig(t, srtp.AESCM128HMACSHA1_80)
		ph.talk(t, 50) // wraps: the rollover counter is now 1
		_ = received(t, r.p2, r.b.LocalAddr())
		p2 := r.talker(r.p2, r.b, 0x2222)
		p2.talk(t, 5)
		if n := len(ph.heard(t, r.a.LocalAddr())); n != 5 {
			t.Fatalf("P1 heard %d, want 5", n)
		}

		// Same keys, another direction (hold and resume): the contexts stay.
		ctx := *r.a.params.Load().srtp
		p := r.a.Params()
		p.Send = false
		r.a.SetParams(p)
		p.Send = true
		r.a.SetParams(p)
		if now := *r.a.params.Load().srtp; now != ctx {
			t.Error("the same keys gave new crypto contexts")
		}
		r.p1.send(t, r.a.LocalAddr(), ph.sent[ph.seq-3]) // replay
		ph.talk(t, 5)
		if got := received(t, r.p2, r.b.LocalAddr()); len(got) != 5 {
			t.Fatalf("after a re-INVITE with the same keys P2 got %d, want 5 (rollover counter lost?)", len(got))
		}
		if st := r.a.Stats(); st.RxUnauthenticated != 1 {
			t.Errorf("the replay across the re-INVITE was not refused: %+v", st)
		}
		p2.talk(t, 5)
		if n := len(ph.heard(t, r.a.LocalAddr())); n != 5 {
			t.Fatalf("P1 heard %d after the re-INVITE, want 5", n)
		}

		// New keys both ways: new contexts.
		oldPacket := ph.packet(t, 0, audioPayload(7)) // under the old key
		oldSeq := ph.seq
		ph.rekey(t, mustKey(t, ph.suite), mustKey(t, ph.suite))
		p = r.a.Params()
		p.SRTP = ph.keys()
		r.a.SetParams(p)
		r.p1.send(t, r.a.LocalAddr(), oldPacket)
		synctest.Wait()
		if st := r.a.Stats(); st.RxUnauthenticated != 2 {
			t.Errorf("a packet under the old key was accepted after rekeying: %+v", st)
		}
		ph.seq = oldSeq - 40 // numbers the old context saw: a fresh window takes them
		ph.talk(t, 5)
		if got := received(t, r.p2, r.b.LocalAddr()); len(got) != 5 {
			t.Errorf("P2 got %d packets under the new key, want 5", len(got))
		}
		p2.talk(t, 5)
		if n := len(ph.heard(t, r.a.LocalAddr())); n != 5 {
			t.Errorf("P1 decrypted %d packets under the new key, want 5", n)
		}

		// Only the phone's key changes: our sending context stays.
		ctx = *r.a.params.Load().srtp
		ph.rekey(t, mustKey(t, ph.suite), ph.peerKey)
		p = r.a.Params()
		p.SRTP = ph.keys()
		r.a.SetParams(p)
		if now := *r.a.params.Load().srtp; now.send != ctx.send || now.recv == ctx.recv {
			t.Error("a new remote key must renew the receiving context only")
		}
		ph.talk(t, 3)
		if got := received(t, r.p2, r.b.LocalAddr()); len(got) != 3 {
			t.Errorf("P2 got %d packets under the phone's new key, want 3", len(got))
		}
	})
}

// TestSRTPParamsCopy: Params hands out a copy of the keys, and SetParams
// keeps its own: changing either afterwards changes nothing in the session.
func TestSRTPParamsCopy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, ph := newSRTPRig(t, srtp.AESCM128HMACSHA1_80)
		p := r.a.Params()
		p.SRTP.Remote[0] ^= 0xff
		mine := ph.keys()
		q := phoneParams(r.p1.addr, PCMU)
		q.SRTP = mine
		r.a.SetParams(q)
		mine.Remote[0] ^= 0xff // the caller's copy, after SetParams
		ph.talk(t, 3)
		if got := received(t, r.p2, r.b.LocalAddr()); len(got) != 3 {
			t.Errorf("P2 got %d packets, want 3: the session's keys changed through a copy", len(got))
		}
	})
}

// TestSRTPFailClosed: SRTP keys that cannot be used, or the zero Keys of an
// offer awaiting its answer, make the session send and accept nothing rather
// than fall back to plain RTP.
func TestSRTPFailClosed(t *testing.T) {
	tests := []struct {
		name string
		keys *srtp.Keys
	}{
		{"awaiting the answer", &srtp.Keys{}},
		{"short key", &srtp.Keys{Suite: srtp.AESCM128HMACSHA1_80, Local: make(srtp.Key, 29), Remote: make(srtp.Key, 30)}},
		{"no remote key", &srtp.Keys{Suite: srtp.AESCM128HMACSHA1_80, Local: make(srtp.Key, 30)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRelayRig(t)
				p := phoneParams(r.p1.addr, PCMU)
				p.SRTP = tt.keys
				r.a.SetParams(p)
				r.talker(r.p1, r.a, 0x1111).talk(t, 3) // plain RTP in
				expectNone(t, r.p2, "plain RTP into a closed SRTP session")
				r.talker(r.p2, r.b, 0x2222).talk(t, 3)
				r.a.WriteFrame(r, make([]int16, FrameSamples))
				expectNone(t, r.p1, "a closed SRTP session")
				if st := r.a.Stats(); st.RxPackets != 0 || st.TxPackets != 0 || st.RxDropped != 3 || st.TxDropped < 3 {
					t.Errorf("stats %+v", st)
				}
			})
		})
	}
}

// TestSRTPGenerated: what Ringdesk generates on an SRTP leg (mixer frames,
// prompts, hold music, RFC 4733 digits) goes out encrypted, and the digits
// and audio the phone sends over SRTP are understood.
func TestSRTPGenerated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newMixRig(t, 0, 700) // session 0: SRTP phone; session 1: plain phone at 700 Hz
		conn := r.phones[0].conn
		ph := newSRTPPhone(t, conn, r.sess[0].LocalAddr(), srtp.AESCM128HMACSHA1_32)
		p := phoneParams(conn.addr, PCMU)
		p.SRTP = ph.keys()
		r.sess[0].SetParams(p)
		r.phones[0].freq = 0 // it talks SRTP, below

		decode := func(pkts []rtp.Packet) []int16 {
			var pcm []int16
			for _, p := range pkts {
				out := make([]int16, len(p.Payload))
				PCMU.Decode(out, p.Payload)
				pcm = append(pcm, out...)
			}
			return pcm
		}
		// The SRTP phone sends a 1000 Hz tone, as SRTP.
		tone := &tonePhone{freq: 1000, ssrc: ph.ssrc}
		talk := func(n int) {
			for range n {
				var pkt rtp.Packet
				if err := pkt.Unmarshal(tone.frame(t)); err != nil {
					t.Fatal(err)
				}
				conn.send(t, ph.to, ph.packet(t, 0, pkt.Payload))
				r.phones[1].conn.send(t, r.phones[1].to, r.phones[1].frame(t))
				time.Sleep(FrameDuration)
			}
			synctest.Wait()
		}

		m := NewMixer(nil, discardLog())
		defer m.Close()
		for _, s := range r.sess {
			if _, err := m.Add(s, ParticipantOptions{Channel: ChannelAgent}); err != nil {
				t.Fatal(err)
			}
		}
		m.Play(NewClip(sine(500, SampleRate*2), false), ChannelNone, nil)
		talk(25)
		pcm := decode(ph.heard(t, r.sess[0].LocalAddr()))
		if !hears(pcm, 500) || !hears(pcm, 700) {
			t.Errorf("the SRTP phone does not hear the mix: prompt %.3g, other party %.3g", power(pcm, 500), power(pcm, 700))
		}
		if other := heard(t, r.phones[1].conn); !hears(other, 1000) {
			t.Errorf("the plain phone does not hear the SRTP phone's tone (%.3g)", power(other, 1000))
		}
		m.Close()

		music, err := NewMusicStream("test", sine(300, SampleRate), discardLog())
		if err != nil {
			t.Fatal(err)
		}
		defer music.Close()
		music.Add(r.sess[0])
		time.Sleep(time.Second)
		synctest.Wait()
		music.Remove(r.sess[0])
		if pcm := decode(ph.heard(t, r.sess[0].LocalAddr())); !hears(pcm, 300) {
			t.Error("the SRTP phone does not hear the hold music")
		}

		// Digits both ways.
		var digits []Digit
		r.sess[0].OnDigit(func(d Digit) { digits = append(digits, d) })
		ts := ph.ts
		for i := range 6 {
			end := i >= 3
			conn.send(t, ph.to, ph.packet(t, dtmfPT, dtmfPayload(7, end, 10, uint16(160*(i+1)))))
			ph.ts = ts // one event: one timestamp
		}
		synctest.Wait()
		if len(digits) != 1 || digits[0].Digit != '7' {
			t.Errorf("digits from SRTP telephone-events: %+v, want 7", digits)
		}
		if err := r.sess[0].SendDigit(t.Context(), '4', 60*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		events := 0
		for _, p := range ph.heard(t, r.sess[0].LocalAddr()) {
			if p.PayloadType != dtmfPT {
				continue
			}
			if ev, err := dtmf.ParseEvent(p.Payload); err != nil || ev.Code != 4 {
				t.Errorf("event %+v, %v", ev, err)
			}
			events++
		}
		if events < 4 {
			t.Errorf("the SRTP phone decrypted %d telephone-event packets of digit 4", events)
		}
		if st := r.sess[0].Stats(); st.RxUnauthenticated != 0 || st.TxDropped != 0 {
			t.Errorf("stats %+v", st)
		}
	})
}

// srtpRelayCases are SRTP relay hops pinned at zero allocations and
// benchmarked, beside relayCases.
var srtpRelayCases = []string{"SRTP-to-RTP", "RTP-to-SRTP", "SRTP-to-SRTP"} //nolint:gochecknoglobals // test table

// benchSRTPRelay builds A feeding B over countConns, with SRTP on A's side
// (in), B's side (out) or both, and returns packets for A: n SRTP or plain
// 172-byte packets with consecutive sequence numbers, made by next.
func benchSRTPRelay(tb testing.TB, name string) (a *Session, out *countConn, next func(n int) [][]byte) {
	tb.Helper()
	p1 := netip.MustParseAddrPort("192.0.2.1:4000")
	p2 := netip.MustParseAddrPort("192.0.2.2:5000")
	a = newSession(&countConn{}, 20000, discardLog())
	out = &countConn{record: true}
	b := newSession(out, 20002, discardLog())
	pa, pb := phoneParams(p1, PCMU), phoneParams(p2, PCMU)
	suite := srtp.AESCM128HMACSHA1_80
	in := name != "RTP-to-SRTP"
	var enc *pionsrtp.Context
	if in {
		k := &srtp.Keys{Suite: suite, Local: mustKey(tb, suite), Remote: mustKey(tb, suite)}
		pa.SRTP = k
		var err error
		if enc, err = pionsrtp.CreateContext(k.Remote[:16], k.Remote[16:], profileOf(suite)); err != nil {
			tb.Fatal(err)
		}
	}
	if name != "SRTP-to-RTP" {
		pb.SRTP = &srtp.Keys{Suite: suite, Local: mustKey(tb, suite), Remote: mustKey(tb, suite)}
	}
	a.SetParams(pa)
	b.SetParams(pb)
	Bridge(a, b)
	var seq uint16
	plain := rtpBytes(tb, rtp.Header{PayloadType: 0, SSRC: 0xa}, audioPayload(1))
	next = func(n int) [][]byte {
		pkts := make([][]byte, n)
		for i := range pkts {
			seq++
			binary.BigEndian.PutUint16(plain[2:], seq)
			binary.BigEndian.PutUint32(plain[4:], uint32(seq)*samplesPer20ms)
			if !in {
				pkts[i] = append(make([]byte, 0, maxPacket+1), plain...)
				continue
			}
			b, err := enc.EncryptRTP(make([]byte, 0, maxPacket+1), plain, nil)
			if err != nil {
				tb.Fatal(err)
			}
			pkts[i] = b
		}
		return pkts
	}
	return a, out, next
}

// TestSRTPRelayZeroAlloc pins the SRTP relay hops at zero allocations per
// packet, like TestRelayZeroAlloc the plain ones.
func TestSRTPRelayZeroAlloc(t *testing.T) {
	for _, name := range srtpRelayCases {
		t.Run(name, func(t *testing.T) {
			a, out, next := benchSRTPRelay(t, name)
			const runs = 1000
			pkts := next(runs + 2)
			var pkt rtp.Packet
			from := netip.MustParseAddrPort("192.0.2.1:4000")
			i := 0
			step := func() {
				a.receive(pkts[i], from, &pkt)
				i++
			}
			step() // first packet: random start, latching
			if n := testing.AllocsPerRun(runs, step); n != 0 && !raceEnabled {
				t.Errorf("%v allocations per relayed packet, want 0", n)
			}
			if out.writes != runs+2 {
				t.Errorf("%d packets forwarded of %d: the path under test dropped packets", out.writes, runs+2)
			}
			wantLen := 172
			if name != "SRTP-to-RTP" {
				wantLen += 10
			}
			if out.lastLen != wantLen {
				t.Errorf("sent %d bytes, want %d", out.lastLen, wantLen)
			}
		})
	}
}

// BenchmarkRelaySRTP is the relay path with SRTP on one or both legs, without
// syscalls. Compare with BenchmarkRelayForward/PCMU, the same hop in plain
// RTP. The SRTP packets are made in batches outside the timer.
func BenchmarkRelaySRTP(b *testing.B) {
	for _, name := range srtpRelayCases {
		b.Run(name, func(b *testing.B) {
			a, out, next := benchSRTPRelay(b, name)
			from := netip.MustParseAddrPort("192.0.2.1:4000")
			var pkt rtp.Packet
			const batch = 4096
			var pkts [][]byte
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if i%batch == 0 {
					b.StopTimer()
					pkts = next(batch)
					b.StartTimer()
				}
				a.receive(pkts[i%batch], from, &pkt)
			}
			if out.writes < b.N {
				b.Fatalf("forwarded %d of %d", out.writes, b.N)
			}
		})
	}
}

// FuzzReceiveSRTP feeds an SRTP session genuine packets, replays, mutations
// and garbage. Nothing may panic; only genuine packets, each once, reach
// the peer, with their payload intact.
//
// Each input chunk is an opcode byte, an argument byte and, for raw chunks, a
// 16-bit length and the bytes.
func FuzzReceiveSRTP(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 1, 1, 3, 5, 2, 0, 3, 1, 2, 3})
	f.Add([]byte{0, 200, 0, 0, 1, 0, 20, 3, 0, 12, 0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})
	f.Add([]byte{2, 7, 2, 7, 0, 7, 0, 8, 1, 8, 172})
	f.Fuzz(func(t *testing.T, data []byte) {
		suite := srtp.AESCM128HMACSHA1_80
		key := srtp.Key(bytes.Repeat([]byte{7}, 30))
		ours := srtp.Key(bytes.Repeat([]byte{9}, 30))
		enc, err := pionsrtp.CreateContext(key[:16], key[16:], profileOf(suite))
		if err != nil {
			t.Fatal(err)
		}
		genuine := map[byte][]byte{} // by seq, in the order the phone made them
		plainOf := map[string][]byte{}
		make1 := func(k byte) []byte {
			if b, ok := genuine[k]; ok {
				return b
			}
			plain := rtpBytes(t, rtp.Header{PayloadType: 0, SequenceNumber: uint16(k), Timestamp: uint32(k) * 160, SSRC: 77}, audioPayload(uint16(k)))
			b, err := enc.EncryptRTP(nil, plain, nil)
			if err != nil {
				t.Fatal(err)
			}
			genuine[k] = b
			plainOf[string(audioPayload(uint16(k)))] = plain
			return b
		}
		a := newSession(&countConn{}, 20000, discardLog())
		bc := &countConn{record: true}
		b := newSession(bc, 20002, discardLog())
		pa := phoneParams(netip.MustParseAddrPort("192.0.2.1:4000"), PCMU)
		pa.SRTP = &srtp.Keys{Suite: suite, Local: ours, Remote: key}
		a.SetParams(pa)
		b.SetParams(phoneParams(netip.MustParseAddrPort("192.0.2.2:5000"), PCMU))
		Bridge(a, b)

		sentGenuine := map[byte]bool{}
		var pkt, got rtp.Packet
		for len(data) >= 2 {
			op, arg := data[0], data[1]
			data = data[2:]
			var dg []byte
			genuineSeq, isGenuine := arg, false
			switch op % 4 {
			case 0: // a genuine packet (a replay if sent before)
				dg = bytes.Clone(make1(arg))
				isGenuine = !sentGenuine[arg]
			case 1: // a genuine packet with one byte changed
				dg = bytes.Clone(make1(arg))
				at, flip := int(arg), byte(1)
				if len(data) > 0 {
					at, flip = int(data[0]), 1|data[0]
					data = data[1:]
				}
				dg[at%len(dg)] ^= flip
			case 2: // truncated
				dg = bytes.Clone(make1(arg))
				dg = dg[:int(arg)%len(dg)]
			default: // raw bytes
				n := min(int(arg), len(data))
				dg, data = bytes.Clone(data[:n]), data[n:]
			}
			before := bc.writes
			a.receive(dg, pa.Remote, &pkt)
			forwarded := bc.writes > before
			if forwarded && !isGenuine {
				t.Fatalf("forwarded a packet that is not genuine or a replay (op %d, seq %d)", op%4, genuineSeq)
			}
			if isGenuine {
				sentGenuine[arg] = true
			}
			if !forwarded {
				continue
			}
			if err := got.Unmarshal(bc.last[:bc.lastLen]); err != nil {
				t.Fatal(err)
			}
			if _, ok := plainOf[string(got.Payload)]; !ok {
				t.Fatal("forwarded a payload the phone never sent")
			}
		}
		if st := a.Stats(); st.RxPackets+st.RxDropped < uint64(bc.writes) {
			t.Fatalf("stats %+v for %d writes", st, bc.writes)
		}
	})
}

// TestSRTPConcurrentRekey rekeys an SRTP session over and over while
// packets flow both ways and frames are written into it, for the race
// detector; whatever reaches the plain side is something the phone sent.
func TestSRTPConcurrentRekey(t *testing.T) {
	r, ph := newSRTPRig(t, srtp.AESCM128HMACSHA1_80)
	good := r.a.Params()
	other := r.a.Params()
	other.SRTP = &srtp.Keys{Suite: srtp.AESCM128HMACSHA1_32, Local: mustKey(t, srtp.AESCM128HMACSHA1_32), Remote: mustKey(t, srtp.AESCM128HMACSHA1_32)}

	const packets = 2000
	ph.seq = 1000 // no wrap: a receiving context made afresh for the same key keeps up
	sent := make(map[string]bool, packets)
	for i := range packets {
		sent[string(audioPayload(ph.seq+uint16(i)))] = true
	}
	got := make(chan int, 1)
	go func() { // P2 checks what it gets
		n := 0
		buf := make([]byte, 2048)
		var pkt rtp.Packet
		for {
			m, _, err := r.p2.ReadFromUDPAddrPort(buf)
			if err != nil {
				got <- n
				return
			}
			if pkt.Unmarshal(buf[:m]) != nil || !sent[string(pkt.Payload)] {
				t.Errorf("P2 got a packet P1 never sent")
			}
			n++
		}
	}()
	var wg sync.WaitGroup
	var running atomic.Int32
	running.Add(3)
	wg.Go(func() {
		defer running.Add(-1)
		for i := range packets {
			r.p1.send(t, r.a.LocalAddr(), ph.packet(t, 0, audioPayload(ph.seq)))
			if i%64 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	})
	wg.Go(func() {
		defer running.Add(-1)
		p2 := r.talker(r.p2, r.b, 0x2222)
		for i := range packets {
			r.p2.send(t, p2.to, p2.next(t, false))
			if i%64 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	})
	wg.Go(func() {
		defer running.Add(-1)
		pcm := make([]int16, FrameSamples)
		for i := range packets {
			r.a.WriteFrame(r, pcm)
			if i%64 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	})
	wg.Go(func() {
		for i := 0; running.Load() > 0; i++ {
			switch i % 3 {
			case 0:
				r.a.SetParams(other)
			default:
				r.a.SetParams(good) // the phone's keys: its packets pass again
			}
			_ = r.a.Params()
			_ = r.a.Stats()
			time.Sleep(100 * time.Microsecond)
		}
		r.a.SetParams(good)
	})
	wg.Wait()
	time.Sleep(50 * time.Millisecond) // let the readers drain
	_ = r.p2.Close()
	n := <-got
	st := r.a.Stats()
	t.Logf("P2 got %d; A: %+v", n, st)
	if n == 0 || st.RxUnauthenticated == 0 {
		t.Errorf("the test did not exercise both keys: %d relayed, %d refused", n, st.RxUnauthenticated)
	}
}
