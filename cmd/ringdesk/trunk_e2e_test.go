package main

// End-to-end tests of SIP trunks, with SIPp playing the provider on its own
// loopback addresses (127.0.0.2 and up) and desk phones on 127.0.0.1.

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// Loopback addresses of the providers in these tests; phones and Ringdesk
// use 127.0.0.1.
const (
	providerIP = "127.0.0.2"
	strangerIP = "127.0.0.3"
	backupIP   = "127.0.0.4"
)

// trunkYAML is a trunk at ip:port for the tests' config.
func trunkYAML(name, ip string, port int, extra string) string {
	return fmt.Sprintf(`  - name: %s
    host: %s
    port: %d
    networks: ["%s/32"]
    country: PT
%s`, name, ip, port, ip, indentBy(extra, "    "))
}

// didToBob is the dialplan of the trunk tests: the DID rings bob's
// extension, put straight through (no message, not answered by Ringdesk).
const didToBob = `numbers: {"+351210000000": {action: extension 1002}}`

// indentBy puts prefix before every line of s.
func indentBy(s, prefix string) string {
	var b strings.Builder
	for _, ln := range strings.Split(strings.TrimSpace(s), "\n") {
		if ln != "" {
			b.WriteString(prefix + ln + "\n")
		}
	}
	return b.String()
}

// TestTrunkInbound: the provider (SIPp at 127.0.0.2) sends a call to a
// DID in national format; the mapped extension (baresip 1002) rings,
// answers, and both hear each other. The same INVITE from 127.0.0.3, an
// address of no trunk, gets 403 and rings nobody.
func TestTrunkInbound(t *testing.T) {
	ctx := e2e(t, "sipp", "baresip", "dumpcap")
	top := "trunks:\n" + trunkYAML("provider", providerIP, 5060, "")
	pbx := startPBX(t, pbxOptions{RTPPorts: "34400-34599", Top: top, Dialplan: didToBob})
	reg := pbx.sipAddr("udp").String()
	bob := peertest.Baresip{
		IP: loopback, User: "1002", Password: "bob-1002", Registrar: reg,
		WAV: peertest.WriteToneWAV(t, 700, 30*time.Second),
	}.Start(t)
	if _, err := bob.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}

	// from an address of no trunk: refused, nobody rings
	stranger := peertest.SIPp{
		Scenario: "uac_fail.xml", Remote: reg, IP: strangerIP, MediaIP: strangerIP,
		MediaPort: peertest.FreeRTPPort(t, strangerIP), Service: "210000000",
		Keys: map[string]string{"caller": "+351912345678"}, Timeout: 30 * time.Second,
	}.Start(t)
	res := stranger.Wait(ctx)
	mustSucceed(t, "stranger", res)
	if code := finalStatus(res); code != 403 {
		t.Errorf("an INVITE from outside the trunk's networks got %d, want 403", code)
	}

	media0 := peertest.FreeRTPPort(t, providerIP)
	capture := peertest.StartCapture(t, fmt.Sprintf("udp and host %s and port %d", providerIP, media0))
	uac := peertest.SIPp{
		Scenario: "uac_call.xml", Remote: reg, IP: providerIP, MediaIP: providerIP,
		MediaPort: media0, Service: "210000000", DurationMS: 4000, Timeout: 60 * time.Second,
		Keys: map[string]string{"caller": "+351912345678", "pcap": peertest.WriteTonePcap(t, 440, 10*time.Second, media.PCMU, "")},
	}.Start(t)
	answered := pbx.waitEvent(ctx, "the answer", isEvent[calls.CallAnswered]).Time()
	mustSucceed(t, "provider", uac.Wait(ctx))
	rec := pbx.nextCall(ctx)
	if rec.Caller.Number != "+351912345678" || rec.Caller.Trunk != "provider" || rec.Callee.Extension != "1002" {
		t.Errorf("record: caller %+v callee %+v", rec.Caller, rec.Callee)
	}
	if rec.Cause != calls.CauseNormal {
		t.Errorf("record cause %s", rec.Cause)
	}
	pkts, err := mediatest.ReadPcap(capture.Stop())
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.AddrPortFrom(netip.MustParseAddr(providerIP), uint16(media0)) //nolint:gosec // a port
	assertTone(t, "the caller from the phone network", audioAt(pkts, dst, answered.Add(500*time.Millisecond), time.Now()), 700)
	assertBaresipHeard(ctx, t, "baresip 1002", bob, 440)
}

