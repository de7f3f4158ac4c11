package main

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/media/wav"
)

// The dialplan end to end: callers from a trunk (SIPp as the provider) and
// from extensions reach numbers of dialplan.yaml, hear its messages, press
// keys, wait in queues and reach agents' desk phones (baresip), or leave
// voicemail. RTP ports 36000-37999.

// sound is the path of one of the shipped sounds (configs/sounds).
func sound(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "configs", "sounds", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// soundPCM reads a shipped sound as 8 kHz PCM.
func soundPCM(t *testing.T, name string) []int16 {
	t.Helper()
	a, err := wav.ReadFile(sound(t, name))
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := a.To8k()
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// matchScore says how well want appears in heard: the best normalised
// correlation of want's first second (or all of it, when shorter) with
// heard, over every offset. 1 is a perfect match; G.711 keeps it above 0.9;
// unrelated audio stays near 0.
func matchScore(heard, want []int16) float64 {
	n := min(len(want), 8000)
	if n == 0 || len(heard) < n {
		return 0
	}
	w := want[:n]
	var ww float64
	for _, v := range w {
		ww += float64(v) * float64(v)
	}
	best := 0.0
	for off := 0; off+n <= len(heard); off++ {
		var hw, hh float64
		for i, v := range w {
			h := float64(heard[off+i])
			hw += h * float64(v)
			hh += h * h
		}
		if hh == 0 {
			continue
		}
		if s := hw / math.Sqrt(hh*ww); s > best {
			best = s
		}
	}
	return best
}

// assertHeardPrompt checks that audio holds the prompt of a shipped sound.
func assertHeardPrompt(t *testing.T, who string, audio []int16, name string) {
	t.Helper()
	if s := matchScore(audio, soundPCM(t, name)); s < 0.8 {
		t.Errorf("%s did not hear %s: best match %.2f of %d samples, want at least 0.8", who, name, s, len(audio))
	}
}

// digitPcap is a capture for uac_ivr.xml that presses digit after lead of
// silence: by RFC 4733 events, or in-band as tones in the audio.
func digitPcap(t *testing.T, digit string, lead time.Duration, inband bool) string {
	t.Helper()
	samples, events := mediatest.Silence(8000, lead), digit
	if inband {
		tones, err := peertest.InbandDTMF(digit)
		if err != nil {
			t.Fatal(err)
		}
		samples, events = append(samples, tones...), ""
	}
	kind := map[bool]string{false: "rfc4733", true: "inband"}[inband]
	path := filepath.Join(t.TempDir(), fmt.Sprintf("press-%s-%s.pcap", digit, kind))
	if err := mediatest.WriteRTPPcap(path, samples, media.PCMU, events, peertest.DTMFPayloadType); err != nil {
		t.Fatal(err)
	}
	return path
}

// ivrPlan is the dialplan of the menu test: a DID with a welcome, a main
// menu whose 2 leads to the Support menu, whose 1 (Billing) is a queue of bob.
func ivrPlan(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf(`
messages:
  welcome: {file: %[1]s}
  on_hold: {file: %[2]s}
  all_busy: {file: %[3]s}
  agent_unavailable: {file: %[4]s}
  after_hours: {file: %[5]s}
numbers:
  "+351210000000":
    description: Support line
    department: Support
    action: menu main
menus:
  main:
    name: Main
    prompt: {file: %[6]s}
    timeout: 10s
    options:
      1: {name: Sales, action: hangup}
      2: {name: Support, action: menu support}
  support:
    name: Support
    prompt: {file: %[7]s}
    timeout: 10s
    options:
      1: {name: Billing, action: queue billing, department: Billing}
      "*": {name: Back, action: back}
queues:
  billing:
    agents: [bob]
    ring_interval: 20s
voicemail:
  general:
    max_length: 30s
`, sound(t, "welcome.wav"), sound(t, "on-hold.wav"), sound(t, "all-busy.wav"), sound(t, "unavailable.wav"),
		sound(t, "after-hours.wav"), sound(t, "menu-main.wav"), sound(t, "menu-billing.wav"))
}

// TestIVRMenuToQueue: a caller from the phone network reaches the DID,
// hears the welcome message, presses 2 (RFC 4733) and then 1 (in-band
// DTMF), reaches the Billing queue, and bob's desk phone (baresip) rings
// and answers; they hear each other; the menu path is "Support > Billing".
func TestIVRMenuToQueue(t *testing.T) {
	ctx := e2e(t, "sipp", "baresip", "dumpcap")
	top := "trunks:\n" + trunkYAML("provider", providerIP, 5060, "")
	pbx := startPBX(t, pbxOptions{RTPPorts: "36000-36199", Top: top, Calls: "inband_dtmf: always", Dialplan: ivrPlan(t)})
	reg := pbx.sipAddr("udp").String()
	bob := peertest.Baresip{
		IP: loopback, User: "1002", Password: "bob-1002", Registrar: reg,
		WAV: peertest.WriteToneWAV(t, 700, 60*time.Second),
	}.Start(t)
	if _, err := bob.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}

	media0 := peertest.FreeRTPPort(t, providerIP)
	capture := peertest.StartCapture(t, fmt.Sprintf("udp and host %s and port %d", providerIP, media0))
	uac := peertest.SIPp{
		Scenario: "uac_ivr.xml", Remote: reg, IP: providerIP, MediaIP: providerIP,
		MediaPort: media0, Service: "210000000", DurationMS: 5000, Timeout: 60 * time.Second,
		Keys: map[string]string{
			"caller": "+351912345678",
			"pcap":   digitPcap(t, "2", 3*time.Second, false),
			"pcap2":  digitPcap(t, "1", 500*time.Millisecond, true),
			"pcap3":  peertest.WriteTonePcap(t, 440, 20*time.Second, media.PCMU, ""),
		},
	}.Start(t)
	routed := pbx.waitEvent(ctx, "the call routed", isEvent[calls.CallRouted]).Time()
	answered := pbx.waitEvent(ctx, "bob's answer", isEvent[calls.CallAnswered]).Time()
	mustSucceed(t, "caller", uac.Wait(ctx))
	rec := pbx.nextCall(ctx)

	var path []string
	for _, e := range pbx.eventsOf(rec.ID) {
		if m, ok := e.(calls.MenuSelected); ok {
			path = append(path, fmt.Sprintf("%s:%c:%s", m.Menu, m.Digit, m.Path))
		}
	}
	if want := []string{"Main:2:Support", "Support:1:Support > Billing"}; strings.Join(path, ",") != strings.Join(want, ",") {
		t.Errorf("menu selections %q, want %q", path, want)
	}
	if rec.Route == nil || rec.Route.MenuPath != "Support > Billing" || rec.Route.Queue != "billing" || rec.Route.Department != "Billing" {
		t.Errorf("route record %+v", rec.Route)
	}
	var answeredBy calls.LegRecord
	for _, l := range rec.Legs {
		if l.ID == rec.AnsweredBy {
			answeredBy = l
		}
	}
	if answeredBy.Party.AgentID != "bob" || answeredBy.Party.Extension != "1002" {
		t.Errorf("answered by %+v, want bob at 1002", answeredBy.Party)
	}

	pkts, err := mediatest.ReadPcap(capture.Stop())
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.AddrPortFrom(netip.MustParseAddr(providerIP), uint16(media0)) //nolint:gosec // a port
	assertHeardPrompt(t, "the caller", audioAt(pkts, dst, routed, routed.Add(4*time.Second)), "welcome.wav")
	assertTone(t, "the caller, once bob answered", audioAt(pkts, dst, answered.Add(500*time.Millisecond), time.Now()), 700)
	assertBaresipHeard(ctx, t, "bob", bob, 440)
}

// TestAfterHoursVoicemail: outside business hours (today is a closed day)
// the caller hears the after-hours message and leaves a voicemail, whose
// WAV holds the caller's tone.
func TestAfterHoursVoicemail(t *testing.T) {
	ctx := e2e(t, "sipp", "dumpcap")
	today := time.Now().UTC().Format(time.DateOnly)
	plan := fmt.Sprintf(`
messages:
  after_hours: {file: %[1]s}
hours:
  office:
    time_zone: UTC
    open:
      daily: 00:00-24:00
    closed: [%[2]s]
numbers:
  "500":
    description: Support line
    department: Support
    hours: office
    action: hangup
    after_hours: voicemail support
voicemail:
  support:
    max_length: 20s
    department: Support
`, sound(t, "after-hours.wav"), today)
	pbx := startPBX(t, pbxOptions{RTPPorts: "36200-36399", Dialplan: plan})
	media0 := peertest.FreeRTPPort(t, loopback)
	capture := peertest.StartCapture(t, fmt.Sprintf("udp and host %s and port %d", loopback, media0))
	uac := dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "500", media0,
		map[string]string{"pcap": peertest.WriteTonePcap(t, 900, 30*time.Second, media.PCMU, "")}, 14000)
	routed := pbx.waitEvent(ctx, "the call routed", isEvent[calls.CallRouted])
	if r := routed.(calls.CallRouted); r.Open || r.Number != "500" {
		t.Errorf("routed %+v, want number 500 closed", r)
	}
	mustSucceed(t, "caller", uac.Wait(ctx))
	rec := pbx.nextCall(ctx)
	vmEv := pbx.waitEvent(ctx, "the voicemail", isEvent[calls.VoicemailLeft]).(calls.VoicemailLeft)
	vm := vmEv.Voicemail
	if vm.Box != "support" || vm.Department != "Support" {
		t.Errorf("voicemail %+v", vm)
	}
	if rec.Route == nil || rec.Route.Voicemail == nil || rec.Route.Voicemail.Path != vm.Path || rec.Route.Open {
		t.Errorf("route record %+v", rec.Route)
	}
	if !strings.HasPrefix(vm.Path, filepath.Join(pbx.dataDir, "voicemail")) {
		t.Errorf("voicemail at %s, want it under the data directory", vm.Path)
	}
	left, _, nch, err := mediatest.ReadWAV(vm.Path)
	if err != nil {
		t.Fatal(err)
	}
	if nch != 1 {
		t.Errorf("the voicemail has %d channels, want mono (the caller only)", nch)
	}
	if d := time.Duration(len(left)) * time.Second / 8000; d < time.Second {
		t.Errorf("voicemail holds %s of audio", d)
	}
	assertTone(t, "the voicemail", mediatest.Trim(left, 8000, 0.02), 900)

	pkts, err := mediatest.ReadPcap(capture.Stop())
	if err != nil {
		t.Fatal(err)
	}
	at := routed.Time()
	assertHeardPrompt(t, "the caller", audioTo(pkts, media0, at, at.Add(4*time.Second)), "after-hours.wav")
	if _, err := os.Stat(vm.Path); err != nil {
		t.Error(err)
	}
}

