package calls_test

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/acd"
	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// The dialplan's flow on a call, with siptest phones: menus (invalid
// keys, back, the menu path), no input falling through to voicemail, and
// a queue whose wait runs out.

const flowPlan = `
messages:
  welcome: "Welcome."
  all_busy: "Everyone is busy."
numbers:
  "500": {description: menus, action: menu main}
  "501": {description: queue, action: queue q}
menus:
  main:
    name: Main
    timeout: 1s
    retries: 1
    invalid: "That is not an option."
    no_input: voicemail box
    options:
      1: {name: Support, action: menu support, department: Help}
  support:
    name: Support menu
    timeout: 1s
    options:
      2: {name: Bob, action: extension 1002}
      "*": {name: Back, action: back}
queues:
  q:
    agents: [agent-carol]
    max_wait: 2s
    announce_every: 0
    fallback: voicemail box
voicemail:
  box: {max_length: 5s, department: Help}
`

// flowCall dials number from 1001 and returns the call, the caller's RTP
// peer and a stream towards Ringdesk (PCMU, telephone-event 101).
func flowCall(t *testing.T, h *harness, number string) (*siptest.Call, *rtpPeer, *stream) {
	t.Helper()
	alice := h.register(t, "1001")
	rtpPeer := newRTPPeer(t, "alice")
	call := dial(t, alice, number, rtpPeer.SDP())
	code, body := waitFinal(t, call)
	if code != 200 {
		t.Fatalf("%s answered %d, want 200 from Ringdesk", number, code)
	}
	m := ringdeskMedia(t, body)
	return call, rtpPeer, rtpPeer.newStream(netip.AddrPortFrom(m.Addr, m.Port), 0, 0x1234)
}

// TestFlowMenus: an invalid key gets the invalid message and the menu
// again; 1 enters Support, * goes back, 1 again and 2 rings bob; the path
// is "Support > Bob" and the department the option's.
func TestFlowMenus(t *testing.T) {
	h := newHarness(t, withCalls(func(c *calls.Config) { c.Plan = testPlan(t, flowPlan) }))
	bobRTP := newRTPPeer(t, "bob")
	h.register(t, "1002", answer(siptest.AnswerWith(bobRTP.SDP())))
	call, callerRTP, up := flowCall(t, h, "500")
	routed := waitEvent[calls.CallRouted](t, h.Obs, nil)
	if routed.Number != "500" || !routed.Open {
		t.Errorf("routed %+v", routed)
	}
	// the welcome (300 ms of the prompt tone) plays first
	callerRTP.waitPackets(t, 10, withPT(0))
	for _, d := range []byte{7, 1, 10, 1, 2} { // 10 is * (RFC 4733)
		up.fill(t, 0xFF, 30) // 600 ms: the prompt plays meanwhile
		up.dtmf(t, 101, d)
	}
	answered := waitEvent[calls.CallAnswered](t, h.Obs, nil)
	if answered.Leg.Party.Extension != "1002" {
		t.Errorf("answered by %+v, want 1002", answered.Leg.Party)
	}
	var paths []string
	for _, e := range h.Obs.all() {
		if m, ok := e.(calls.MenuSelected); ok {
			paths = append(paths, m.Path)
		}
	}
	if got := strings.Join(paths, ","); got != "Support,Support,Support > Bob" {
		t.Errorf("menu paths %q, want Support, Support (after back), Support > Bob", got)
	}
	if _, err := call.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	rec := h.ended(t)
	if rec.Route == nil || rec.Route.MenuPath != "Support > Bob" || rec.Route.Department != "Help" {
		t.Errorf("route %+v", rec.Route)
	}
}

// TestFlowNoInputVoicemail: nobody presses anything; after the menu and
// its retry time out, no_input sends the caller to voicemail, which records
// the caller's tone until # .
func TestFlowNoInputVoicemail(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, withCalls(func(c *calls.Config) {
		c.Plan = testPlan(t, flowPlan)
		c.VoicemailDir = dir
	}))
	call, _, up := flowCall(t, h, "500")
	failed := waitEvent[calls.MenuFailed](t, h.Obs, nil)
	if !failed.NoInput || failed.Menu != "Main" {
		t.Errorf("menu failed %+v, want Main with no input", failed)
	}
	// the beep, then the message: 1.5 s of 900 Hz, then #
	time.Sleep(700 * time.Millisecond)
	for range 75 { // paced as a phone sends it
		up.tone(t, media.PCMU, 900, 1)
		time.Sleep(20 * time.Millisecond)
	}
	up.dtmf(t, 101, 11) // #
	vm := waitEvent[calls.VoicemailLeft](t, h.Obs, nil).Voicemail
	if vm.Box != "box" || vm.Department != "Help" || !strings.HasPrefix(vm.Path, dir) {
		t.Errorf("voicemail %+v", vm)
	}
	left, _, _, err := mediatest.ReadWAV(vm.Path)
	if err != nil {
		t.Fatal(err)
	}
	if s := toneShare(left, 900); s < 0.5 {
		t.Errorf("the voicemail holds %.2f of its energy at 900 Hz", s)
	}
	waitBye(t, "the caller", call)
	if _, err := os.Stat(vm.Path); err != nil {
		t.Error(err)
	}
	h.ended(t)
}