// TestTrunkOutbound: baresip 1001 dials +351210000000. The provider (SIPp)
// receives the number as the trunk writes it (E.164 without +), the
// configured caller ID in From and P-Asserted-Identity, challenges with
// 407, gets an INVITE whose digest is right, plays a ringback tone as
// early media (which the caller hears before the answer), and answers.
func TestTrunkOutbound(t *testing.T) {
	ctx := e2e(t, "sipp", "baresip", "dumpcap")
	port := peertest.FreeSIPPort(t, providerIP)
	const password = "prov-secret"
	top := "trunks:\n" + trunkYAML("provider", providerIP, port, `
username: "351219999999"
password: `+password+`
realm: provider.test
number_format: e164_no_plus
caller_id: "+351 21 999 9999"
assert_identity: true
`) + `
routes:
  - prefix: "+351"
    trunks: [provider]
`
	pbx := startPBX(t, pbxOptions{RTPPorts: "34600-34799", Top: top})
	reg := pbx.sipAddr("udp").String()
	provMedia := peertest.FreeRTPPort(t, providerIP)
	capture := peertest.StartCapture(t, fmt.Sprintf("udp and portrange 34600-34799 and not port %d", provMedia))
	prov := peertest.SIPp{
		Scenario: "uas_provider.xml", IP: providerIP, Port: port, MediaIP: providerIP, MediaPort: provMedia,
		Timeout: 60 * time.Second, DurationMS: 2500, Keys: map[string]string{
			"realm": "provider.test",
			"early": peertest.WriteTonePcap(t, 425, 2*time.Second, media.PCMU, ""),
			"pcap":  peertest.WriteTonePcap(t, 1100, 10*time.Second, media.PCMU, ""),
		},
	}.Start(t)
	alice := peertest.Baresip{
		IP: loopback, User: "1001", Password: "alice-1001", Registrar: reg,
		WAV: peertest.WriteToneWAV(t, 660, 30*time.Second),
	}.Start(t)
	if _, err := alice.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	dialed := time.Now()
	if err := alice.Dial(ctx, "sip:+351210000000@"+reg); err != nil {
		t.Fatal(err)
	}
	answered := pbx.waitEvent(ctx, "the answer", isEvent[calls.CallAnswered]).Time()
	time.Sleep(3 * time.Second) // the two talk
	if err := alice.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	res := prov.Wait(ctx)
	mustSucceed(t, "provider", res)
	rec := pbx.nextCall(ctx)
	viaTrunk := false
	for _, l := range rec.Legs {
		viaTrunk = viaTrunk || (l.Party.Trunk == "provider" && l.Party.Number == "+351210000000")
	}
	if rec.Callee.Number != "+351210000000" || !viaTrunk || rec.Cause != calls.CauseNormal {
		t.Errorf("record: callee %+v, cause %s, legs %+v", rec.Callee, rec.Cause, rec.Legs)
	}

	// what the provider received
	var invites []string
	for _, m := range res.ReceivedMessages() {
		if strings.HasPrefix(peertest.SIPStartLine(m), "INVITE ") {
			invites = append(invites, m)
		}
	}
	if len(invites) != 2 {
		t.Fatalf("the provider received %d INVITEs, want 2 (before and after the challenge)", len(invites))
	}
	first, second := invites[0], invites[1]
	if rl := peertest.SIPStartLine(first); !strings.HasPrefix(rl, "INVITE sip:351210000000@"+providerIP) {
		t.Errorf("Request-URI %q, want the number without + at the provider", rl)
	}
	if from := peertest.SIPHeader(first, "From"); !strings.Contains(from, "sip:351219999999@") {
		t.Errorf("From %q, want the caller ID 351219999999", from)
	}
	if pai := peertest.SIPHeader(first, "P-Asserted-Identity"); !strings.Contains(pai, "sip:351219999999@") {
		t.Errorf("P-Asserted-Identity %q, want the caller ID", pai)
	}
	checkDigest(t, res, second, password)

	pkts, err := mediatest.ReadPcap(capture.Stop())
	if err != nil {
		t.Fatal(err)
	}
	// Ringdesk's packets to the phone: from its RTP range to baresip
	var toPhone []mediatest.Packet
	for _, p := range pkts {
		if inRange(p.Src.Port(), 34600, 34799) && p.Dst.Addr() == netip.MustParseAddr(loopback) && !inRange(p.Dst.Port(), 34600, 34799) {
			toPhone = append(toPhone, p)
		}
	}
	window := func(from, to time.Time) []int16 {
		var w []mediatest.Packet
		for _, p := range toPhone {
			if p.Time.After(from) && p.Time.Before(to) {
				w = append(w, p)
			}
		}
		return mediatest.DecodeAudio(mediatest.RTP(w, nil))
	}
	early := window(dialed.Add(500*time.Millisecond), answered.Add(-200*time.Millisecond))
	if s := share(early, 425); s < 0.8 {
		t.Errorf("before the answer the caller heard %.0f Hz (%.2f of it at 425 Hz), want the provider's early media",
			mediatest.DominantFrequency(early, 8000), s)
	}
	assertTone(t, "the caller after the answer", window(answered.Add(500*time.Millisecond), answered.Add(2500*time.Millisecond)), 1100)
}

