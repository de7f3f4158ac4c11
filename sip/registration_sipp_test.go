package sip_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/sip"
)

// TestTrunkRegistersWithSIPp: SIPp plays the provider's registrar
// (test/peers/sipp/uas_registrar.xml) with digest authentication and a 3 s
// registration. Ringdesk registers, refreshes before each expiry (several
// REGISTERs in one run), answers a stale-nonce challenge with the new
// nonce, and unregisters when it closes; SIPp checks every answer with
// verifyauth.
func TestTrunkRegistersWithSIPp(t *testing.T) {
	if testing.Short() {
		t.Skip("SIPp test: skipped with -short")
	}
	peertest.Require(t, "sipp")
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const user, password, grant = "4930555000", "sipp-trunk-secret", 3
	uas := peertest.SIPp{
		Scenario: "uas_registrar.xml", IP: "127.0.0.1", Port: peertest.FreeSIPPort(t, "127.0.0.1"),
		Keys:    map[string]string{"trunk_user": user, "trunk_pass": password, "grant": strconv.Itoa(grant)},
		Timeout: 30 * time.Second,
	}.Start(t)
	ts := startTrunkServer(t, sip.TrunkTimings{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, RequestTimeout: 2 * time.Second},
		sip.Trunk{
			Name: "sipp", Host: "127.0.0.1", Port: uas.Config.Port,
			Username: user, Password: password, Register: true, Expiry: time.Minute,
		})

	// The registration (2 REGISTERs), the refresh with the stale nonce (3),
	// two more refreshes (2 each).
	if _, err := uas.WaitReceived(ctx, "REGISTER ", 9); err != nil {
		t.Fatalf("%v; server log:\n%s", err, strings.Join(ts.logs.Lines(), "\n"))
	}
	st := ts.waitTrunk(t, "sipp", "registered", isRegistered)
	if got := st.Expires.Sub(st.LastRegistered); got > grant*time.Second || got < grant*time.Second-time.Second {
		t.Errorf("registered for %s, want the %d s SIPp grants", got, grant)
	}
	ts.stop() // unregisters
	res := uas.Wait(ctx)
	if res.ExitCode != 0 || res.Err != nil || res.Successful != 1 {
		t.Fatalf("SIPp: %s\nserver log:\n%s", res, strings.Join(ts.logs.Lines(), "\n"))
	}

	var regs []string
	for _, m := range res.ReceivedMessages() {
		if strings.HasPrefix(m, "REGISTER ") {
			regs = append(regs, m)
		}
	}
	if len(regs) < 11 {
		t.Fatalf("SIPp received %d REGISTERs, want at least 11", len(regs))
	}
	callID := peertest.SIPHeader(regs[0], "Call-ID")
	prev := 0
	for i, m := range regs {
		if got := peertest.SIPHeader(m, "Call-ID"); got != callID {
			t.Errorf("REGISTER %d: Call-ID %s, want %s", i, got, callID)
		}
		seq, _ := strconv.Atoi(strings.Fields(peertest.SIPHeader(m, "CSeq") + " x")[0])
		if seq <= prev {
			t.Errorf("REGISTER %d: CSeq %d after %d", i, seq, prev)
		}
		prev = seq
	}
	if auth := peertest.SIPHeader(regs[4], "Authorization"); !strings.Contains(auth, `nonce="ringdesk-stale"`) {
		t.Errorf("answer to the stale challenge: Authorization %s, want the new nonce", auth)
	}
	if last := regs[len(regs)-1]; peertest.SIPHeader(last, "Expires") != "0" {
		t.Errorf("last REGISTER has Expires %q, want 0 (unregistration)", peertest.SIPHeader(last, "Expires"))
	}
	if f := ts.logs.Grep("failing"); len(f) > 0 {
		t.Errorf("the registration failed on the way:\n%s", strings.Join(f, "\n"))
	}
}
