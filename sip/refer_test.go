package sip_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/sip"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

func TestReferInDialog(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := answered(t, ts)
	ctx := ctxFor(t)

	res, err := call.Request(ctx, "REFER", "", nil,
		siptest.Header{Name: "Refer-To", Value: "<sip:1003@127.0.0.1>"},
		siptest.Header{Name: "Referred-By", Value: "<sip:1001@127.0.0.1>"})
	if err != nil || res.Code != 202 {
		t.Fatalf("REFER got %v, %v; want 202", res, err)
	}
	ev := waitEvent[sip.ReferReceived](t, in.ev)
	if ev.User != "1003" || ev.Replaces != nil || !strings.Contains(ev.ReferredBy, "1001") {
		t.Errorf("ReferReceived = %+v", ev)
	}
	first, err := call.WaitRequest(ctx, "NOTIFY")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(first.Body), "SIP/2.0 100 ") || !strings.Contains(first.Header("Subscription-State"), "active") ||
		!strings.HasPrefix(first.Header("Event"), "refer") || !strings.HasPrefix(first.Header("Content-Type"), "message/sipfrag") {
		t.Errorf("first NOTIFY: %q, state %q, event %q", first.Body, first.Header("Subscription-State"), first.Header("Event"))
	}
	if err := ev.Refer.Notify(ctx, 200, "OK"); err != nil {
		t.Fatal(err)
	}
	final := waitNotify(t, call, "SIP/2.0 200 OK")
	if !strings.HasPrefix(final.Header("Subscription-State"), "terminated") {
		t.Errorf("final NOTIFY Subscription-State = %q", final.Header("Subscription-State"))
	}
	if err := ev.Refer.Notify(ctx, 503, ""); err != nil { // after the final one: nothing
		t.Fatal(err)
	}

	// Broken REFERs get 400 and no event.
	for _, hdrs := range [][]siptest.Header{
		nil,
		{{Name: "Refer-To", Value: "<tel:+3512100000>"}},
		{{Name: "Refer-To", Value: "<sip:127.0.0.1>"}},
		{{Name: "Refer-To", Value: "<sip:1003@127.0.0.1?Replaces=abc>"}},
		{{Name: "Refer-To", Value: "<sip:%00@127.0.0.1>"}},
		{{Name: "Refer-To", Value: "<sip:1003@127.0.0.1>"}, {Name: "Refer-To", Value: "<sip:1004@127.0.0.1>"}},
	} {
		res, err := call.Request(ctx, "REFER", "", nil, hdrs...)
		if err != nil || res.Code != 400 {
			t.Errorf("REFER %v got %v, %v; want 400", hdrs, res, err)
		}
	}
}

// waitNotify waits for the NOTIFY whose body starts with frag.
func waitNotify(t *testing.T, call *siptest.Call, frag string) *siptest.Message {
	t.Helper()
	ctx := ctxFor(t)
	for {
		for _, m := range call.Received() {
			if m.Method == "NOTIFY" && strings.HasPrefix(string(m.Body), frag) {
				return m
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no NOTIFY %q", frag)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestReferWithReplaces(t *testing.T) {
	t.Parallel()
	ts := startServer(t)
	_, call, in := answered(t, ts)
	ctx := ctxFor(t)
	res, err := call.Request(ctx, "REFER", "", nil, siptest.Header{
		Name:  "Refer-To",
		Value: "<sip:1003@127.0.0.1?Replaces=abc%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1>",
	}, siptest.Header{Name: "Refer-Sub", Value: "false"})
	if err != nil || res.Code != 202 {
		t.Fatalf("REFER got %v, %v; want 202", res, err)
	}
	ev := waitEvent[sip.ReferReceived](t, in.ev)
	if ev.Replaces == nil || *ev.Replaces != (sip.DialogRef{CallID: "abc@host", ToTag: "t1", FromTag: "f1"}) {
		t.Fatalf("Replaces = %+v", ev.Replaces)
	}
	if !ev.Replaces.Matches("abc@host", "f1", "t1") || ev.Replaces.Matches("abc@host", "f1", "x") {
		t.Error("DialogRef.Matches")
	}
	if err := ev.Refer.Notify(ctx, 200, "OK"); err != nil { // Refer-Sub: false: no NOTIFY
		t.Fatal(err)
	}
	for _, m := range call.Received() {
		if m.Method == "NOTIFY" {
			t.Errorf("NOTIFY sent despite Refer-Sub: false: %q", m.Body)
		}
	}
}
