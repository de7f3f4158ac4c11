package peertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// SpeechText is a prompt-like sentence for WriteSpeechWAV and
// WriteSpeechPcap: about 10.5 s of speech.
const SpeechText = "Thank you for calling. Your call is important to us. " +
	"Please hold, the next agent will be with you shortly. " +
	"For billing press one, two, three."

// speechTimeout bounds espeak-ng and sox together; they take about 0.1 s.
const speechTimeout = 30 * time.Second

// WriteSpeechWAV speaks text in English with espeak-ng (voice "en", 150
// words a minute), converts it with sox to 8 kHz mono 16-bit PCM with peaks
// at -3 dBFS, writes it to a temporary folder and returns its path. The
// audio is made at test time, not committed: it takes about 0.1 s, and a
// test can say whatever it needs. espeak-ng output is the same for the same
// text and espeak-ng version (Debian 12: 1.51). It needs espeak-ng and sox
// (see Require).
func WriteSpeechWAV(t testing.TB, text string) string {
	t.Helper()
	Require(t, "espeak-ng", "sox")
	dir := t.TempDir()
	textPath := filepath.Join(dir, "speech.txt")
	if err := os.WriteFile(textPath, []byte(text), 0o600); err != nil {
		t.Fatalf("peertest: %v", err)
	}
	raw := filepath.Join(dir, "speech-22k.wav") // espeak-ng writes 22050 Hz
	out := filepath.Join(dir, "speech.wav")
	ctx, cancel := context.WithTimeout(t.Context(), speechTimeout)
	defer cancel()
	for _, argv := range [][]string{
		{"espeak-ng", "-v", "en", "-s", "150", "-w", raw, "-f", textPath},
		{"sox", raw, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", out, "norm", "-3"},
	} {
		if b, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("peertest: speech: %s: %v\n%s", argv[0], err, b)
		}
	}
	return out
}

// WriteSpeechPcap is WriteSpeechWAV as an RTP capture for SIPp's -key pcap
// (play_pcap_audio, as in uac_call.xml): the speech encoded with law in 20 ms
// packets, without DTMF. It returns the capture's absolute path.
func WriteSpeechPcap(t testing.TB, law media.G711, text string) string {
	t.Helper()
	wav := WriteSpeechWAV(t, text)
	samples, rate, channels, err := mediatest.ReadWAV(wav)
	if err != nil {
		t.Fatalf("peertest: %v", err)
	}
	if rate != ToneRate || channels != 1 {
		t.Fatalf("peertest: speech %s: %d Hz, %d channels; want %d Hz mono", wav, rate, channels, ToneRate)
	}
	path := filepath.Join(filepath.Dir(wav), fmt.Sprintf("speech-%s.pcap", law))
	if err := mediatest.WriteRTPPcap(path, samples, law, "", DTMFPayloadType); err != nil {
		t.Fatalf("peertest: %v", err)
	}
	return path
}
