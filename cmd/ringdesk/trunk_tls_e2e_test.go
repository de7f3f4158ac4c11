package main

// End-to-end test of a SIP trunk over TLS, with baresip playing the
// provider: it takes SIP over TLS with a throwaway self-signed certificate
// for localhost.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// tlsTrunkRTPPorts is Ringdesk's RTP range in TestTrunkTLS.
const tlsTrunkRTPPorts = "35100-35299"

// baresipIncoming matches baresip 1.0's log lines about a call it
// receives: "call: answering call on line 1 from sip:1001@localhost with
// 200", "+351210000000@127.0.0.1: Call established: sip:1001@localhost"
// (and "Incoming call from" when it does not answer at once).
var baresipIncoming = regexp.MustCompile(`(?i)incoming call|answering call|call established|1001@`)

// certRejected matches Ringdesk's log line about the failed INVITE, with
// Go's error for a certificate no trusted authority signed.
var certRejected = regexp.MustCompile(`(?m)^.*msg="invite failed".* trunk=tls .*x509: certificate signed by unknown authority.*$`)

// tlsProvider starts baresip as a provider that takes SIP over TLS with a
// self-signed certificate for localhost and answers at once with a 700 Hz
// tone. It returns the phone and the certificate (without its key).
func tlsProvider(t *testing.T) (*peertest.BaresipPhone, string) {
	t.Helper()
	dir := t.TempDir()
	cert, key := testkit.SelfSignedCert(t, dir)
	var pem []byte
	for _, p := range []string{cert, key} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		pem = append(pem, b...)
	}
	both := filepath.Join(dir, "cert+key.pem")
	if err := os.WriteFile(both, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	// baresip answers only requests for its account's user (404 else):
	// the number as the trunk writes it (e164, the default).
	bob := peertest.Baresip{
		IP: loopback, User: "+351210000000", Answer: "auto", TLSCert: both,
		WAV: peertest.WriteToneWAV(t, 700, 30*time.Second),
	}.Start(t)
	return bob, cert
}

// tlsTrunkTop is the config of a tls trunk to localhost:port with every
// number routed through it. The trunk's networks name an address nobody
// uses: without them Ringdesk takes localhost's addresses, and every
// INVITE from 127.0.0.1 (the agent's SIPp too) would be the provider's.
func tlsTrunkTop(port int, caFile string) string {
	ca := ""
	if caFile != "" {
		ca = "    ca_file: " + caFile + "\n"
	}
	return fmt.Sprintf(`trunks:
  - name: tls
    host: localhost
    port: %d
    transport: tls
    networks: ["%s/32"]
    country: PT
%s
routes:
  - prefix: "*"
    trunks: [tls]
`, port, providerIP, ca)
}

// TestTrunkTLS: an agent's call out goes through a trunk over TLS. Ringdesk
// needs a tls:// listener for it (pbxOptions.TLS; its own certificate is
// another throwaway one, offered as a client certificate). With
// the provider's CA in ca_file the certificate is checked against the
// trunk's host name, the call connects and both sides hear each other;
// without it the handshake fails, the caller gets a failure and the
// provider never sees the call.
func TestTrunkTLS(t *testing.T) {
	t.Run("verified", func(t *testing.T) {
		ctx := e2e(t, "sipp", "baresip", "dumpcap")
		bob, cert := tlsProvider(t)
		pbx := startPBX(t, pbxOptions{RTPPorts: tlsTrunkRTPPorts, TLS: true, Top: tlsTrunkTop(bob.TLSPort(), cert)})

		aliceMedia := peertest.FreeRTPPort(t, loopback)
		capture := peertest.StartCapture(t, fmt.Sprintf("udp and host %s and port %d", loopback, aliceMedia))
		off := bob.LogOffset()
		uac := dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "+351210000000", aliceMedia,
			map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 10*time.Second, media.PCMU, "")}, 3000)
		mustSucceed(t, "caller 1001", uac.Wait(ctx)) // first: a failed call ends the test at once
		answered := pbx.waitEvent(ctx, "the answer", isEvent[calls.CallAnswered]).Time()
		if _, err := bob.WaitEstablished(ctx, off); err != nil {
			t.Fatal(err)
		}
		rec := pbx.nextCall(ctx)
		if rec.Cause != calls.CauseNormal || rec.Callee.Number != "+351210000000" {
			t.Errorf("record: callee %+v, cause %s", rec.Callee, rec.Cause)
		}
		var trunkLeg *calls.LegRecord
		for i, l := range rec.Legs {
			if l.Party.Trunk == "tls" {
				trunkLeg = &rec.Legs[i]
			}
		}
		switch {
		case trunkLeg == nil:
			t.Errorf("no leg through the trunk: %+v", rec.Legs)
		case trunkLeg.Transport != "TLS" || trunkLeg.Status != 200:
			t.Errorf("trunk leg: transport %q status %d, want TLS 200 (%+v)", trunkLeg.Transport, trunkLeg.Status, *trunkLeg)
		}

		pkts, err := mediatest.ReadPcap(capture.Stop())
		if err != nil {
			t.Fatal(err)
		}
		assertTone(t, "the caller", audioTo(pkts, aliceMedia, answered.Add(500*time.Millisecond), time.Now()), 700)
		assertBaresipHeard(ctx, t, "the provider (baresip)", bob, 440)
	})

	t.Run("unknown CA", func(t *testing.T) {
		ctx := e2e(t, "sipp", "baresip")
		bob, _ := tlsProvider(t)
		pbx := startPBX(t, pbxOptions{RTPPorts: tlsTrunkRTPPorts, TLS: true, Top: tlsTrunkTop(bob.TLSPort(), "")})

		off := bob.LogOffset()
		uac := dial(t, pbx, "uac_fail.xml", "1001", "alice-1001", "+351210000000", peertest.FreeRTPPort(t, loopback), nil, 1000)
		res := uac.Wait(ctx)
		mustSucceed(t, "caller 1001", res)
		// The trunk leg fails with 503 and no trunk is left: the caller
		// gets 503 (congestion: the network failed, not the number).
		if code := finalStatus(res); code != 503 {
			t.Errorf("the caller got %d, want 503", code)
		}
		rec := pbx.nextCall(ctx)
		if rec.Cause != calls.CauseCongestion || rec.Status != 503 || rec.AnsweredBy != "" {
			t.Errorf("record: cause %s status %d answered by %q, want congestion 503 unanswered", rec.Cause, rec.Status, rec.AnsweredBy)
		}
		for _, l := range rec.Legs {
			if l.Party.Trunk == "tls" && (l.Status != 503 || l.Cause != calls.CauseUnavailable) {
				t.Errorf("trunk leg: status %d cause %s, want 503 unavailable", l.Status, l.Cause)
			}
		}
		if log := bob.Log()[off:]; baresipIncoming.MatchString(log) {
			t.Errorf("the provider saw the call:\n%s", log)
		}
		if log := pbx.logBuf.String(); !certRejected.MatchString(log) {
			t.Errorf("Ringdesk's log does not say the provider's certificate was refused:\n%s", tail(log, 40))
		}
	})
}
