package main

// End-to-end tests of the media engine: conferences, recordings, hold
// music, DTMF from every source and transfers, with SIPp and baresip.

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/configs"
	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/dtmf"
	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/media/wav"
)

// waitEvent waits for the first event (of any call) that pred accepts.
func (p *testPBX) waitEvent(ctx context.Context, what string, pred func(calls.Event) bool) calls.Event {
	p.t.Helper()
	for {
		p.mu.Lock()
		for _, e := range p.events {
			if pred(e) {
				p.mu.Unlock()
				return e
			}
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			p.t.Fatalf("waiting for %s: %v", what, ctx.Err())
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// answeredCall waits for the first answered call and returns it.
func (p *testPBX) answeredCall(ctx context.Context) *calls.Call {
	p.t.Helper()
	e := p.waitEvent(ctx, "an answered call", func(e calls.Event) bool { _, ok := e.(calls.CallAnswered); return ok })
	c, ok := p.app.sw.Call(e.Call())
	if !ok {
		p.t.Fatalf("answered call %s is gone", e.Call())
	}
	return c
}

func isEvent[T calls.Event](e calls.Event) bool { _, ok := e.(T); return ok }

// audioTo decodes what the capture shows arriving at loopback port between
// from and to.
func audioTo(pkts []mediatest.Packet, port int, from, to time.Time) []int16 {
	return audioAt(pkts, netip.AddrPortFrom(netip.MustParseAddr(loopback), uint16(port)), from, to)
}

// audioAt decodes what the capture shows arriving at dst between from and to.
func audioAt(pkts []mediatest.Packet, dst netip.AddrPort, from, to time.Time) []int16 {
	var win []mediatest.Packet
	for _, p := range pkts {
		if !p.Time.Before(from) && p.Time.Before(to) {
			win = append(win, p)
		}
	}
	return mediatest.DecodeAudio(mediatest.RTP(win, mediatest.To(dst)))
}

// share is the part of audio's energy within 25 Hz of freq.
func share(audio []int16, freq float64) float64 { return mediatest.ToneShare(audio, 8000, freq, 25) }

// threeParties registers SIPp 1002 and 1003, answering with 700 and
// 1100 Hz, captures the RTP to the three parties' ports, and has SIPp 1001
// call 1002 with 440 Hz for 6 s.
func threeParties(ctx context.Context, t *testing.T, pbx *testPBX) (bob, carol sippUser, aliceMedia int,
	capture *peertest.Capture, uasBob, uasCarol, uac *peertest.SIPpRun,
) {
	t.Helper()
	bob = newSIPpUser(t, "1002", "bob-1002")
	carol = newSIPpUser(t, "1003", "carol-1003")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
	mustSucceed(t, "register 1003", carol.register(ctx, t, pbx, 300))
	aliceMedia = peertest.FreeRTPPort(t, loopback)
	capture = peertest.StartCapture(t, fmt.Sprintf("udp and host 127.0.0.1 and (port %d or port %d or port %d)",
		aliceMedia, bob.mediaPort, carol.mediaPort))
	uasBob = bob.answer(t, "uas_answer.xml", 1, map[string]string{"pcap": peertest.WriteTonePcap(t, 700, 12*time.Second, media.PCMU, "")})
	uasCarol = carol.answer(t, "uas_answer.xml", 1, map[string]string{"pcap": peertest.WriteTonePcap(t, 1100, 12*time.Second, media.PCMU, "")})
	uac = dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "1002", aliceMedia,
		map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 12*time.Second, media.PCMU, "")}, 6000)
	return bob, carol, aliceMedia, capture, uasBob, uasCarol, uac
}

