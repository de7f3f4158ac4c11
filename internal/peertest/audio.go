package peertest

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// Test audio: 8 kHz, a sine at half of full scale (like audio/gen.sh), and
// RFC 4733 events with the payload type the SIPp scenarios offer.
const (
	// ToneRate is the sample rate of the generated audio.
	ToneRate = 8000
	// ToneAmplitude is the generated sines' amplitude, a fraction of full scale.
	ToneAmplitude = 0.5
	// DTMFPayloadType is the telephone-event payload type in WriteTonePcap's
	// captures, the one uac_call.xml and uas_answer.xml put in their SDP.
	DTMFPayloadType = 101
)

// WriteToneWAV writes dur of a freq Hz sine (freq 0: silence) as a 16-bit
// 8 kHz mono WAV file in a temporary folder and returns its path. For
// baresip make it longer than the call: baresip hangs up when it ends.
func WriteToneWAV(t testing.TB, freq float64, dur time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), toneName(freq, dur)+".wav")
	if err := mediatest.WriteWAV(path, tone(freq, dur), ToneRate); err != nil {
		t.Fatalf("peertest: %v", err)
	}
	return path
}

// WriteTonePcap writes an RTP capture for SIPp's -key pcap (play_pcap_audio
// in uac_call.xml and uas_answer.xml): dur of a freq Hz sine encoded with
// law in 20 ms packets, then the RFC 4733 events of digits (payload type
// DTMFPayloadType, each after 100 ms of silence). It returns the absolute
// path.
func WriteTonePcap(t testing.TB, freq float64, dur time.Duration, law media.G711, digits string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), toneName(freq, dur)+"-"+law.String()+".pcap")
	if err := mediatest.WriteRTPPcap(path, tone(freq, dur), law, digits, DTMFPayloadType); err != nil {
		t.Fatalf("peertest: %v", err)
	}
	return path
}

func tone(freq float64, dur time.Duration) []int16 {
	if freq == 0 {
		return mediatest.Silence(ToneRate, dur)
	}
	return mediatest.Sine(freq, ToneAmplitude, ToneRate, dur)
}

func toneName(freq float64, dur time.Duration) string {
	if freq == 0 {
		return fmt.Sprintf("silence-%s", dur)
	}
	return fmt.Sprintf("tone-%sHz-%s", strconv.FormatFloat(freq, 'f', -1, 64), dur)
}
