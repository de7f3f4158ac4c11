package peertest_test

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// These tests prove the harness against the real peers, with no PBX in
// between. Each uses its own loopback addresses and free ports, so they
// cannot collide with each other or with a PBX on 5060.

const (
	minToneShare = 0.8
	toneBand     = 25.0 // Hz either side, as audio/measure.sh
)

// assertTone checks that samples are mostly a freq Hz tone.
func assertTone(t *testing.T, what string, samples []int16, rate int, freq float64) {
	t.Helper()
	if len(samples) < rate { // a second
		t.Errorf("%s: only %d samples at %d Hz", what, len(samples), rate)
		return
	}
	share := mediatest.ToneShare(samples, rate, freq, toneBand)
	if share < minToneShare {
		t.Errorf("%s: %.0f Hz holds %.2f of the energy, want > %.2f (dominant %.0f Hz, RMS %.3f)",
			what, freq, share, minToneShare, mediatest.DominantFrequency(samples, rate), mediatest.RMS(samples))
	}
}

// assertWAVTone waits until path is finished, reads it and checks its tone.
func assertWAVTone(ctx context.Context, t *testing.T, what, path string, freq float64) {
	t.Helper()
	if err := peertest.WaitWAV(ctx, path); err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	samples, rate, channels, err := mediatest.ReadWAV(path)
	if err != nil || channels != 1 {
		t.Errorf("%s: %d channels, %v", what, channels, err)
		return
	}
	assertTone(t, what+" ("+path+")", samples, rate, freq)
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real SIP peers (several seconds); skipped with -short")
	}
}

// SIPp UAC → SIPp UAS, no registrar: 1000 Hz PCMU and DTMF 1 9 # one way,
// 440 Hz the other, both directions captured with dumpcap.
func TestSelfSIPpUACToUAS(t *testing.T) {
	skipShort(t)
	peertest.Require(t, "sipp", "dumpcap")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	uasIP, uacIP := netip.MustParseAddr("127.0.0.21"), netip.MustParseAddr("127.0.0.22")
	uasRTP := netip.AddrPortFrom(uasIP, uint16(peertest.FreeRTPPort(t, uasIP.String())))
	uacRTP := netip.AddrPortFrom(uacIP, uint16(peertest.FreeRTPPort(t, uacIP.String())))
	uacPcap := peertest.WriteTonePcap(t, 1000, 2500*time.Millisecond, media.PCMU, "19#")
	uasPcap := peertest.WriteTonePcap(t, 440, 2500*time.Millisecond, media.PCMU, "")

	capture := peertest.StartCapture(t, fmt.Sprintf("udp and ((dst host %s and dst port %d) or (dst host %s and dst port %d))",
		uasRTP.Addr(), uasRTP.Port(), uacRTP.Addr(), uacRTP.Port()))
	uas := peertest.SIPp{
		Scenario: "uas_answer.xml", IP: uasIP.String(), MediaPort: int(uasRTP.Port()), Service: "1002",
		Keys: map[string]string{"pcap": uasPcap}, Timeout: 20 * time.Second,
	}.Start(t)
	uac := peertest.SIPp{
		Scenario: "uac_call.xml", Remote: uas.Addr(), IP: uacIP.String(), MediaPort: int(uacRTP.Port()),
		Service: "1002", Keys: map[string]string{"caller": "1001", "pcap": uacPcap},
		DurationMS: 4000, Timeout: 20 * time.Second,
	}.Start(t)

	uacRes := uac.Wait(ctx)
	uasRes := uas.Wait(ctx)
	path := capture.Stop()
	for _, r := range []struct {
		name string
		res  peertest.SIPpResult
	}{{"uac", uacRes}, {"uas", uasRes}} {
		if r.res.ExitCode != 0 || r.res.Err != nil || r.res.Successful != 1 || r.res.Failed != 0 || r.res.Created != 1 {
			t.Errorf("%s: %v", r.name, r.res)
		}
	}

	ok, found := uacRes.FindReceived("SIP/2.0 200 OK")
	if !found || peertest.SIPHeader(ok, "CSeq") != "1 INVITE" {
		t.Fatalf("uac got no 200 OK to its INVITE; received:\n%s", strings.Join(uacRes.ReceivedMessages(), "\n"))
	}
	if !strings.EqualFold(peertest.SIPHeader(ok, "Content-Type"), "application/sdp") ||
		!strings.Contains(peertest.SIPBody(ok), "m=audio "+strconv.Itoa(int(uasRTP.Port()))+" RTP/AVP 0 101") {
		t.Errorf("200 OK without the UAS's SDP:\n%s", ok)
	}
	if sdp := uacRes.ReceivedSDP(); len(sdp) != 1 {
		t.Errorf("uac received %d SDP bodies, want 1", len(sdp))
	}
	if got := len(uasRes.ReceivedMessages()); got != 3 { // INVITE, ACK, BYE
		t.Errorf("uas received %d messages, want 3", got)
	}

	pkts, err := mediatest.ReadPcap(path)
	if err != nil {
		t.Fatal(err)
	}
	toUAS := mediatest.RTP(pkts, mediatest.To(uasRTP))
	toUAC := mediatest.RTP(pkts, mediatest.To(uacRTP))
	assertTone(t, "UAS heard", mediatest.DecodeAudio(toUAS), 8000, 1000)
	assertTone(t, "UAC heard", mediatest.DecodeAudio(toUAC), 8000, 440)
	if got := mediatest.DTMF(toUAS, peertest.DTMFPayloadType); got != "19#" {
		t.Errorf("UAS got DTMF %q, want 19#", got)
	}
	if got := mediatest.DTMF(toUAC, peertest.DTMFPayloadType); got != "" {
		t.Errorf("UAC got DTMF %q, want none", got)
	}
}