// TestConferenceAndRecording: 1001 calls 1002, then 1003 is added through
// the API. Each of the three hears the other two tones and not its own; the
// call's recording (customer left, agents right) holds the audio of the
// whole call, across the join and the caller's leaving.
func TestConferenceAndRecording(t *testing.T) {
	ctx := e2e(t, "sipp", "dumpcap")
	pbx := startPBX(t, pbxOptions{RTPPorts: "32200-32399", Calls: "record: true"})
	bob, carol, aliceMedia, capture, uasBob, uasCarol, uac := threeParties(ctx, t, pbx)

	call := pbx.answeredCall(ctx)
	time.Sleep(500 * time.Millisecond)
	if err := call.AddParticipant(ctx, "1003"); err != nil {
		t.Fatal(err)
	}
	joined := pbx.waitEvent(ctx, "1003 joining", isEvent[calls.LegConnected]).Time()
	mustSucceed(t, "caller 1001 (hangs up after 6 s)", uac.Wait(ctx))
	left := pbx.waitEvent(ctx, "1001 leaving", isEvent[calls.LegLeft]).Time()
	time.Sleep(time.Second) // bob and carol go on without the caller
	if err := call.End(ctx); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, "1002", uasBob.Wait(ctx))
	mustSucceed(t, "1003", uasCarol.Wait(ctx))
	rec := pbx.nextCall(ctx)
	pkts, err := mediatest.ReadPcap(capture.Stop())
	if err != nil {
		t.Fatal(err)
	}

	from, to := joined.Add(500*time.Millisecond), left.Add(-300*time.Millisecond)
	if to.Sub(from) < 2*time.Second {
		t.Fatalf("three-party window only %s", to.Sub(from))
	}
	for _, p := range []struct {
		name string
		port int
		own  float64
	}{{"1001", aliceMedia, 440}, {"1002", bob.mediaPort, 700}, {"1003", carol.mediaPort, 1100}} {
		audio := audioTo(pkts, p.port, from, to)
		if len(audio) < 8000 {
			t.Errorf("%s heard %d samples in the conference", p.name, len(audio))
			continue
		}
		for _, f := range []float64{440, 700, 1100} {
			s := share(audio, f)
			if f == p.own && s > 0.02 {
				t.Errorf("%s hears its own %.0f Hz (%.2f of the energy)", p.name, f, s)
			}
			if f != p.own && s < 0.25 {
				t.Errorf("%s hears %.0f Hz at only %.2f of the energy", p.name, f, s)
			}
		}
	}
	// After the caller left, 1002 and 1003 still hear each other.
	bobAfter := audioTo(pkts, bob.mediaPort, left.Add(200*time.Millisecond), left.Add(900*time.Millisecond))
	if share(bobAfter, 1100) < 0.8 {
		t.Errorf("after the caller left, 1002 hears 1100 Hz at %.2f", share(bobAfter, 1100))
	}

	if rec.Recording == nil {
		t.Fatal("no recording in the call record")
	}
	a, err := wav.ReadFile(rec.Recording.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rec.Recording.Path, filepath.Join("recordings", time.Now().Format("2006/01/02"))) {
		t.Errorf("recording at %s", rec.Recording.Path)
	}
	if d := a.Duration() - rec.TalkDuration; d < -500*time.Millisecond || d > 500*time.Millisecond {
		t.Errorf("recording lasts %s, the call talked %s", a.Duration(), rec.TalkDuration)
	}
	left8k, right8k := a.Channels[0], a.Channels[1]
	if s := share(left8k, 440); s < 0.6 {
		t.Errorf("left (customer) channel: 440 Hz share %.2f", s)
	}
	if s := share(right8k, 700) + share(right8k, 1100); s < 0.6 || share(right8k, 440) > 0.05 {
		t.Errorf("right (agents) channel: 700+1100 Hz share %.2f, 440 Hz %.2f", s, share(right8k, 440))
	}
	if rec.Recording.Size < int64(a.Duration()/time.Second)*32000 {
		t.Errorf("recording size %d for %s", rec.Recording.Size, a.Duration())
	}
	if slices.IndexFunc(pbx.eventsOf(rec.ID), isEvent[calls.RecordingStarted]) < 0 {
		t.Error("no RecordingStarted event")
	}
}

// TestConsultTransfer: the agent (1002) consults 1003 through the API while
// the customer (1001) hears hold music, then completes: the customer talks
// to 1003.
func TestConsultTransfer(t *testing.T) {
	ctx := e2e(t, "sipp", "dumpcap")
	pbx := startPBX(t, pbxOptions{RTPPorts: "32400-32599", Calls: "ring_timeout: 2s"})
	bob, carol, aliceMedia, capture, uasBob, uasCarol, uac := threeParties(ctx, t, pbx)

	call := pbx.answeredCall(ctx)
	time.Sleep(500 * time.Millisecond)
	if err := call.StartConsult(ctx, "", "1003"); err != nil {
		t.Fatal(err)
	}
	consulted := pbx.waitEvent(ctx, "1003 answering", isEvent[calls.LegConnected]).Time()
	time.Sleep(1500 * time.Millisecond)
	if err := call.CompleteConsult(ctx); err != nil {
		t.Fatal(err)
	}
	completed := time.Now()
	mustSucceed(t, "1002 released by the transfer", uasBob.Wait(ctx))
	mustSucceed(t, "customer", uac.Wait(ctx))
	mustSucceed(t, "1003", uasCarol.Wait(ctx))
	rec := pbx.nextCall(ctx)
	pkts, err := mediatest.ReadPcap(capture.Stop())
	if err != nil {
		t.Fatal(err)
	}
	// consulting: the agent and 1003 hear each other; the customer hears music
	if s := share(audioTo(pkts, bob.mediaPort, consulted.Add(300*time.Millisecond), completed.Add(-200*time.Millisecond)), 1100); s < 0.8 {
		t.Errorf("consulting agent hears 1003 at %.2f", s)
	}
	held := audioTo(pkts, aliceMedia, consulted.Add(300*time.Millisecond), completed.Add(-200*time.Millisecond))
	assertMusic(t, "held customer", held)
	// completed: customer and 1003 talk
	after := completed.Add(500 * time.Millisecond)
	assertTone(t, "customer after the transfer", audioTo(pkts, aliceMedia, after, after.Add(2*time.Second)), 1100)
	assertTone(t, "1003 after the transfer", audioTo(pkts, carol.mediaPort, after, after.Add(2*time.Second)), 440)
	if len(rec.Transfers) != 1 || rec.Transfers[0].Outcome != "completed" || rec.Transfers[0].Kind != calls.TransferAttended {
		t.Errorf("transfers %+v", rec.Transfers)
	}
	if rec.HoldDuration < time.Second {
		t.Errorf("hold duration %s", rec.HoldDuration)
	}
}