// TestFlowQueueTimeout: the queue's only agent is offline; after max_wait
// the caller leaves the queue (timeout), hears All agents busy and goes to
// the fallback.
func TestFlowQueueTimeout(t *testing.T) {
	h := newHarness(t, withCalls(func(c *calls.Config) {
		c.Plan = testPlan(t, flowPlan)
		c.VoicemailDir = t.TempDir()
	}))
	if err := h.Switch.Agents().SetStatus("agent-carol", 0); err != nil { // offline
		t.Fatal(err)
	}
	call, _, _ := flowCall(t, h, "501")
	joined := waitEvent[calls.QueueJoined](t, h.Obs, nil)
	if joined.Queue != "q" || joined.Position != 1 {
		t.Errorf("joined %+v", joined)
	}
	left := waitEvent[calls.QueueLeft](t, h.Obs, nil)
	if left.Reason != calls.QueueTimeout || left.Waited < 2*time.Second {
		t.Errorf("left %+v, want timeout after 2 s", left)
	}
	if _, err := call.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	rec := h.ended(t)
	if rec.Route == nil || rec.Route.Queue != "q" || rec.Route.QueueWait < 2*time.Second {
		t.Errorf("route %+v", rec.Route)
	}
}

// TestFlowForwarding: bob forwards every call to his mobile, so a ring
// group of bob calls the mobile through the trunk; with forwarding on no
// answer, bob's desk phone rings first for the ring interval and then the
// mobile.
func TestFlowForwarding(t *testing.T) {
	r := newTrunkRig(t, 1, func(c *calls.Config) {
		c.Plan = testPlan(t, `
numbers:
  "600": {action: ring team}
ring_groups:
  team: {agents: [agent-bob], ring_interval: 5s}
`)
	})
	h := r.h
	mobile := r.providers[0]
	desk := h.register(t, "1002", answer(siptest.Manual))
	pool := h.Switch.Agents()

	if err := pool.SetForward("agent-bob", acd.Forward{Number: "+351912345678", When: acd.ForwardAlways}); err != nil {
		t.Fatal(err)
	}
	call, _, _ := flowCall(t, h, "600")
	ic := incoming(t, mobile)
	if !strings.HasPrefix(ic.Request.RequestURI, "sip:351912345678@") {
		t.Errorf("the trunk was asked for %s, want bob's mobile", ic.Request.RequestURI)
	}
	noIncoming(t, desk)
	respond(t, ic, 200, newRTPPeer(t, "mobile").SDP())
	answered := waitEvent[calls.CallAnswered](t, h.Obs, nil)
	if answered.Leg.Party.AgentID != "agent-bob" || answered.Leg.Party.Trunk != "first" {
		t.Errorf("answered by %+v, want bob through the trunk", answered.Leg.Party)
	}
	if _, err := call.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitBye(t, "the mobile", ic)
	h.ended(t)

	if err := pool.SetForward("agent-bob", acd.Forward{Number: "+351912345678", When: acd.ForwardNoAnswer}); err != nil {
		t.Fatal(err)
	}
	call, _, _ = flowCall(t, h, "600")
	deskCall := incoming(t, desk)
	respond(t, deskCall, 180, nil)
	ic = mobile.WaitIncoming(t, 2*waitFor) // after bob's desk phone rang out (5 s)
	waitCancel(t, deskCall)
	// while his mobile rings, bob is still reserved for this call: no
	// other call may ring his desk phone
	if st, _ := pool.Agent("agent-bob"); st.Ringing == "" || st.Available {
		t.Errorf("bob while his mobile rings: ringing for %q, available %t; want reserved", st.Ringing, st.Available)
	}
	respond(t, ic, 200, newRTPPeer(t, "mobile").SDP())
	waitNth[calls.CallAnswered](t, h.Obs, 2)
	if _, err := call.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	waitBye(t, "the mobile", ic)
	rec := waitNth[calls.CallEnded](t, h.Obs, 2)[1].Record
	var rangOut bool
	for _, e := range h.Obs.forCall(rec.ID) {
		if le, ok := e.(calls.LegEnded); ok && le.Leg.Party.Extension == "1002" && le.RangOut {
			rangOut = true
		}
	}
	if !rangOut {
		t.Errorf("bob's desk phone is not reported as rung out: %v", eventNames(h.Obs.forCall(rec.ID)))
	}
}

// TestFlowQueueAnnouncements: a caller waiting in a queue hears the hold
// music, and every announce_every the on-hold message and their position
// (spoken text, here the test plan's prompt tone), then the music again.
func TestFlowQueueAnnouncements(t *testing.T) {
	plan := testPlan(t, `
messages:
  on_hold: "Please hold."
numbers:
  "502": {action: queue q}
queues:
  q:
    agents: [agent-carol]
    announce_every: 10s
    announce_position: true
`)
	h := newHarness(t, withCalls(func(c *calls.Config) { c.Plan = plan }))
	if err := h.Switch.Agents().SetStatus("agent-carol", acd.Offline); err != nil {
		t.Fatal(err)
	}
	call, callerRTP, _ := flowCall(t, h, "502")
	joined := waitEvent[calls.QueueJoined](t, h.Obs, nil)
	time.Sleep(time.Until(joined.At.Add(3 * time.Second)))
	music := heardBetween(callerRTP, joined.At.Add(time.Second), joined.At.Add(3*time.Second))
	if s := toneShare(music, planPromptHz); s > 0.1 || mediatest.RMS(music) < 0.01 {
		t.Errorf("before the first announcement the caller hears %.2f of the prompt tone at RMS %.3f; want music",
			s, mediatest.RMS(music))
	}
	time.Sleep(time.Until(joined.At.Add(11 * time.Second)))
	// on hold (300 ms) and position (300 ms), 10 s after joining
	hearsTone(t, "the caller at the announcement", heardBetween(callerRTP, joined.At.Add(10*time.Second), joined.At.Add(10700*time.Millisecond)), planPromptHz)
	if _, err := call.Bye(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	left := waitEvent[calls.QueueLeft](t, h.Obs, nil)
	if left.Reason != calls.QueueAbandoned || left.Waited < 10*time.Second {
		t.Errorf("left %+v, want abandoned after 11 s", left)
	}
	h.ended(t)
}
