package mediatest

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/media"
)

// FuzzReadPcap feeds arbitrary bytes to the capture reader and the RTP
// analysis. It must never panic, and what it returns must come from the input:
// no more payload bytes than the input holds.
func FuzzReadPcap(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.pcap*"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	le, be := binary.LittleEndian, binary.BigEndian
	p4 := ipv4(v4a, v4b, []byte{0x80, 0x65, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 5, 0x8a, 0, 160})
	p6 := ipv6(v6a, v6b, []byte{0x80, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff}, protoUDP, protoHopByHop)
	f.Add(classicPcap(be, true, linkSLL, record{time.Unix(1, 0), sll(p4)}, record{time.Unix(2, 0), sll(p6)}))
	f.Add(classicPcap(le, false, linkNull, record{time.Unix(1, 0), null(le, 30, p6)}))
	ng := pcapngSection(le)
	ng = append(ng, pcapngInterfaceBlock(le, linkSLL2, 0x80|20, 5)...)
	ng = append(ng, pcapngPacket(le, 0, 12345, sll2(p4))...)
	f.Add(ng)
	if b, err := rtpPcap(Sine(1000, 0.5, 8000, 60*time.Millisecond), media.PCMU, "5", 101, time.Unix(0, 0)); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkts, _ := readCapture(bytes.NewReader(data))
		total := 0
		for _, p := range pkts {
			total += len(p.Payload)
		}
		if total > len(data) {
			t.Fatalf("%d payload bytes from %d bytes of input", total, len(data))
		}
		rtpPkts := RTP(pkts, nil)
		Streams(rtpPkts)
		DTMF(rtpPkts, 101)
		if n := len(DecodeAudio(rtpPkts)); n > len(data) {
			t.Fatalf("%d samples from %d bytes", n, len(data))
		}
	})
}

// FuzzParseWAV feeds arbitrary bytes to the WAV parser.
func FuzzParseWAV(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.wav"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(encodeWAV([]int16{1, -1, 1000}, 8000))
	f.Add(buildWAV("RIFF", 0, fmtChunk(wavePCM, 2, 8000, 24), dataChunk(0xffffffff, make([]byte, 12))))
	f.Fuzz(func(t *testing.T, data []byte) {
		chans, rate, err := parseWAV(data)
		if err != nil {
			return
		}
		if len(chans) == 0 || rate <= 0 {
			t.Fatalf("%d channels at %d Hz without error", len(chans), rate)
		}
		for _, c := range chans {
			if len(c) != len(chans[0]) || len(c)*len(chans) > len(data) {
				t.Fatalf("channels of %d and %d samples from %d bytes", len(c), len(chans[0]), len(data))
			}
		}
	})
}
