package main

// End-to-end test of an attended transfer done on a desk phone: REFER with
// Replaces (RFC 5589 §7, RFC 3891), with SIPp and baresip.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// TestAttendedTransferByREFER: the customer (SIPp 1001) calls the agent's
// baresip (1002), which keeps that call and dials 1003 (SIPp) on a second
// line. Then baresip sends REFER with Replaces in one of its two calls,
// naming its dialog of the other. Ringdesk moves the far party of the named
// dialog into the call that got the REFER: baresip gets NOTIFY 200 and both
// its calls end, the customer and 1003 talk, the named dialog's call ends as
// transferred and the other call records an attended transfer.
func TestAttendedTransferByREFER(t *testing.T) {
	for _, tc := range []struct {
		name string
		line int // baresip's line that sends the REFER: 1 the customer's call, 2 the consultation
	}{
		{"refer in the consultation", 2},
		{"refer in the customer's call", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := e2e(t, "sipp", "baresip", "dumpcap")
			pbx := startPBX(t, pbxOptions{RTPPorts: "34200-34399"})
			reg := pbx.sipAddr("udp").String()
			carol := newSIPpUser(t, "1003", "carol-1003")
			mustSucceed(t, "register 1003", carol.register(ctx, t, pbx, 300))
			bob := peertest.Baresip{
				IP: loopback, User: "1002", Password: "bob-1002", Registrar: reg,
				WAV: peertest.WriteToneWAV(t, 700, 60*time.Second), Extra: "-s",
			}.Start(t)
			if _, err := bob.WaitRegistered(ctx); err != nil {
				t.Fatal(err)
			}
			aliceMedia := peertest.FreeRTPPort(t, loopback)
			capture := peertest.StartCapture(t, fmt.Sprintf("udp and host 127.0.0.1 and (port %d or port %d)", aliceMedia, carol.mediaPort))
			uasCarol := carol.answer(t, "uas_answer.xml", 1, map[string]string{"pcap": peertest.WriteTonePcap(t, 1100, 20*time.Second, media.PCMU, "")})
			uac := dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "1002", aliceMedia,
				map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 20*time.Second, media.PCMU, "")}, 10000)
			eventTime[calls.CallAnswered](ctx, t, pbx, 1)

			// The consultation: baresip dials 1003 and does not hold the
			// customer's call (baresip 1.0 sends no re-INVITE for it).
			if err := bob.Dial(ctx, "sip:1003@"+reg); err != nil {
				t.Fatal(err)
			}
			consulted := eventTime[calls.CallAnswered](ctx, t, pbx, 2)
			dialogs, err := bob.WaitDialogs(ctx, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(dialogs) != 2 || dialogs[0].Outgoing || !dialogs[1].Outgoing {
				t.Fatalf("baresip's dialogs %+v, want the customer's call answered, then the consultation dialled", dialogs)
			}
			// The REFER goes in one dialog and names the other; Refer-To is
			// the far party of the named dialog, who moves.
			referIn, named, moves, namedDialed := dialogs[1], dialogs[0], "1001", "1002"
			if tc.line == 1 {
				referIn, named, moves, namedDialed = dialogs[0], dialogs[1], "1003", "1003"
			}
			if err := bob.Line(ctx, tc.line); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Until(consulted.Add(1600 * time.Millisecond))) // the agent talks to 1003
			transferred := time.Now()
			if err := bob.Transfer(ctx, "<sip:"+moves+"@"+reg+"?Replaces="+named.Replaces()+">"); err != nil {
				t.Fatal(err)
			}
			ended := pbx.waitEvent(ctx, "the transfer's end", isEvent[calls.TransferEnded]).(calls.TransferEnded)
			if ended.Transfer.Outcome != "completed" || ended.Transfer.Kind != calls.TransferAttended {
				t.Fatalf("transfer %+v", ended.Transfer)
			}
			for _, d := range dialogs {
				if err := bob.WaitDialogEnded(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			if !notified(bob.SIPMessages(), referIn.CallID, "SIP/2.0 200") {
				t.Errorf("baresip got no NOTIFY with \"SIP/2.0 200\" in the REFER's dialog %s", referIn.CallID)
			}

			mustSucceed(t, "customer", uac.Wait(ctx))
			mustSucceed(t, "1003", uasCarol.Wait(ctx))
			recs := []calls.CallRecord{pbx.nextCall(ctx), pbx.nextCall(ctx)}
			pkts, err := mediatest.ReadPcap(capture.Stop())
			if err != nil {
				t.Fatal(err)
			}

			assertTone(t, "1003 consulted", audioTo(pkts, carol.mediaPort, consulted.Add(300*time.Millisecond), transferred.Add(-100*time.Millisecond)), 700)
			from := ended.Time().Add(700 * time.Millisecond)
			assertTone(t, "customer after the transfer", audioTo(pkts, aliceMedia, from, from.Add(2*time.Second)), 1100)
			assertTone(t, "1003 after the transfer", audioTo(pkts, carol.mediaPort, from, from.Add(2*time.Second)), 440)

			// The named dialog's call ends with the transfer; the REFER's
			// call, which its far party joined, records the transfer and
			// ends when the customer hangs up.
			replaced, survivor := recs[0], recs[1]
			if survivor.Dialed == namedDialed {
				replaced, survivor = survivor, replaced
			}
			if replaced.Dialed != namedDialed || replaced.Cause != calls.CauseTransferred || survivor.Cause == calls.CauseTransferred {
				t.Errorf("call to %s ended %s, call to %s ended %s; want the call to %s transferred",
					recs[0].Dialed, recs[0].Cause, recs[1].Dialed, recs[1].Cause, namedDialed)
			}
			if !strings.HasPrefix(string(replaced.AnsweredBy), string(replaced.ID)+"-") {
				t.Errorf("transferred call %s: answered by %s, not one of its legs", replaced.ID, replaced.AnsweredBy)
			}
			if len(survivor.Transfers) != 1 || survivor.Transfers[0].Kind != calls.TransferAttended ||
				survivor.Transfers[0].Outcome != "completed" || survivor.Transfers[0].Target != moves {
				t.Errorf("surviving call's transfers %+v, want one attended to %s, completed", survivor.Transfers, moves)
			}
		})
	}
}

// notified reports whether baresip received a NOTIFY in the dialog with
// callID whose sipfrag body starts with status.
func notified(msgs []peertest.SIPMessage, callID, status string) bool {
	for _, m := range msgs {
		if !m.Sent && strings.HasPrefix(m.Text, "NOTIFY ") && peertest.SIPHeader(m.Text, "Call-ID") == callID &&
			strings.HasPrefix(peertest.SIPBody(m.Text), status) {
			return true
		}
	}
	return false
}