// builtinMusic is the shipped hold music, 8 kHz.
func builtinMusic(t *testing.T) []int16 {
	t.Helper()
	pcm, err := configs.BuiltinHoldMusic()
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// assertMusic checks that audio is the shipped hold music: a 200 ms probe
// taken from its middle matches some stretch of the file (normalised
// correlation above 0.9; G.711 keeps it near 1), so it is neither silence
// nor another party.
func assertMusic(t *testing.T, who string, audio []int16) {
	t.Helper()
	const probe = 1600
	if len(audio) < 2*probe || mediatest.RMS(audio) < 0.01 {
		t.Errorf("%s: %d samples at RMS %.3f, want a second or more of music", who, len(audio), mediatest.RMS(audio))
		return
	}
	music := builtinMusic(t)
	x := audio[len(audio)/2 : len(audio)/2+probe]
	var xx float64
	for _, v := range x {
		xx += float64(v) * float64(v)
	}
	best := 0.0
	loop := append(append([]int16(nil), music...), music[:probe]...)
	for off := 0; off+probe <= len(loop); off++ {
		var xy, yy float64
		for i, v := range x {
			y := float64(loop[off+i])
			xy += float64(v) * y
			yy += y * y
		}
		if yy > 0 {
			best = max(best, xy/math.Sqrt(xx*yy))
		}
	}
	if best < 0.9 {
		t.Errorf("%s: best correlation with the hold music %.2f, want >= 0.9 (dominant %.0f Hz)",
			who, best, mediatest.DominantFrequency(audio, 8000))
	}
}

// TestDTMFEverySource: digits sent as RFC 4733 events, SIP INFO and in-band
// tones each reach Ringdesk once and in order; speech and hold music with
// in-band detection on give no digit.
func TestDTMFEverySource(t *testing.T) {
	ctx := e2e(t, "sipp")
	pbx := startPBX(t, pbxOptions{RTPPorts: "32600-32799", Calls: "inband_dtmf: always"})
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
	const all = "0123456789*#"

	digitsOf := func(id calls.CallID) (string, []string) {
		var s string
		var sources []string
		for _, e := range pbx.eventsOf(id) {
			if d, ok := e.(calls.DigitReceived); ok {
				s += string(rune(d.Digit))
				sources = append(sources, d.Source)
			}
		}
		return s, sources
	}
	run := func(name, scenario string, keys map[string]string, durMS int) calls.CallRecord {
		t.Helper()
		uas := bob.answer(t, "uas_answer_info.xml", 1, map[string]string{"pcap": peertest.WriteTonePcap(t, 0, 8*time.Second, media.PCMU, "")})
		r := peertest.SIPp{
			Scenario: scenario, Remote: pbx.sipAddr("udp").String(), IP: loopback, MediaIP: loopback,
			MediaPort: peertest.FreeRTPPort(t, loopback), Service: "1002", AuthUser: "1001", AuthPass: "alice-1001",
			Keys: keys, DurationMS: durMS, Timeout: 60 * time.Second,
		}.Start(t)
		mustSucceed(t, name, r.Wait(ctx))
		mustSucceed(t, name+" callee", uas.Wait(ctx))
		return pbx.nextCall(ctx)
	}

	silence := make([]int16, 4000)
	rfc := run("rfc4733", "uac_call.xml", map[string]string{
		"caller": "1001",
		"pcap":   peertest.WriteTonePcap(t, 0, 500*time.Millisecond, media.PCMU, all),
	}, 5000)
	if got, src := digitsOf(rfc.ID); got != all || slices.ContainsFunc(src, func(s string) bool { return s != "rfc4733" }) {
		t.Errorf("RFC 4733: digits %q from %v, want %q", got, src, all)
	}

	info := run("info", "uac_info_dtmf.xml", map[string]string{
		"caller": "1001",
		"pcap":   peertest.WriteTonePcap(t, 0, 6*time.Second, media.PCMU, ""),
	}, 1000)
	if got, src := digitsOf(info.ID); got != all || slices.ContainsFunc(src, func(s string) bool { return s != "info" }) {
		t.Errorf("INFO: digits %q from %v, want %q", got, src, all)
	}

	var tones []int16
	tones = append(tones, silence...)
	for _, d := range all {
		tones = append(tones, dtmf.Tone(dtmf.Digit(d), 8000, 100*time.Millisecond, 0.25)...)
		tones = append(tones, make([]int16, 800)...)
	}
	tones = append(tones, silence...)
	inband := run("in-band", "uac_call.xml", map[string]string{"caller": "1001", "pcap": writePcap(t, "inband", tones)}, len(tones)/8+500)
	if got, src := digitsOf(inband.ID); got != all || slices.ContainsFunc(src, func(s string) bool { return s != "inband" }) {
		t.Errorf("in-band: digits %q from %v, want %q", got, src, all)
	}

	musicPCM := builtinMusic(t)
	for name, pcm := range map[string][]int16{"speech": speech(t), "music": musicPCM[:min(len(musicPCM), 5*8000)]} {
		rec := run(name, "uac_call.xml", map[string]string{"caller": "1001", "pcap": writePcap(t, name, pcm)}, len(pcm)/8+500)
		if got, _ := digitsOf(rec.ID); got != "" {
			t.Errorf("%s produced digits %q", name, got)
		}
	}
}

func writePcap(t *testing.T, name string, pcm []int16) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".pcap")
	if err := mediatest.WriteRTPPcap(path, pcm, media.PCMU, "", 101); err != nil {
		t.Fatal(err)
	}
	return path
}