// TestDialplanReload: during a call through the dialplan, a reload with a
// broken dialplan is refused (its problems logged with file:line:col, also
// printed by `ringdesk reload`) and the old plan keeps serving; a reload
// with a good one swaps the plan for new calls while the call in progress
// goes on to its normal end.
func TestDialplanReload(t *testing.T) {
	ctx := e2e(t, "sipp", "baresip")
	v1 := `
numbers:
  "500": {description: old, action: ring team}
ring_groups:
  team: {agents: [bob], ring_interval: 10s}
`
	pbx := startPBX(t, pbxOptions{RTPPorts: "36800-36999", Dialplan: v1})
	bob := peertest.Baresip{
		IP: loopback, User: "1002", Password: "bob-1002", Registrar: pbx.sipAddr("udp").String(),
		WAV: peertest.WriteToneWAV(t, 700, 60*time.Second),
	}.Start(t)
	if _, err := bob.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	uac := dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "500", peertest.FreeRTPPort(t, loopback),
		map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 20*time.Second, media.PCMU, "")}, 8000)
	pbx.waitEvent(ctx, "bob's answer", isEvent[calls.CallAnswered])
	old := pbx.app.sw.Plan()

	planPath := filepath.Join(pbx.dataDir, "dialplan.yaml")
	writeFile(t, planPath, "numbers:\n  \"501\": {action: queue nowhere}\n")
	code, _, errOut := runCmd(t, "reload", "-data-dir", pbx.dataDir)
	if code != 1 || !strings.Contains(errOut, "dialplan.yaml:2:") || !strings.Contains(errOut, "nowhere") {
		t.Errorf("ringdesk reload of a broken plan: exit %d, %q; want 1 and the problem at dialplan.yaml:2", code, errOut)
	}
	if pbx.app.sw.Plan() != old {
		t.Error("a broken dialplan replaced the plan")
	}
	if !strings.Contains(pbx.logBuf.String(), "reload refused") {
		t.Error("the refused reload was not logged")
	}

	writeFile(t, planPath, `
numbers:
  "501": {description: new, action: ring team}
ring_groups:
  team: {agents: [bob], ring_interval: 10s}
`)
	if err := pbx.app.reload(); err != nil {
		t.Fatalf("reload of a good plan: %v", err)
	}
	if pbx.app.sw.Plan() == old {
		t.Error("the good plan did not replace the old one")
	}
	mustSucceed(t, "the call during the reloads", uac.Wait(ctx))
	rec := pbx.nextCall(ctx)
	if rec.Cause != calls.CauseNormal || rec.HungUpBy != calls.RoleCaller || rec.TalkDuration < 6*time.Second {
		t.Errorf("the call during the reloads ended %s by %s after %s of talk; want the caller's normal hang-up after ~8 s",
			rec.Cause, rec.HungUpBy, rec.TalkDuration)
	}

	gone := dial(t, pbx, "uac_fail.xml", "1001", "alice-1001", "500", 0, nil, 0).Wait(ctx)
	mustSucceed(t, "calling the removed number", gone)
	if c := finalStatus(gone); c != 404 {
		t.Errorf("the removed number answered %d, want 404", c)
	}
	pbx.nextCall(ctx) // the call to the removed number
	uac = dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "501", peertest.FreeRTPPort(t, loopback),
		map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 10*time.Second, media.PCMU, "")}, 2000)
	mustSucceed(t, "calling the new number", uac.Wait(ctx))
	if rec := pbx.nextCall(ctx); rec.Route == nil || rec.Route.Number != "501" || answeredAgent(rec) != "bob" {
		t.Errorf("the new number: route %+v, answered by %q", rec.Route, answeredAgent(rec))
	}
}