// baresip A calls baresip B directly (no REGISTER), each sends its own tone,
// A hangs up after three seconds of audio.
func TestSelfBaresipCallsBaresip(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	a := peertest.Baresip{IP: "127.0.0.31", User: "1003", WAV: peertest.WriteToneWAV(t, 660, 30*time.Second)}.Start(t)
	b := peertest.Baresip{IP: "127.0.0.32", User: "1004", WAV: peertest.WriteToneWAV(t, 880, 30*time.Second)}.Start(t)
	if err := a.Dial(ctx, b.URI()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peertest.BaresipPhone{a, b} {
		if _, err := p.WaitEstablished(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Let three seconds of audio reach B.
	if _, err := b.WaitRecorded(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := a.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peertest.BaresipPhone{a, b} {
		if _, err := p.WaitTerminated(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.WaitLog(ctx, `session closed: Connection reset by peer`); err != nil {
		t.Errorf("B did not log the BYE: %v", err)
	}
	for _, c := range []struct {
		name  string
		phone *peertest.BaresipPhone
		freq  float64
	}{{"B", b, 660}, {"A", a, 880}} {
		recs, err := c.phone.Received()
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s recordings: %q %v", c.name, recs, err)
		}
		assertWAVTone(ctx, t, c.name+" heard", recs[0], c.freq)
	}
}

// linphonec calls baresip directly (no REGISTER), then hangs up; linphonec's
// recording must hold baresip's tone, and baresip's linphonec's.
func TestSelfLinphoneCallsBaresip(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	b := peertest.Baresip{IP: "127.0.0.41", User: "1004", WAV: peertest.WriteToneWAV(t, 660, 30*time.Second)}.Start(t)
	l := peertest.Linphone{IP: "127.0.0.42", User: "1005", WAV: peertest.WriteToneWAV(t, 880, 30*time.Second)}.Start(t)
	if err := l.Send("call " + b.URI()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.WaitConnected(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitEstablished(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitRecorded(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := l.WaitRecorded(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := l.Send("terminate"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.WaitEnded(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitTerminated(ctx, 0); err != nil {
		t.Fatal(err)
	}
	assertWAVTone(ctx, t, "linphonec heard", l.Recording(), 660)
	rec, err := b.LastReceived(ctx)
	if err != nil {
		t.Fatal(err)
	}
	assertWAVTone(ctx, t, "baresip heard", rec, 880)
}
