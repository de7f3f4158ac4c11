package mediatest

import (
	"bytes"
	"errors"
	"math"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/ringdesk/ringdesk/media"
)

func TestWriteRTPPcap(t *testing.T) {
	const dtmfPT = 101
	tests := []struct {
		name   string
		g      media.G711
		tone   float64
		dur    time.Duration
		digits string
		want   string
	}{
		{"PCMU tone and all digits", media.PCMU, 1000, time.Second, "0123456789*#ABCD", "0123456789*#ABCD"},
		{"PCMA partial frame, lower-case", media.PCMA, 440, 510 * time.Millisecond, "1a9d", "1A9D"},
		{"no digits", media.PCMU, 2000, 100 * time.Millisecond, "", ""},
		{"digits only", media.PCMA, 0, 0, "#", "#"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			samples := Sine(tt.tone, 0.5, 8000, tt.dur)
			path := filepath.Join(t.TempDir(), "rtp.pcap")
			if err := WriteRTPPcap(path, samples, tt.g, tt.digits, dtmfPT); err != nil {
				t.Fatal(err)
			}
			pkts, err := ReadPcap(path)
			if err != nil {
				t.Fatal(err)
			}
			frames := (len(samples) + 159) / 160
			wantPkts := frames + len(tt.digits)*(dtmfGap+dtmfPackets+dtmfEnds)
			rtpPkts := RTP(pkts, To(netip.MustParseAddrPort("10.0.0.2:6000")))
			if len(pkts) != wantPkts || len(rtpPkts) != wantPkts {
				t.Fatalf("%d packets, %d RTP, want %d", len(pkts), len(rtpPkts), wantPkts)
			}
			if got := RTP(pkts, From(netip.MustParseAddrPort("10.0.0.2:6000"))); len(got) != 0 {
				t.Errorf("%d packets from the receiver", len(got))
			}

			streams := Streams(rtpPkts)
			wantPTs := []uint8{tt.g.PayloadType()}
			if tt.digits != "" {
				wantPTs = append(wantPTs, dtmfPT)
			}
			if len(streams) != 1 || streams[0].SeqGaps != 0 || streams[0].TimestampJumps != 0 ||
				!slices.Equal(streams[0].PayloadTypes, wantPTs) || streams[0].Packets != wantPkts {
				t.Errorf("streams %+v, want one without gaps or jumps, payload types %v", streams, wantPTs)
			}

			// Packet times 20 ms apart; timestamps follow them (events keep
			// their start); marker bits on the first audio packet and on the
			// first packet of each event.
			first := rtpPkts[0]
			evStart := -1
			for i, p := range rtpPkts {
				if d := p.Time.Sub(first.Time); d != time.Duration(i)*20*time.Millisecond {
					t.Fatalf("packet %d at +%v", i, d)
				}
				if p.Header.SSRC != first.Header.SSRC || p.Header.SequenceNumber != first.Header.SequenceNumber+uint16(i) {
					t.Fatalf("packet %d: SSRC %x seq %d", i, p.Header.SSRC, p.Header.SequenceNumber)
				}
				isEvent := p.Header.PayloadType == dtmfPT
				startsEvent := isEvent && (i == 0 || rtpPkts[i-1].Header.PayloadType != dtmfPT)
				slot := i
				switch {
				case startsEvent:
					evStart = i
				case isEvent:
					slot = evStart
				}
				if want := first.Header.Timestamp + uint32(160*slot); p.Header.Timestamp != want {
					t.Fatalf("packet %d: timestamp %d, want %d", i, p.Header.Timestamp, want)
				}
				if want := i == 0 || startsEvent; p.Header.Marker != want {
					t.Fatalf("packet %d: marker %v", i, p.Header.Marker)
				}
				if !isEvent && len(p.Payload) != 160 {
					t.Fatalf("packet %d: %d bytes of audio", i, len(p.Payload))
				}
			}

			// Event payloads: 8 growing durations, then 3 end packets.
			if tt.digits != "" {
				ev := rtpPkts[frames+dtmfGap : frames+dtmfGap+dtmfPackets+dtmfEnds]
				for i, p := range ev {
					dur, end := 160*(i+1), byte(0)
					if i >= dtmfPackets {
						dur, end = 1280, 0x80
					}
					want := []byte{ev[0].Payload[0], end | 10, byte(dur >> 8), byte(dur)}
					if !bytes.Equal(p.Payload, want) {
						t.Errorf("event packet %d: % x, want % x", i, p.Payload, want)
					}
				}
			}

			if got := DTMF(rtpPkts, dtmfPT); got != tt.want {
				t.Errorf("DTMF = %q, want %q", got, tt.want)
			}
			audio := DecodeAudio(rtpPkts)
			if want := 160 * (frames + dtmfGap*len(tt.digits)); len(audio) != want {
				t.Errorf("%d samples of audio, want %d", len(audio), want)
			}
			if tt.tone != 0 {
				if f := DominantFrequency(audio, 8000); math.Abs(f-tt.tone) > 5 {
					t.Errorf("dominant frequency %.1f Hz, want %v", f, tt.tone)
				}
				if share := ToneShare(audio, 8000, tt.tone, 20); share < 0.99 {
					t.Errorf("tone share %.3f, want ≥ 0.99", share)
				}
			}
		})
	}

	for _, tt := range []struct {
		name   string
		g      media.G711
		digits string
		err    error
	}{
		{"bad digit", media.PCMU, "12E", ErrDigit},
		{"bad digit e", media.PCMU, "e", ErrDigit},
		{"not G.711", media.G711Unknown, "", ErrCodec},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteRTPPcap(filepath.Join(t.TempDir(), "x.pcap"), nil, tt.g, tt.digits, 101)
			if !errors.Is(err, tt.err) {
				t.Errorf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

// TestRTPFixture reads a capture written by WriteRTPPcap (1 kHz A-law for
// 500 ms, then "19#") and converted to pcapng by editcap; tshark -z
// rtp,streams reports one stream, SSRC 0x4548ECA0, 73 packets, none lost.
func TestRTPFixture(t *testing.T) {
	for _, file := range []string{"rtp_pcma_19hash.pcap", "rtp_pcma_19hash.pcapng"} {
		t.Run(file, func(t *testing.T) {
			pkts, err := ReadPcap(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			rtpPkts := RTP(pkts, nil)
			want := []Stream{{
				Src: netip.MustParseAddrPort("10.0.0.1:6000"), Dst: netip.MustParseAddrPort("10.0.0.2:6000"),
				SSRC: 0x4548ECA0, Packets: 73, PayloadTypes: []uint8{8, 101}, FirstSeq: 2974, LastSeq: 3046,
			}}
			if got := Streams(rtpPkts); !slices.EqualFunc(got, want, streamEqual) {
				t.Errorf("streams %+v, want %+v", got, want)
			}
			if got := DTMF(rtpPkts, 101); got != "19#" {
				t.Errorf("DTMF = %q, want 19#", got)
			}
			if f := DominantFrequency(DecodeAudio(rtpPkts), 8000); math.Abs(f-1000) > 2 {
				t.Errorf("dominant frequency %.1f Hz, want 1000", f)
			}
		})
	}
}

// rtpPacket builds a captured RTP packet.
func rtpPacket(src, dst netip.AddrPort, h rtp.Header, payload []byte) Packet {
	h.Version = 2
	b, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	if err != nil {
		panic(err)
	}
	return Packet{Src: src, Dst: dst, Payload: b}
}

func TestRTPParsing(t *testing.T) {
	a, b := v4a, v4b
	pkts := []Packet{
		rtpPacket(a, b, rtp.Header{PayloadType: 0, SequenceNumber: 1, SSRC: 1}, []byte{0xff}),
		{Src: a, Dst: b, Payload: []byte{0x81, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}},        // RTCP SR
		{Src: a, Dst: b, Payload: []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0}}, // STUN
		{Src: a, Dst: b, Payload: []byte{0x80, 0, 0, 1}},                                              // short
		{Src: a, Dst: b, Payload: []byte{0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}},                      // 15 CSRCs missing
		{Src: a, Dst: b, Payload: []byte{0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0}},                   // padding 0
		rtpPacket(b, a, rtp.Header{PayloadType: 8, SequenceNumber: 9, SSRC: 2, Marker: true}, []byte{0xd5, 0xd5}),
		{Src: a, Dst: b, Payload: []byte{0xa0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xee, 0, 2}}, // padded
	}
	got := RTP(pkts, nil)
	if len(got) != 3 {
		t.Fatalf("%d RTP packets, want 3: %+v", len(got), got)
	}
	if got[1].Src != b || got[1].Header.PayloadType != 8 || !got[1].Header.Marker || !bytes.Equal(got[1].Payload, []byte{0xd5, 0xd5}) {
		t.Errorf("second packet %+v", got[1])
	}
	if !bytes.Equal(got[2].Payload, []byte{0xff, 0xee}) {
		t.Errorf("padded payload % x, want ff ee", got[2].Payload)
	}
	if n := len(RTP(pkts, From(b))); n != 1 {
		t.Errorf("From: %d packets, want 1", n)
	}
	if n := len(RTP(pkts, To(b))); n != 2 {
		t.Errorf("To: %d packets, want 2", n)
	}

	audio := DecodeAudio([]RTPPacket{
		{Header: rtp.Header{PayloadType: 0}, Payload: []byte{0x80, 0xff}},
		{Header: rtp.Header{PayloadType: 101}, Payload: []byte{1, 0x8a, 0, 160}},
		{Header: rtp.Header{PayloadType: 8}, Payload: []byte{0xaa}},
		{Header: rtp.Header{PayloadType: 9}, Payload: []byte{1, 2, 3}},
	})
	if !slices.Equal(audio, []int16{32124, 0, 32256}) {
		t.Errorf("DecodeAudio = %v", audio)
	}
}

func TestStreams(t *testing.T) {
	a, b := v4a, v4b
	audio := func(seq uint16, ts uint32, marker bool) RTPPacket {
		return RTPPacket{Src: a, Dst: b, Header: rtp.Header{PayloadType: 0, SequenceNumber: seq, Timestamp: ts, SSRC: 7, Marker: marker}, Payload: make([]byte, 160)}
	}
	event := func(seq uint16, ts uint32) RTPPacket {
		return RTPPacket{Src: a, Dst: b, Header: rtp.Header{PayloadType: 101, SequenceNumber: seq, Timestamp: ts, SSRC: 7}, Payload: []byte{1, 0, 0, 160}}
	}
	tests := []struct {
		name        string
		pkts        []RTPPacket
		gaps, jumps int
	}{
		{"clean", []RTPPacket{audio(1, 0, true), audio(2, 160, false), audio(3, 320, false)}, 0, 0},
		{"seq wraps", []RTPPacket{audio(65535, 0, false), audio(0, 160, false), audio(1, 320, false)}, 0, 0},
		{"ts wraps", []RTPPacket{audio(1, 0xffffff60, false), audio(2, 0, false)}, 0, 0},
		{"one lost", []RTPPacket{audio(1, 0, false), audio(3, 320, false)}, 1, 0},
		{"lost and ts jump", []RTPPacket{audio(1, 0, false), audio(3, 480, false)}, 1, 1},
		{"ts jump", []RTPPacket{audio(1, 0, false), audio(2, 1000, false)}, 0, 1},
		{"ts jump at a talkspurt", []RTPPacket{audio(1, 0, false), audio(2, 8000, true)}, 0, 0},
		{"duplicate", []RTPPacket{audio(1, 0, false), audio(1, 0, false), audio(2, 160, false)}, 1, 0},
		{"reordered", []RTPPacket{audio(1, 0, false), audio(3, 320, false), audio(2, 160, false), audio(4, 480, false)}, 3, 0},
		{"events", []RTPPacket{audio(1, 0, false), event(2, 160), event(3, 160), audio(4, 800, false), audio(5, 960, false)}, 0, 0},
		{"event timestamp off", []RTPPacket{audio(1, 0, false), event(2, 0)}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Streams(tt.pkts)
			if len(s) != 1 {
				t.Fatalf("%d streams", len(s))
			}
			if s[0].SeqGaps != tt.gaps || s[0].TimestampJumps != tt.jumps || s[0].Packets != len(tt.pkts) {
				t.Errorf("%d packets, %d gaps, %d jumps; want %d, %d, %d", s[0].Packets, s[0].SeqGaps, s[0].TimestampJumps, len(tt.pkts), tt.gaps, tt.jumps)
			}
			if s[0].FirstSeq != tt.pkts[0].Header.SequenceNumber || s[0].LastSeq != tt.pkts[len(tt.pkts)-1].Header.SequenceNumber {
				t.Errorf("seq %d..%d", s[0].FirstSeq, s[0].LastSeq)
			}
		})
	}

	// Streams are told apart by source, destination and SSRC.
	mixed := []RTPPacket{
		audio(1, 0, false),
		{Src: b, Dst: a, Header: rtp.Header{PayloadType: 8, SequenceNumber: 50, SSRC: 7}},
		audio(2, 160, false),
		{Src: a, Dst: b, Header: rtp.Header{PayloadType: 0, SequenceNumber: 90, SSRC: 8}},
	}
	s := Streams(mixed)
	if len(s) != 3 || s[0].Packets != 2 || s[1].Src != b || s[1].PayloadTypes[0] != 8 || s[2].SSRC != 8 {
		t.Errorf("streams %+v", s)
	}
	if len(Streams(nil)) != 0 {
		t.Error("streams from nothing")
	}
}

func TestDTMF(t *testing.T) {
	ev := func(ssrc uint32, pt uint8, ts uint32, payload ...byte) RTPPacket {
		return RTPPacket{Header: rtp.Header{PayloadType: pt, Timestamp: ts, SSRC: ssrc}, Payload: payload}
	}
	pkts := []RTPPacket{
		ev(1, 101, 100, 5, 0x0a, 0, 160),      // 5 starts
		ev(1, 101, 100, 5, 0x8a, 1, 64),       // 5 ends
		ev(1, 101, 100, 5, 0x8a, 1, 64),       // repeated
		ev(1, 101, 100, 5, 0x8a, 1, 64),       // repeated
		ev(1, 0, 500, 0xff, 0xff, 0xff, 0xff), // audio
		ev(1, 101, 900, 11, 0x0a, 0, 160),     // # without its end
		ev(1, 101, 1300, 16, 0x8a, 0, 160),    // flash: not a digit
		ev(1, 96, 1700, 3, 0x8a, 0, 160),      // other PT
		ev(1, 101, 2100, 15, 0x8a),            // short
		ev(1, 101, 2500, 15, 0x8a, 1, 64),     // D
		ev(2, 101, 2500, 10, 0x8a, 1, 64),     // * from another SSRC at the same timestamp
		ev(1, 101, 2900, 5, 0x8a, 1, 64),      // 5 again
	}
	if got := DTMF(pkts, 101); got != "5D*5" {
		t.Errorf("DTMF = %q, want 5D*5", got)
	}
	if got := DTMF(pkts, 96); got != "3" {
		t.Errorf("DTMF(96) = %q, want 3", got)
	}
	if got := DTMF(nil, 101); got != "" {
		t.Errorf("DTMF(nil) = %q", got)
	}
}