// speech is about ten seconds of synthetic speech (espeak-ng), at 8 kHz.
func speech(t *testing.T) []int16 {
	t.Helper()
	pcm, err := media.LoadAudio(peertest.WriteSpeechWAV(t, peertest.SpeechText))
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// eventTime waits for the n-th (1-based) event of type T and returns when it
// happened.
func eventTime[T calls.Event](ctx context.Context, t *testing.T, pbx *testPBX, n int) time.Time {
	t.Helper()
	seen := 0
	return pbx.waitEvent(ctx, fmt.Sprintf("event %d of %T", n, *new(T)), func(e calls.Event) bool {
		if _, ok := e.(T); ok {
			seen++
			return seen == n
		}
		return false
	}).Time()
}

// TestHoldMusicFromDeskPhone: baresip puts its call on hold with a
// re-INVITE (sendonly); the SIPp side hears the hold music instead of
// silence, and after the resume the tone again.
func TestHoldMusicFromDeskPhone(t *testing.T) {
	ctx := e2e(t, "sipp", "baresip", "dumpcap")
	pbx := startPBX(t, pbxOptions{RTPPorts: "32800-32999"})
	reg := pbx.sipAddr("udp").String()
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
	capture := peertest.StartCapture(t, fmt.Sprintf("udp and host 127.0.0.1 and port %d", bob.mediaPort))
	uas := bob.answer(t, "uas_answer.xml", 1, map[string]string{"pcap": peertest.WriteTonePcap(t, 700, 20*time.Second, media.PCMU, "")})
	alice := peertest.Baresip{
		IP: loopback, User: "1001", Password: "alice-1001", Registrar: reg,
		WAV: peertest.WriteToneWAV(t, 660, 40*time.Second),
	}.Start(t)
	if _, err := alice.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	if err := alice.Dial(ctx, "sip:1002@"+reg); err != nil {
		t.Fatal(err)
	}
	answered := eventTime[calls.CallAnswered](ctx, t, pbx, 1)
	time.Sleep(1500 * time.Millisecond)
	if err := alice.Hold(ctx); err != nil {
		t.Fatal(err)
	}
	held := eventTime[calls.CallHeld](ctx, t, pbx, 1)
	time.Sleep(2500 * time.Millisecond)
	if err := alice.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	resumed := eventTime[calls.CallResumed](ctx, t, pbx, 1)
	time.Sleep(2 * time.Second)
	if err := alice.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, "1002", uas.Wait(ctx))
	rec := pbx.nextCall(ctx)
	pkts, err := mediatest.ReadPcap(capture.Stop())
	if err != nil {
		t.Fatal(err)
	}
	assertTone(t, "1002 before the hold", audioTo(pkts, bob.mediaPort, answered.Add(300*time.Millisecond), held.Add(-100*time.Millisecond)), 660)
	assertMusic(t, "1002 on hold", audioTo(pkts, bob.mediaPort, held.Add(300*time.Millisecond), resumed.Add(-100*time.Millisecond)))
	assertTone(t, "1002 after the resume", audioTo(pkts, bob.mediaPort, resumed.Add(500*time.Millisecond), resumed.Add(1800*time.Millisecond)), 660)
	if rec.HoldDuration < 2*time.Second || rec.HoldDuration > 4*time.Second {
		t.Errorf("hold duration %s, want about 2.5 s", rec.HoldDuration)
	}
}