// checkDigest verifies the Proxy-Authorization of invite (the second
// INVITE) against the provider's 407 challenge and the trunk's password.
func checkDigest(t *testing.T, res peertest.SIPpResult, invite, password string) {
	t.Helper()
	var chal *digest.Challenge
	for _, m := range res.SentMessages() {
		if h := peertest.SIPHeader(m, "Proxy-Authenticate"); h != "" {
			c, err := digest.ParseChallenge(h)
			if err != nil {
				t.Fatalf("the provider's challenge: %v", err)
			}
			chal = c
		}
	}
	if chal == nil {
		t.Fatal("the provider sent no 407 challenge")
	}
	cred, err := digest.ParseCredentials(peertest.SIPHeader(invite, "Proxy-Authorization"))
	if err != nil {
		t.Fatalf("Proxy-Authorization: %v", err)
	}
	want, err := digest.Digest(chal, digest.Options{
		Method: "INVITE", URI: cred.URI, Username: "351219999999", Password: password,
		Cnonce: cred.Cnonce, Count: cred.Nc,
	})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Response != want.Response || cred.Nonce != chal.Nonce || cred.Realm != "provider.test" {
		t.Errorf("Proxy-Authorization %q does not answer the challenge %q with the trunk's password", cred, chal)
	}
	if rl := peertest.SIPStartLine(invite); !strings.Contains(rl, cred.URI) {
		t.Errorf("digest uri %q is not the Request-URI of %q", cred.URI, rl)
	}
}

