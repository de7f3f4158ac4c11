package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/acd"
	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// Ring groups and queues with real desk phones (baresip): who rings, in
// which order, who is cancelled, and what a caller who cannot get in
// hears. RTP ports 36400-36999.

// ringPhones starts alice (1001) and carol (1003), who let calls ring, and
// bob (1002), who answers at once, each sending its own tone.
func ringPhones(ctx context.Context, t *testing.T, pbx *testPBX) (alice, bob, carol *peertest.BaresipPhone) {
	t.Helper()
	reg := pbx.sipAddr("udp").String()
	start := func(user, password, answer string, freq float64) *peertest.BaresipPhone {
		p := peertest.Baresip{
			IP: loopback, User: user, Password: password, Registrar: reg, Answer: answer,
			WAV: peertest.WriteToneWAV(t, freq, 90*time.Second),
		}.Start(t)
		if _, err := p.WaitRegistered(ctx); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return start("1001", "alice-1001", "manual", 600), start("1002", "bob-1002", "auto", 700), start("1003", "carol-1003", "manual", 800)
}

// ringsOf lists, in order, the agents whose phones rang for call id, and
// how each leg that did not answer ended ("rang_out" or its status).
func ringsOf(pbx *testPBX, id calls.CallID) (rang []string, ended map[string][]string) {
	ended = make(map[string][]string)
	for _, e := range pbx.eventsOf(id) {
		switch ev := e.(type) {
		case calls.LegRinging:
			rang = append(rang, ev.Leg.Party.AgentID)
		case calls.LegEnded:
			how := fmt.Sprint(ev.Leg.Status)
			if ev.RangOut {
				how = "rang_out"
			}
			ended[ev.Leg.Party.AgentID] = append(ended[ev.Leg.Party.AgentID], how)
		}
	}
	return rang, ended
}

const ringGroupPlan = `
numbers:
  "600": {description: sales in order, action: ring sales}
  "601": {description: nobody answers, action: ring nobody}
  "602": {description: everyone at once, action: ring everyone}
ring_groups:
  sales:
    agents: [alice, bob]
    strategy: sequential
    ring_interval: 5s
  nobody:
    agents: [alice, carol]
    strategy: sequential
    ring_interval: 5s
    cycles: 2
    no_answer: hangup
  everyone:
    agents: [alice, bob, carol]
    strategy: simultaneous
    ring_interval: 10s
`

// TestRingGroups: a sequential group rings alice, who lets it ring out
// after the ring interval, then bob, who answers; a sequential group of
// two phones nobody picks up rings them in order twice (cycles: 2) and
// then hangs up; a simultaneous group rings all three phones, bob answers,
// and the other two stop ringing within a second.
func TestRingGroups(t *testing.T) {
	ctx := e2e(t, "sipp", "baresip")
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	pbx := startPBX(t, pbxOptions{RTPPorts: "36400-36599", Dialplan: ringGroupPlan})
	_, bob, _ := ringPhones(ctx, t, pbx)
	tone := peertest.WriteTonePcap(t, 440, 30*time.Second, media.PCMU, "")

	t.Run("sequential", func(t *testing.T) {
		uac := dial(t, pbx, "uac_call.xml", "1003", "carol-1003", "600", peertest.FreeRTPPort(t, loopback),
			map[string]string{"pcap": tone}, 9000)
		mustSucceed(t, "caller", uac.Wait(ctx))
		rec := pbx.nextCall(ctx)
		rang, ended := ringsOf(pbx, rec.ID)
		if strings.Join(rang, ",") != "alice,bob" || strings.Join(ended["alice"], ",") != "rang_out" {
			t.Errorf("rang %q, ended %v; want alice (rang out) then bob", rang, ended)
		}
		if rec.AnsweredBy == "" || answeredAgent(rec) != "bob" {
			t.Errorf("answered by %q, want bob", answeredAgent(rec))
		}
		if rec.Route == nil || rec.Route.Waited < 5*time.Second {
			t.Errorf("route %+v: want the 5 s alice rang in the wait time", rec.Route)
		}
		assertBaresipHeard(ctx, t, "bob", bob, 440)
		if st, _ := pbx.app.pool.Agent("alice"); st.Missed != 1 {
			t.Errorf("alice missed %d calls, want 1", st.Missed)
		}
	})

	t.Run("cycles", func(t *testing.T) {
		uac := dial(t, pbx, "uac_wait_bye.xml", "1002", "bob-1002", "601", peertest.FreeRTPPort(t, loopback),
			map[string]string{"pcap": tone}, 0)
		mustSucceed(t, "caller", uac.Wait(ctx))
		rec := pbx.nextCall(ctx)
		rang, ended := ringsOf(pbx, rec.ID)
		if strings.Join(rang, ",") != "alice,carol,alice,carol" {
			t.Errorf("rang %q, want alice,carol twice", rang)
		}
		if strings.Join(ended["alice"], ",") != "rang_out,rang_out" || strings.Join(ended["carol"], ",") != "rang_out,rang_out" {
			t.Errorf("legs ended %v, want every one rang out", ended)
		}
		if rec.AnsweredBy != "" || rec.HungUpBy != calls.RoleSystem {
			t.Errorf("answered by %q, hung up by %s: want nobody, then Ringdesk hanging up", rec.AnsweredBy, rec.HungUpBy)
		}
	})

	t.Run("simultaneous", func(t *testing.T) {
		uac := dial(t, pbx, "uac_call.xml", "1003", "carol-1003", "602", peertest.FreeRTPPort(t, loopback),
			map[string]string{"pcap": tone}, 3000)
		mustSucceed(t, "caller", uac.Wait(ctx))
		rec := pbx.nextCall(ctx)
		_, ended := ringsOf(pbx, rec.ID)
		var rung []string // a phone may not get to say it rings before bob answers
		for _, l := range rec.Legs {
			if l.Direction == calls.Outbound {
				rung = append(rung, l.Party.AgentID)
			}
		}
		if len(rung) != 3 || answeredAgent(rec) != "bob" {
			t.Errorf("rang %q, answered by %q; want all three phones, bob answering", rung, answeredAgent(rec))
		}
		var answered calls.Event
		for _, e := range pbx.eventsOf(rec.ID) {
			if isEvent[calls.CallAnswered](e) {
				answered = e
			}
		}
		for _, e := range pbx.eventsOf(rec.ID) {
			le, ok := e.(calls.LegEnded)
			if !ok || answered == nil {
				continue
			}
			// the phones are cancelled as the answer is taken: d is about 0
			if d := le.Time().Sub(answered.Time()); le.Leg.Status != 487 || d > time.Second {
				t.Errorf("%s's phone stopped ringing %s after bob answered, with %d; want 487 within a second",
					le.Leg.Party.AgentID, d, le.Leg.Status)
			}
		}
		if len(ended["alice"]) != 1 || len(ended["carol"]) != 1 {
			t.Errorf("legs ended %v, want alice's and carol's cancelled", ended)
		}
	})
}

// answeredAgent is the agent whose leg answered rec.
func answeredAgent(rec calls.CallRecord) string {
	for _, l := range rec.Legs {
		if l.ID == rec.AnsweredBy {
			return l.Party.AgentID
		}
	}
	return ""
}

// TestQueueFullAndAbandoned: a queue of one caller at most, whose only
// agent is offline: the first caller waits with hold music; a second
// caller hears All agents busy and is hung up; the first hangs up after
// five seconds and is reported abandoned with the time waited.
func TestQueueFullAndAbandoned(t *testing.T) {
	ctx := e2e(t, "sipp", "dumpcap")
	plan := fmt.Sprintf(`
messages:
  all_busy: {file: %s}
numbers:
  "700": {description: support queue, action: queue support}
queues:
  support:
    agents: [carol]
    max_callers: 1
    announce_every: 0
    fallback: hangup
`, sound(t, "all-busy.wav"))
	pbx := startPBX(t, pbxOptions{RTPPorts: "36600-36799", Dialplan: plan})
	if err := pbx.app.pool.SetStatus("carol", acd.Offline); err != nil {
		t.Fatal(err)
	}
	first := dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "700", peertest.FreeRTPPort(t, loopback),
		map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 10*time.Second, media.PCMU, "")}, 5000)
	joined := pbx.waitEvent(ctx, "the first caller queued", isEvent[calls.QueueJoined]).(calls.QueueJoined)
	if joined.Position != 1 || joined.Queue != "support" {
		t.Errorf("joined %+v", joined)
	}

	media2 := peertest.FreeRTPPort(t, loopback)
	capture := peertest.StartCapture(t, fmt.Sprintf("udp and host %s and port %d", loopback, media2))
	second := dial(t, pbx, "uac_wait_bye.xml", "1002", "bob-1002", "700", media2,
		map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 10*time.Second, media.PCMU, "")}, 0)
	full := pbx.waitEvent(ctx, "the queue full", isEvent[calls.QueueFull])
	mustSucceed(t, "second caller", second.Wait(ctx))
	rec2 := pbx.nextCall(ctx)
	if rec2.ID != full.Call() || rec2.HungUpBy != calls.RoleSystem {
		t.Errorf("second call %s hung up by %s, want %s hung up by Ringdesk", rec2.ID, rec2.HungUpBy, full.Call())
	}
	pkts, err := mediatest.ReadPcap(capture.Stop())
	if err != nil {
		t.Fatal(err)
	}
	assertHeardPrompt(t, "the second caller", audioTo(pkts, media2, full.Time(), time.Now()), "all-busy.wav")

	mustSucceed(t, "first caller", first.Wait(ctx))
	rec1 := pbx.nextCall(ctx)
	left := pbx.waitEvent(ctx, "the first caller leaving", isEvent[calls.QueueLeft]).(calls.QueueLeft)
	if left.Reason != calls.QueueAbandoned || left.Waited < 4*time.Second || left.Call() != rec1.ID {
		t.Errorf("left %+v, want abandoned after about 5 s", left)
	}
	if rec1.Route == nil || !rec1.Route.Abandoned || rec1.Route.QueueWait < 4*time.Second {
		t.Errorf("route record %+v, want abandoned after about 5 s", rec1.Route)
	}
}
