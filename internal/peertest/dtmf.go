package peertest

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// Layout of the in-band DTMF that InbandDTMF and WriteDTMFPcap make: ITU-T
// Q.23 dual tones, each digit DTMFTone long and followed by DTMFGap of
// silence, after DTMFLead of silence. The RFC 4733 captures start with DTMFLead of silence
// too; mediatest.WriteRTPPcap then puts 100 ms of silence before each event
// and makes each event 160 ms long plus three end packets.
const (
	// DTMFLead is the silence before the first digit.
	DTMFLead = 500 * time.Millisecond
	// DTMFTone is how long each in-band digit sounds.
	DTMFTone = 100 * time.Millisecond
	// DTMFGap is the silence after each in-band digit.
	DTMFGap = 100 * time.Millisecond
	// DTMFAmplitude is the peak of each of the two sines of an in-band digit,
	// a fraction of full scale: -10 dBm0 per tone. A full-scale sine is
	// +3.17 dBm0 in G.711 μ-law (+3.14 in A-law), so 0 dBm0 peaks at 0.694
	// and -10 dBm0 at 0.22 (about 7200 of 32767; the pair peaks at 14400).
	DTMFAmplitude = 0.22
)

// DTMFFrequencies returns the low (row) and high (column) frequency in Hz of
// a DTMF digit (0-9, *, #, A-D or a-d; ITU-T Q.23), and false for anything
// else.
func DTMFFrequencies(digit rune) (low, high float64, ok bool) {
	const keypad = "123A456B789C*0#D" // rows 697, 770, 852, 941 Hz
	i := strings.IndexRune(keypad, unicode.ToUpper(digit))
	if i < 0 {
		return 0, 0, false
	}
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	return rows[i/4], cols[i%4], true
}

// InbandDTMF returns in-band DTMF for digits as 8 kHz samples: DTMFLead of
// silence, then per digit DTMFTone of its two sines (each DTMFAmplitude) and
// DTMFGap of silence.
func InbandDTMF(digits string) ([]int16, error) {
	out := mediatest.Silence(ToneRate, DTMFLead)
	for _, d := range digits {
		low, high, ok := DTMFFrequencies(d)
		if !ok {
			return nil, fmt.Errorf("in-band dtmf: %w: %q", mediatest.ErrDigit, d)
		}
		lo := mediatest.Sine(low, DTMFAmplitude, ToneRate, DTMFTone)
		hi := mediatest.Sine(high, DTMFAmplitude, ToneRate, DTMFTone)
		for i := range lo {
			out = append(out, lo[i]+hi[i]) // at most 2 × 7209: no overflow
		}
		out = append(out, mediatest.Silence(ToneRate, DTMFGap)...)
	}
	return out, nil
}

// WriteDTMFPcap writes an RTP capture for SIPp's -key pcap (play_pcap_audio,
// as in uac_call.xml) that presses digits after DTMFLead of silence, and
// returns its absolute path. The audio is encoded with law in 20 ms packets.
//
// With inband false the digits are RFC 4733 events with payload type
// DTMFPayloadType (mediatest.WriteRTPPcap: per digit 100 ms of silence, then
// 8 packets of 20 ms and 3 end packets); media/mediatest.DTMF decodes them
// from a capture. With inband true they are dual tones in the audio itself
// (see InbandDTMF), and the capture has no telephone-event packets.
func WriteDTMFPcap(t testing.TB, law media.G711, digits string, inband bool) string {
	t.Helper()
	kind, samples, events := "rfc4733", mediatest.Silence(ToneRate, DTMFLead), digits
	if inband {
		var err error
		if samples, err = InbandDTMF(digits); err != nil {
			t.Fatalf("peertest: %v", err)
		}
		kind, events = "inband", ""
	}
	name := fmt.Sprintf("dtmf-%s-%s-%s.pcap", kind, law, safeName(digits))
	path := filepath.Join(t.TempDir(), name)
	if err := mediatest.WriteRTPPcap(path, samples, law, events, DTMFPayloadType); err != nil {
		t.Fatalf("peertest: %v", err)
	}
	return path
}