// TestBlindTransferByREFER: the agent's baresip (1002) transfers the
// customer (SIPp 1001) to 1003 with REFER. When 1003 answers, the customer
// talks to it and baresip is released. When 1003 does not answer, the
// customer is not lost: the agent's phone rings again and the customer
// talks to the agent.
func TestBlindTransferByREFER(t *testing.T) {
	for _, tc := range []struct {
		name     string
		scenario string // what 1003 does
		hears    float64
	}{
		{"answered", "uas_answer.xml", 1100},
		{"no answer", "uas_ring.xml", 700},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := e2e(t, "sipp", "baresip", "dumpcap")
			pbx := startPBX(t, pbxOptions{RTPPorts: "33000-33199", Calls: "ring_timeout: 3s"})
			reg := pbx.sipAddr("udp").String()
			carol := newSIPpUser(t, "1003", "carol-1003")
			mustSucceed(t, "register 1003", carol.register(ctx, t, pbx, 300))
			bob := peertest.Baresip{
				IP: loopback, User: "1002", Password: "bob-1002", Registrar: reg,
				WAV: peertest.WriteToneWAV(t, 700, 60*time.Second),
			}.Start(t)
			if _, err := bob.WaitRegistered(ctx); err != nil {
				t.Fatal(err)
			}
			aliceMedia := peertest.FreeRTPPort(t, loopback)
			capture := peertest.StartCapture(t, fmt.Sprintf("udp and host 127.0.0.1 and (port %d or port %d)", aliceMedia, carol.mediaPort))
			uasCarol := carol.answer(t, tc.scenario, 1, map[string]string{"pcap": peertest.WriteTonePcap(t, 1100, 20*time.Second, media.PCMU, "")})
			uac := dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "1002", aliceMedia,
				map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 20*time.Second, media.PCMU, "")}, 12000)
			eventTime[calls.CallAnswered](ctx, t, pbx, 1)
			time.Sleep(time.Second)
			if err := bob.Transfer(ctx, "sip:1003@"+reg); err != nil {
				t.Fatal(err)
			}
			ended := pbx.waitEvent(ctx, "the transfer's end", isEvent[calls.TransferEnded]).(calls.TransferEnded)
			var after time.Time
			if tc.hears == 1100 {
				if ended.Transfer.Outcome != "completed" {
					t.Fatalf("transfer %+v", ended.Transfer)
				}
				after = ended.Time()
			} else {
				if ended.Transfer.Outcome != "failed" {
					t.Fatalf("transfer %+v", ended.Transfer)
				}
				// baresip hangs up on the failure NOTIFY; its phone rings
				// again (auto answer) and takes the customer back
				after = eventTime[calls.LegConnected](ctx, t, pbx, 1)
			}
			mustSucceed(t, "customer", uac.Wait(ctx))
			_ = uasCarol.Wait(ctx)
			rec := pbx.nextCall(ctx)
			pkts, err := mediatest.ReadPcap(capture.Stop())
			if err != nil {
				t.Fatal(err)
			}
			from := after.Add(700 * time.Millisecond)
			assertTone(t, "customer after the transfer", audioTo(pkts, aliceMedia, from, from.Add(2*time.Second)), tc.hears)
			if tc.hears == 1100 {
				assertTone(t, "1003 after the transfer", audioTo(pkts, carol.mediaPort, from, from.Add(2*time.Second)), 440)
			}
			if len(rec.Transfers) != 1 || rec.Transfers[0].Kind != calls.TransferBlind {
				t.Errorf("transfers %+v", rec.Transfers)
			}
		})
	}
}