// TestTrunkFailover: the first trunk answers 503 and the call goes out on
// the second; when the first answers 486, the caller hears busy and the
// second is never tried.
func TestTrunkFailover(t *testing.T) {
	for _, tc := range []struct {
		name         string
		code, reason string
		second       bool // the second trunk gets the call
	}{
		{"503 fails over", "503", "Service Unavailable", true},
		{"486 does not", "486", "Busy Here", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := e2e(t, "sipp")
			p1, p2 := peertest.FreeSIPPort(t, providerIP), peertest.FreeSIPPort(t, backupIP)
			top := "trunks:\n" + trunkYAML("first", providerIP, p1, "") + trunkYAML("second", backupIP, p2, "") + `
routes:
  - prefix: "*"
    trunks: [first, second]
`
			pbx := startPBX(t, pbxOptions{RTPPorts: "34800-34999", Top: top})
			first := peertest.SIPp{
				Scenario: rejectScenario(t, tc.code+" "+tc.reason), IP: providerIP, Port: p1, MediaIP: providerIP,
				MediaPort: peertest.FreeRTPPort(t, providerIP), Timeout: 30 * time.Second,
			}.Start(t)
			wait := 30 * time.Second
			if !tc.second {
				wait = 6 * time.Second // long enough to see an INVITE that should not come
			}
			second := peertest.SIPp{
				Scenario: "uas_answer.xml", IP: backupIP, Port: p2, MediaIP: backupIP,
				MediaPort: peertest.FreeRTPPort(t, backupIP), Timeout: wait,
				Keys: map[string]string{"pcap": peertest.WriteTonePcap(t, 1100, 5*time.Second, media.PCMU, "")},
			}.Start(t)
			scenario := "uac_call.xml"
			if !tc.second {
				scenario = "uac_fail.xml"
			}
			uac := dial(t, pbx, scenario, "1001", "alice-1001", "+351210000000", peertest.FreeRTPPort(t, loopback),
				map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 5*time.Second, media.PCMU, "")}, 2000)
			res := uac.Wait(ctx)
			mustSucceed(t, "caller", res)
			mustSucceed(t, "first trunk", first.Wait(ctx))
			rec := pbx.nextCall(ctx)
			if tc.second {
				mustSucceed(t, "second trunk", second.Wait(ctx))
				if rec.Cause != calls.CauseNormal || len(rec.Legs) != 3 {
					t.Errorf("record: cause %s, %d legs; want normal with the caller and both trunks' legs", rec.Cause, len(rec.Legs))
				}
				return
			}
			if code := finalStatus(res); code != 486 {
				t.Errorf("the caller got %d, want 486 busy", code)
			}
			if rec.Cause != calls.CauseBusy {
				t.Errorf("record cause %s, want busy", rec.Cause)
			}
			if got := second.Wait(ctx); got.ExitCode == 0 && len(got.ReceivedMessages()) > 0 {
				t.Errorf("the second trunk was tried after a 486: %v", got.ReceivedMessages())
			}
		})
	}
}

// rejectScenario is test/peers/sipp/uas_reject.xml answering with status
// (e.g. "486 Busy Here") instead of 503: SIPp takes no status from a -key.
func rejectScenario(t *testing.T, status string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(peertest.PeersDir(t), "sipp", "uas_reject.xml"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "uas_reject.xml")
	if err := os.WriteFile(out, bytes.ReplaceAll(b, []byte("503 Service Unavailable"), []byte(status)), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStatusShowsTrunks: Ringdesk registers a trunk with a provider's
// registrar (SIPp, digest, a short expiry it keeps refreshing), and
// `ringdesk status` shows the trunk registered, as text and as metrics.
// On shutdown the registration is removed.
func TestStatusShowsTrunks(t *testing.T) {
	ctx := e2e(t, "sipp")
	const user, password = "351219999999", "reg-secret"
	registrar := peertest.SIPp{
		Scenario: "uas_registrar.xml", IP: providerIP, Port: peertest.FreeSIPPort(t, providerIP),
		Keys:    map[string]string{"trunk_user": user, "trunk_pass": password, "grant": "3"},
		Timeout: 60 * time.Second,
	}.Start(t)
	top := "trunks:\n" + trunkYAML("provider", providerIP, registrar.Config.Port, `
username: "`+user+`"
password: `+password+`
register: true
expiry: 60s
`)
	pbx := startPBX(t, pbxOptions{RTPPorts: "35000-35099", Top: top})
	// the registration, a refresh answered after a stale nonce, another
	if _, err := registrar.WaitReceived(ctx, "REGISTER ", 7); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"status", "-data-dir", pbx.dataDir}, &out, &errOut); code != 0 {
		t.Fatalf("ringdesk status: exit %d: %s", code, errOut.String())
	}
	if !regexpMatch(`(?m)^provider\s+registered\s+0\s+200 OK\s+expires in`, out.String()) {
		t.Errorf("ringdesk status shows no registered trunk:\n%s", out.String())
	}
	out.Reset()
	if code := run([]string{"status", "-data-dir", pbx.dataDir, "-metrics"}, &out, &errOut); code != 0 {
		t.Fatalf("ringdesk status -metrics: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `ringdesk_trunk_registered{trunk="provider"} 1`) {
		t.Errorf("metrics:\n%s", out.String())
	}
	pbx.stop() // unregisters
	mustSucceed(t, "registrar", registrar.Wait(ctx))
	if code := run([]string{"status", "-data-dir", pbx.dataDir}, &out, &errOut); code == 0 {
		t.Errorf("ringdesk status succeeded with Ringdesk stopped")
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
