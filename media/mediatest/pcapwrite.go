package mediatest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/pion/rtp"

	"github.com/ringdesk/ringdesk/media"
)

// Parameters of the captures written by WriteRTPPcap.
const (
	frameSamples = 160 // 20 ms at 8 kHz
	frameTime    = 20 * time.Millisecond
	dtmfGap      = 5  // packets of silence before each event: 100 ms
	dtmfPackets  = 8  // packets while the key is down: 160 ms
	dtmfEnds     = 3  // end packets, RFC 4733 §2.5.1.4
	dtmfVolume   = 10 // -10 dBm0, RFC 4733 §2.3.4
)

// WriteRTPPcap writes a classic pcap file (Ethernet, IPv4, UDP from
// 10.0.0.1:6000 to 10.0.0.2:6000) of one RTP stream, the kind SIPp 3.6's
// play_pcap_audio replays: it rewrites the addresses and ports and keeps the
// RTP headers as they are.
//
// The stream is samples (8 kHz) encoded with g in 20 ms packets of 160 samples
// (the last padded with silence) with payload type g.PayloadType(), then, for
// each digit of digits (0-9, *, #, A-D or a-d), 100 ms of silence (5 packets) and an
// RFC 4733 event with payload type dtmfPT: 8 packets with durations 160, 320,
// ..., 1280, then 3 end packets (E bit) with duration 1280, all with the
// event's start as timestamp and the marker bit on the first (RFC 4733
// §2.5.1). The first packet of the file has the marker bit too (RFC 3551 §4.1). Packets are 20 ms apart; the SSRC, first sequence number and first
// timestamp are random, sequence numbers are consecutive, and each packet's
// slot advances the timestamp by 160, so timestamps follow the packet times.
func WriteRTPPcap(path string, samples []int16, g media.G711, digits string, dtmfPT uint8) error {
	b, err := rtpPcap(samples, g, digits, dtmfPT, time.Now())
	if err != nil {
		return fmt.Errorf("write rtp pcap %s: %w", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write rtp pcap: %w", err)
	}
	return nil
}

// rtpPcap builds the file WriteRTPPcap writes, with its first packet at start.
func rtpPcap(samples []int16, g media.G711, digits string, dtmfPT uint8, start time.Time) ([]byte, error) {
	if g != media.PCMU && g != media.PCMA {
		return nil, fmt.Errorf("%w: %v", ErrCodec, g)
	}
	events := make([]byte, len(digits))
	for i := range len(digits) {
		c := digits[i]
		if c >= 'a' && c <= 'd' {
			c -= 'a' - 'A'
		}
		e := strings.IndexByte(dtmfEvents, c)
		if e < 0 {
			return nil, fmt.Errorf("%w: %q", ErrDigit, digits[i])
		}
		events[i] = byte(e)
	}

	// Any addresses will do: SIPp rewrites them.
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1}), 6000)
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 2}), 6000)
	w := pcapWriter{}
	w.header(linkEthernet)
	h := rtp.Header{
		Version:        2,
		SequenceNumber: uint16(rand.Uint32()),
		Timestamp:      rand.Uint32(),
		SSRC:           rand.Uint32(),
	}
	slot := 0
	send := func(pt uint8, marker bool, ts uint32, payload []byte) error {
		h.PayloadType, h.Marker, h.Timestamp = pt, marker || slot == 0, ts
		pkt, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
		if err != nil {
			return fmt.Errorf("marshal rtp: %w", err)
		}
		w.udp(start.Add(time.Duration(slot)*frameTime), src, dst, pkt)
		h.SequenceNumber++
		slot++
		return nil
	}
	ts0 := h.Timestamp
	slotTS := func() uint32 { return ts0 + uint32(slot*frameSamples) }

	frame := make([]int16, frameSamples)
	payload := make([]byte, frameSamples)
	for i := 0; i < len(samples); i += frameSamples {
		clear(frame)
		copy(frame, samples[i:])
		g.Encode(payload, frame)
		if err := send(g.PayloadType(), false, slotTS(), payload); err != nil {
			return nil, err
		}
	}
	clear(frame)
	g.Encode(payload, frame) // silence
	for _, ev := range events {
		for range dtmfGap {
			if err := send(g.PayloadType(), false, slotTS(), payload); err != nil {
				return nil, err
			}
		}
		evTS := slotTS()
		for i := range dtmfPackets + dtmfEnds {
			duration, end := uint16((i+1)*frameSamples), byte(0)
			if i >= dtmfPackets {
				duration, end = dtmfPackets*frameSamples, 0x80
			}
			// event(8) E(1) R(1) volume(6) duration(16), RFC 4733 §2.3
			body := []byte{ev, end | dtmfVolume, byte(duration >> 8), byte(duration)}
			if err := send(dtmfPT, i == 0, evTS, body); err != nil {
				return nil, err
			}
		}
	}
	return w.buf, nil
}

