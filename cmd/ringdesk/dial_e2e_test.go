package main

// Tests of `ringdesk dial`: end to end against a Ringdesk in this process
// with a SIPp extension answering, and the printing of the call record.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/internal/dialer"
	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// TestDialExtension: `ringdesk dial` as 1001 (digest) calls extension 1002,
// a SIPp that answers with a 700 Hz tone. The dial exits 0 and says so,
// its recording holds the tone, and the digit it sent reached Ringdesk.
func TestDialExtension(t *testing.T) {
	ctx := e2e(t, "sipp")
	pbx := startPBX(t, pbxOptions{RTPPorts: "37000-37199"})
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
	uas := bob.answer(t, "uas_answer.xml", 1, map[string]string{
		"pcap": peertest.WriteTonePcap(t, 700, 6*time.Second, media.PCMU, ""),
	})

	out := filepath.Join(t.TempDir(), "heard.wav")
	var stdout, stderr bytes.Buffer
	code := run([]string{
		"dial", "-server", pbx.sipAddr("udp").String(), "-user", "1001", "-password", "alice-1001",
		"-tone", "440", "-digits", "5@1s", "-record", out, "-duration", "3s", "-data-dir", pbx.dataDir, "1002",
	}, &stdout, &stderr)
	t.Logf("ringdesk dial:\n%s%s", stdout.String(), stderr.String())
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	for _, want := range []string{
		"dialing 1002 at " + pbx.sipAddr("udp").String() + " (udp)\n",
		"authenticating as 1001 after",
		"answered after ",
		"sent digit 5 at 1.0",
		"hung up after 3.0s (we hung up)\n",
		"recorded to " + out,
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}

	heard, rate, channels, err := mediatest.ReadWAV(out)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 || channels != 1 {
		t.Errorf("recording is %d Hz with %d channels, want 8000 Hz mono", rate, channels)
	}
	assertTone(t, "ringdesk dial", mediatest.Trim(heard, 8000, 0.02), 700)

	e := pbx.waitEvent(ctx, "digit 5", func(e calls.Event) bool {
		d, ok := e.(calls.DigitReceived)
		return ok && d.Digit == '5'
	})
	if d := e.(calls.DigitReceived); d.Source != "rfc4733" {
		t.Errorf("digit 5 arrived as %q, want rfc4733", d.Source)
	}
	mustSucceed(t, "callee 1002", uas.Wait(ctx))
	rec := pbx.nextCall(ctx)
	if rec.Status != 200 || rec.HungUpBy != calls.RoleCaller || rec.Caller.Extension != "1001" {
		t.Errorf("call record: status %d, hung up by %s, caller %+v", rec.Status, rec.HungUpBy, rec.Caller)
	}
	// The call's record, from the status socket.
	for _, want := range []string{"ringdesk call " + string(rec.ID) + ": normal, hung up by caller\n", "answered by agent bob (1002) after "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestDialMenuToQueue: `ringdesk dial` calls a dialplan number, presses 2
// and 1 through two menus (barging in on their prompts) and reaches the
// Billing queue, where bob (a SIPp) answers with a 700 Hz tone. The call's
// record shows the menu path, the queue and bob.
func TestDialMenuToQueue(t *testing.T) {
	ctx := e2e(t, "sipp")
	plan := fmt.Sprintf(`
messages:
  on_hold: {file: %[1]s}
  all_busy: {file: %[2]s}
  agent_unavailable: {file: %[3]s}
numbers:
  "500":
    description: Support line
    department: Support
    action: menu main
menus:
  main:
    name: Main
    prompt: {file: %[4]s}
    timeout: 10s
    options:
      2: {name: Support, action: menu support}
  support:
    name: Support
    prompt: {file: %[5]s}
    timeout: 10s
    options:
      1: {name: Billing, action: queue billing, department: Billing}
queues:
  billing:
    agents: [bob]
    ring_interval: 20s
`, sound(t, "on-hold.wav"), sound(t, "all-busy.wav"), sound(t, "unavailable.wav"), sound(t, "menu-main.wav"), sound(t, "menu-billing.wav"))
	pbx := startPBX(t, pbxOptions{RTPPorts: "37000-37199", Dialplan: plan})
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
	uas := bob.answer(t, "uas_answer.xml", 1, map[string]string{
		"pcap": peertest.WriteTonePcap(t, 700, 10*time.Second, media.PCMU, ""),
	})

	out := filepath.Join(t.TempDir(), "heard.wav")
	var stdout, stderr bytes.Buffer
	code := run([]string{
		"dial", "-server", pbx.sipAddr("udp").String(), "-user", "1001", "-password", "alice-1001",
		"-digits", "2@1s,1@2.5s", "-record", out, "-duration", "7s", "-data-dir", pbx.dataDir, "500",
	}, &stdout, &stderr)
	t.Logf("ringdesk dial:\n%s%s", stdout.String(), stderr.String())
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	mustSucceed(t, "bob", uas.Wait(ctx))
	rec := pbx.nextCall(ctx)
	if rec.Route == nil || rec.Route.MenuPath != "Support > Billing" || answeredAgent(rec) != "bob" {
		t.Fatalf("route %+v, answered by %q", rec.Route, answeredAgent(rec))
	}
	for _, want := range []string{
		"sent digit 2 at 1.0", "sent digit 1 at 2.5",
		"ringdesk call " + string(rec.ID) + ": normal, hung up by caller\n",
		"answered by agent bob (1002) after ",
		"department: Billing\n",
		"menu path: Support > Billing\n",
		"queue: billing, waited ",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// What dial heard ends with bob's tone.
	heard, _, _, err := mediatest.ReadWAV(out)
	if err != nil {
		t.Fatal(err)
	}
	heard = mediatest.Trim(heard, 8000, 0.02)
	if len(heard) < 3*8000 {
		t.Fatalf("recording of %d samples", len(heard))
	}
	assertTone(t, "ringdesk dial, once bob answered", heard[len(heard)-2*8000:], 700)
}

// TestDialUnregistered: calling an extension nobody registered fails: exit
// 1, and the JSON summary has the final status.
func TestDialUnregistered(t *testing.T) {
	_ = e2e(t)
	pbx := startPBX(t, pbxOptions{RTPPorts: "37000-37199"})
	var stdout, stderr bytes.Buffer
	code := run([]string{
		"dial", "-server", pbx.sipAddr("udp").String(), "-user", "1001", "-password", "alice-1001",
		"-json", "-timeout", "10s", "-data-dir", t.TempDir(), "1003",
	}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout.String(), stderr.String())
	}
	var out struct {
		Call dialer.Result `json:"call"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("JSON summary: %v\n%s", err, stdout.String())
	}
	if out.Call.Answered || out.Call.Status < 400 || out.Call.Outcome != dialer.OutcomeRejected || out.Call.SIPCallID == "" {
		t.Errorf("summary: answered %v status %d outcome %s call-id %q", out.Call.Answered, out.Call.Status, out.Call.Outcome, out.Call.SIPCallID)
	}
}

// TestDialUsage: bad flags and arguments exit 2 with a message.
func TestDialUsage(t *testing.T) {
	for _, args := range [][]string{
		{"dial"},
		{"dial", "-digits", "5@soon", "500"},
		{"dial", "-dtmf", "smoke", "500"},
		{"dial", "-transport", "sctp", "500"},
		{"dial", "-bind", "0.0.0.0", "500"},
		{"dial", "-play", "x.wav", "-tone", "440", "500"},
		{"dial", "-play", filepath.Join(t.TempDir(), "missing.wav"), "500"},
		{"dial", "-password", "pw", "500"},
		{"dial", "500", "600"},
		{"dial", "-duration", "0s", "500"},
		{"dial", "-nope", "500"},
	} {
		code, _, errOut := runCmd(t, args...)
		if code != 2 || !strings.Contains(errOut, "ringdesk dial") && !strings.Contains(errOut, "flag provided but not defined") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
	if code, _, errOut := runCmd(t, "dial", "-h"); code != 0 || !strings.Contains(errOut, "Usage: ringdesk dial [flags] TARGET") {
		t.Errorf("dial -h: exit %d\n%s", code, errOut)
	}
	if code, out, _ := runCmd(t, "help"); code != 0 || !strings.Contains(out, "ringdesk dial [flags] TARGET") {
		t.Errorf("help does not list dial: %d\n%s", code, out)
	}
}

// TestDialRecordLines: the record Ringdesk keeps (calls.CallRecord as its
// JSON) prints as who answered, the menu path, the queue, the voicemail.
func TestDialRecordLines(t *testing.T) {
	t0 := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	rec := calls.CallRecord{
		ID: "c42", Dialed: "500", Started: t0, Answered: t0.Add(time.Second), Ended: t0.Add(40 * time.Second),
		Cause: calls.CauseNormal, Status: 200, HungUpBy: calls.RoleCaller, AnsweredBy: "l2",
		Legs: []calls.LegRecord{
			{ID: "l1", Direction: calls.Inbound, Party: calls.Party{Extension: "1001", AgentID: "alice"}, Answered: t0.Add(time.Second)},
			{ID: "l2", Direction: calls.Outbound, Party: calls.Party{Extension: "1002", AgentID: "bob", Name: "Bob Example"}, Answered: t0.Add(5200 * time.Millisecond)},
		},
		Route: &calls.RouteRecord{
			Number: "500", Department: "billing", MenuPath: "Support > Billing", Queue: "billing", QueueWait: 4100 * time.Millisecond,
			Waited: 3 * time.Second,
		},
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	printCallRecord(&b, raw)
	want := `ringdesk call c42: normal, hung up by caller
answered by agent bob (1002) after 5.2s
department: billing
menu path: Support > Billing
queue: billing, waited 4.1s
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}

	vm := calls.CallRecord{
		ID: "c43", Started: t0, Answered: t0.Add(time.Second), Cause: calls.CauseNormal, Status: 200, HungUpBy: calls.RoleCaller,
		Route: &calls.RouteRecord{Number: "500", Voicemail: &calls.Voicemail{Box: "support", Path: "/data/vm/1.wav", Duration: 12 * time.Second}},
	}
	raw, _ = json.Marshal(vm)
	b.Reset()
	printCallRecord(&b, raw)
	for _, line := range []string{"answered by Ringdesk, no agent took the call\n", "voicemail: /data/vm/1.wav (12.0s)\n"} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("voicemail record lacks %q:\n%s", line, b.String())
		}
	}
}
