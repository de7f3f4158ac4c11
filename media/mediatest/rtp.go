package mediatest

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pion/rtp"

	"github.com/ringdesk/ringdesk/media"
)

// RTPPacket is one RTP packet (RFC 3550 §5.1) from a capture.
type RTPPacket struct {
	Time    time.Time
	Src     netip.AddrPort
	Dst     netip.AddrPort
	Header  rtp.Header
	Payload []byte // without padding; shares the Packet's payload
}

// RTP parses the UDP payloads of pkts selected by filter (nil: all) as RTP and
// returns those that are RTP, in order. It skips anything that is not RTP
// version 2 or does not parse, and RTCP multiplexed on the same port
// (RFC 5761 §4: second byte 192-223).
func RTP(pkts []Packet, filter func(Packet) bool) []RTPPacket {
	var out []RTPPacket
	for _, p := range pkts {
		if filter != nil && !filter(p) {
			continue
		}
		b := p.Payload
		if len(b) < 12 || b[0]>>6 != 2 || b[1] >= 192 && b[1] <= 223 {
			continue
		}
		var rp rtp.Packet
		if err := rp.Unmarshal(b); err != nil {
			continue
		}
		out = append(out, RTPPacket{Time: p.Time, Src: p.Src, Dst: p.Dst, Header: rp.Header, Payload: rp.Payload})
	}
	return out
}

// To returns a filter for RTP that selects packets sent to dst.
func To(dst netip.AddrPort) func(Packet) bool {
	return func(p Packet) bool { return p.Dst == dst }
}

// From returns a filter for RTP that selects packets sent from src.
func From(src netip.AddrPort) func(Packet) bool {
	return func(p Packet) bool { return p.Src == src }
}

// g711Law returns the law of a static payload type, or G711Unknown.
func g711Law(pt uint8) media.G711 {
	switch pt {
	case media.PCMU.PayloadType():
		return media.PCMU
	case media.PCMA.PayloadType():
		return media.PCMA
	default:
		return media.G711Unknown
	}
}

// DecodeAudio decodes the G.711 payloads (payload type 0, PCMU, and 8, PCMA)
// of pkts, one direction of a call, into 8 kHz PCM, in arrival order. It
// ignores other payload types, such as telephone-event, and does not reorder
// packets or fill gaps.
func DecodeAudio(pkts []RTPPacket) []int16 {
	var out []int16
	for _, p := range pkts {
		g := g711Law(p.Header.PayloadType)
		if g == media.G711Unknown {
			continue
		}
		n := len(out)
		out = slices.Grow(out, len(p.Payload))[:n+len(p.Payload)]
		g.Decode(out[n:], p.Payload)
	}
	return out
}

// Stream summarises one RTP stream: the packets of one SSRC from one address
// to another.
type Stream struct {
	Src, Dst netip.AddrPort
	SSRC     uint32
	Packets  int
	// PayloadTypes lists the payload types seen, in order of appearance.
	PayloadTypes []uint8
	// FirstSeq and LastSeq are the sequence numbers of the first and last
	// packets to arrive.
	FirstSeq, LastSeq uint16
	// SeqGaps counts the packets whose sequence number is not one more
	// (modulo 2^16) than the previous packet's: losses, duplicates and
	// reordering.
	SeqGaps int
	// TimestampJumps counts the packets, following a G.711 packet and without
	// the marker bit, whose timestamp is not the previous one plus the
	// previous packet's sample count (times the sequence number difference,
	// when packets were lost). Packets after a reordering, or after a packet
	// of another payload type, are not checked.
	TimestampJumps int
}

// Streams summarises the RTP streams in pkts by (source, destination, SSRC),
// in order of first appearance.
func Streams(pkts []RTPPacket) []Stream {
	type key struct {
		src, dst netip.AddrPort
		ssrc     uint32
	}
	type last struct {
		seq     uint16
		ts      uint32
		samples int // -1 unless G.711
	}
	var (
		out   []Stream
		lasts []last
		index = make(map[key]int)
	)
	for _, p := range pkts {
		h := p.Header
		samples := -1
		if g711Law(h.PayloadType) != media.G711Unknown {
			samples = len(p.Payload)
		}
		k := key{p.Src, p.Dst, h.SSRC}
		i, ok := index[k]
		if !ok {
			index[k] = len(out)
			out = append(out, Stream{Src: p.Src, Dst: p.Dst, SSRC: h.SSRC, FirstSeq: h.SequenceNumber})
			lasts = append(lasts, last{h.SequenceNumber, h.Timestamp, samples})
			i = len(out) - 1
		} else {
			prev := lasts[i]
			d := h.SequenceNumber - prev.seq
			if d != 1 {
				out[i].SeqGaps++
			}
			if prev.samples >= 0 && !h.Marker && d != 0 && d < 0x8000 &&
				h.Timestamp != prev.ts+uint32(d)*uint32(prev.samples) {
				out[i].TimestampJumps++
			}
			lasts[i] = last{h.SequenceNumber, h.Timestamp, samples}
		}
		s := &out[i]
		s.Packets++
		s.LastSeq = h.SequenceNumber
		if !slices.Contains(s.PayloadTypes, h.PayloadType) {
			s.PayloadTypes = append(s.PayloadTypes, h.PayloadType)
		}
	}
	return out
}

// dtmfEvents maps RFC 4733 §3.2 event codes 0-15 to their digits.
const dtmfEvents = "0123456789*#ABCD"

// DTMF returns the digits of the RFC 4733 telephone-events with payload type pt
// in pkts that ended (E bit set), in order. The end packet is usually sent three
// times (RFC 4733 §2.5.1.4); events are deduplicated by SSRC and timestamp.
// Events above 15 are ignored.
func DTMF(pkts []RTPPacket, pt uint8) string {
	type key struct {
		ssrc, ts uint32
	}
	seen := make(map[key]bool)
	var b strings.Builder
	for _, p := range pkts {
		// event(8) E(1) R(1) volume(6) duration(16), RFC 4733 §2.3
		if p.Header.PayloadType != pt || len(p.Payload) < 4 || p.Payload[1]&0x80 == 0 || p.Payload[0] >= 16 {
			continue
		}
		k := key{p.Header.SSRC, p.Header.Timestamp}
		if seen[k] {
			continue
		}
		seen[k] = true
		b.WriteByte(dtmfEvents[p.Payload[0]])
	}
	return b.String()
}