// pcapWriter builds a classic pcap file (little-endian, microseconds).
type pcapWriter struct {
	buf []byte
	id  uint16 // IPv4 identification
}

func (w *pcapWriter) header(link uint32) {
	le := binary.LittleEndian
	w.buf = le.AppendUint32(w.buf, pcapMicro)
	w.buf = le.AppendUint16(w.buf, 2) // version 2.4
	w.buf = le.AppendUint16(w.buf, 4)
	w.buf = le.AppendUint32(w.buf, 0)     // thiszone
	w.buf = le.AppendUint32(w.buf, 0)     // sigfigs
	w.buf = le.AppendUint32(w.buf, 65535) // snaplen
	w.buf = le.AppendUint32(w.buf, link)
}

func (w *pcapWriter) record(t time.Time, frame []byte) {
	le := binary.LittleEndian
	w.buf = le.AppendUint32(w.buf, uint32(t.Unix()))
	w.buf = le.AppendUint32(w.buf, uint32(t.Nanosecond()/1000))
	w.buf = le.AppendUint32(w.buf, uint32(len(frame)))
	w.buf = le.AppendUint32(w.buf, uint32(len(frame)))
	w.buf = append(w.buf, frame...)
}

// udp records an Ethernet frame holding an IPv4 UDP datagram.
func (w *pcapWriter) udp(t time.Time, src, dst netip.AddrPort, payload []byte) {
	frame := make([]byte, 0, 14+20+8+len(payload))
	frame = append(frame, 0x02, 0, 0, 0, 0, 0x02) // locally administered MACs
	frame = append(frame, 0x02, 0, 0, 0, 0, 0x01)
	frame = binary.BigEndian.AppendUint16(frame, etherIPv4)
	frame = appendIPv4UDP(frame, w.id, src, dst, payload)
	w.id++
	w.record(t, frame)
}

// appendIPv4UDP appends an IPv4 header (with its checksum) and a UDP header
// (checksum 0: none, RFC 768) and the payload to b. src and dst must be IPv4.
func appendIPv4UDP(b []byte, id uint16, src, dst netip.AddrPort, payload []byte) []byte {
	be := binary.BigEndian
	ip := len(b)
	b = append(b, 0x45, 0) // version 4, IHL 5; DSCP 0
	b = be.AppendUint16(b, uint16(20+8+len(payload)))
	b = be.AppendUint16(b, id)
	b = be.AppendUint16(b, 0x4000) // don't fragment
	b = append(b, 64, protoUDP, 0, 0)
	b = append(b, src.Addr().AsSlice()...)
	b = append(b, dst.Addr().AsSlice()...)
	var sum uint32
	for i := ip; i < ip+20; i += 2 {
		sum += uint32(be.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	be.PutUint16(b[ip+10:], ^uint16(sum))
	b = be.AppendUint16(b, src.Port())
	b = be.AppendUint16(b, dst.Port())
	b = be.AppendUint16(b, uint16(8+len(payload)))
	b = be.AppendUint16(b, 0)
	return append(b, payload...)
}
