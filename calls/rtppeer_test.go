package calls_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// rtpPeer is the media end of a test phone: a UDP socket on loopback that the
// phone's SDP points at. It records every RTP packet it receives.
type rtpPeer struct {
	name string
	conn *net.UDPConn
	Addr netip.AddrPort

	mu      sync.Mutex
	got     []rxPacket
	changed chan struct{}
	wg      sync.WaitGroup
}

// rxPacket is one RTP packet a peer received.
type rxPacket struct {
	From    netip.AddrPort
	Header  rtp.Header
	Payload []byte
	At      time.Time // when it was read
}

// newRTPPeer opens a peer; it is closed when the test ends.
func newRTPPeer(tb testing.TB, name string) *rtpPeer {
	tb.Helper()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		tb.Fatalf("rtp peer %s: %v", name, err)
	}
	p := &rtpPeer{name: name, conn: conn, Addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), changed: make(chan struct{})}
	p.wg.Go(p.read)
	tb.Cleanup(func() {
		_ = conn.Close()
		p.wg.Wait()
	})
	return p
}

func (p *rtpPeer) read() {
	buf := make([]byte, 2048)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		} else if err != nil {
			continue
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		rx := rxPacket{From: from, Header: pkt.Header, Payload: append([]byte(nil), pkt.Payload...), At: time.Now()}
		p.mu.Lock()
		p.got = append(p.got, rx)
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
}

// SDP is the phone's SDP for media at this peer (see phoneSDP).
func (p *rtpPeer) SDP(items ...string) []byte { return phoneSDP(p.Addr, items...) }

// packets returns what the peer received so far.
func (p *rtpPeer) packets() []rxPacket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]rxPacket(nil), p.got...)
}

// waitPackets waits until the peer received at least n packets for which
// match (nil: any) is true, and returns those.
func (p *rtpPeer) waitPackets(tb testing.TB, n int, match func(rxPacket) bool) []rxPacket {
	tb.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		p.mu.Lock()
		var out []rxPacket
		for _, r := range p.got {
			if match == nil || match(r) {
				out = append(out, r)
			}
		}
		ch := p.changed
		p.mu.Unlock()
		if len(out) >= n {
			return out
		}
		select {
		case <-ch:
		case <-timer.C:
			tb.Fatalf("rtp peer %s received %d matching packets within %s, want %d (%d packets in all)", p.name, len(out), waitFor, n, len(p.packets()))
			return nil
		}
	}
}

// stream is an RTP stream the test sends from a peer: one SSRC with
// consecutive sequence numbers and timestamps.
type stream struct {
	from *rtpPeer
	to   netip.AddrPort
	pt   uint8
	ssrc uint32
	seq  uint16
	ts   uint32
}

// newStream starts a stream from peer to to with payload type pt.
func (p *rtpPeer) newStream(to netip.AddrPort, pt uint8, ssrc uint32) *stream {
	return &stream{from: p, to: to, pt: pt, ssrc: ssrc, seq: uint16(ssrc >> 3), ts: ssrc * 7}
}

// send sends one packet with payload and the stream's next sequence number;
// the timestamp advances by samples.
func (s *stream) send(tb testing.TB, pt uint8, marker bool, payload []byte, samples uint32) {
	tb.Helper()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: s.ssrc, Marker: marker}, Payload: payload}
	b, err := pkt.Marshal()
	if err != nil {
		tb.Fatalf("marshal rtp: %v", err)
	}
	if _, err := s.from.conn.WriteToUDPAddrPort(b, s.to); err != nil {
		tb.Fatalf("rtp peer %s: send to %s: %v", s.from.name, s.to, err)
	}
	s.seq++
	s.ts += samples
}

// fill sends n 20 ms G.711 packets whose every byte is b: a marker of the
// sender that survives the relay when both legs use the same law.
func (s *stream) fill(tb testing.TB, b byte, n int) {
	tb.Helper()
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = b
	}
	for range n {
		s.send(tb, s.pt, false, payload, 160)
	}
}

// tone sends n 20 ms packets of a sine at freq Hz encoded with law.
func (s *stream) tone(tb testing.TB, law media.G711, freq float64, n int) {
	tb.Helper()
	pcm := mediatest.Sine(freq, 0.5, 8000, time.Duration(n)*20*time.Millisecond)
	for i := range n {
		payload := make([]byte, 160)
		law.Encode(payload, pcm[i*160:(i+1)*160])
		s.send(tb, s.pt, i == 0, payload, 160)
	}
}

// dtmf sends an RFC 4733 event (digit 0-15) with payload type pt: three
// packets, the last with the E bit, all with the event's start timestamp.
func (s *stream) dtmf(tb testing.TB, pt uint8, digit byte) {
	tb.Helper()
	start := s.ts
	for i, dur := range []uint16{160, 320, 480} {
		end := byte(0)
		if i == 2 {
			end = 0x80
		}
		payload := []byte{digit, end | 10, byte(dur >> 8), byte(dur)}
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: s.seq, Timestamp: start, SSRC: s.ssrc, Marker: i == 0}, Payload: payload}
		b, err := pkt.Marshal()
		if err != nil {
			tb.Fatalf("marshal rtp: %v", err)
		}
		if _, err := s.from.conn.WriteToUDPAddrPort(b, s.to); err != nil {
			tb.Fatalf("send dtmf: %v", err)
		}
		s.seq++
	}
	s.ts += 480
}

// decode decodes the G.711 payloads of pkts with law.
func decode(law media.G711, pkts []rxPacket) []int16 {
	var out []int16
	for _, p := range pkts {
		pcm := make([]int16, len(p.Payload))
		law.Decode(pcm, p.Payload)
		out = append(out, pcm...)
	}
	return out
}

// withPT selects packets of payload type pt.
func withPT(pt uint8) func(rxPacket) bool {
	return func(r rxPacket) bool { return r.Header.PayloadType == pt }
}

// matching returns the packets for which match is true.
func matching(pkts []rxPacket, match func(rxPacket) bool) []rxPacket {
	var out []rxPacket
	for _, p := range pkts {
		if match(p) {
			out = append(out, p)
		}
	}
	return out
}

// before selects packets that arrived before t.
func before(t time.Time, match func(rxPacket) bool) func(rxPacket) bool {
	return func(r rxPacket) bool { return r.At.Before(t) && match(r) }
}

// filled selects packets whose payload is all b.
func filled(b byte) func(rxPacket) bool {
	return func(r rxPacket) bool {
		if len(r.Payload) == 0 {
			return false
		}
		for _, x := range r.Payload {
			if x != b {
				return false
			}
		}
		return true
	}
}

// checkOneStream checks that pkts are one RTP stream: one SSRC, one source
// address, sequence numbers consecutive.
func checkOneStream(tb testing.TB, who string, pkts []rxPacket) {
	tb.Helper()
	if len(pkts) == 0 {
		tb.Errorf("%s: no packets", who)
		return
	}
	first := pkts[0]
	for i, p := range pkts {
		if p.Header.SSRC != first.Header.SSRC {
			tb.Errorf("%s: packet %d has SSRC %#x, the stream began with %#x", who, i, p.Header.SSRC, first.Header.SSRC)
			return
		}
		if p.From != first.From {
			tb.Errorf("%s: packet %d came from %s, the stream from %s", who, i, p.From, first.From)
			return
		}
		if i > 0 && p.Header.SequenceNumber != pkts[i-1].Header.SequenceNumber+1 {
			tb.Errorf("%s: packet %d has sequence number %d after %d", who, i, p.Header.SequenceNumber, pkts[i-1].Header.SequenceNumber)
			return
		}
	}
}

// phoneSDP returns a phone's minimal SDP (RFC 4566) with audio at addr.
// items are codecs, in order: "PCMU" (0), "PCMA" (8), "G722" (9),
// "telephone-event" (101) or "telephone-event/N" (payload type N); anything
// else becomes an attribute line, e.g. "sendonly". No codec: PCMU and
// telephone-event.
func phoneSDP(addr netip.AddrPort, items ...string) []byte {
	static := map[string]int{"PCMU": 0, "PCMA": 8, "G722": 9}
	var fmts, attrs, other []string
	for _, it := range items {
		if pt, ok := static[it]; ok {
			fmts = append(fmts, fmt.Sprint(pt))
			attrs = append(attrs, fmt.Sprintf("a=rtpmap:%d %s/8000", pt, it))
			continue
		}
		if it == "telephone-event" {
			it = "telephone-event/101"
		}
		if pt, ok := strings.CutPrefix(it, "telephone-event/"); ok {
			fmts = append(fmts, pt)
			attrs = append(attrs, "a=rtpmap:"+pt+" telephone-event/8000", "a=fmtp:"+pt+" 0-16")
			continue
		}
		other = append(other, "a="+it)
	}
	if len(fmts) == 0 {
		fmts = []string{"0", "101"}
		attrs = []string{"a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"}
	}
	id := sdpVersion.Add(1)
	lines := []string{
		"v=0",
		fmt.Sprintf("o=phone %d %d IN IP4 %s", id, id, addr.Addr()),
		"s=call",
		"c=IN IP4 " + addr.Addr().String(),
		"t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP %s", addr.Port(), strings.Join(fmts, " ")),
	}
	lines = append(lines, attrs...)
	lines = append(lines, "a=ptime:20")
	lines = append(lines, other...)
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

var sdpVersion atomic.Uint64 //nolint:gochecknoglobals // distinct o= lines for readable traces
