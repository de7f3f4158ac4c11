package main

// End-to-end tests: Ringdesk runs in this process on loopback and real peers
// (SIPp, baresip, linphonec) call through it; dumpcap records what travels on
// the wire, and the tests assert on what a user would notice: the tone each
// side hears, the digits that arrived, the status a caller gets, the call
// record. They skip under -short; under CI=true a missing peer fails them.

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

const loopback = "127.0.0.1"

func e2e(t *testing.T, programs ...string) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	peertest.Require(t, programs...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// sippUser is a SIPp answering as an extension: it registers from the
// address it then answers on.
type sippUser struct {
	ext, password string
	port          int // SIP port
	mediaPort     int
}

func newSIPpUser(t *testing.T, ext, password string) sippUser {
	t.Helper()
	return sippUser{
		ext: ext, password: password,
		port: peertest.FreeSIPPort(t, loopback), mediaPort: peertest.FreeRTPPort(t, loopback),
	}
}

// register registers the user's address with Ringdesk (expires 0 unregisters).
func (u sippUser) register(ctx context.Context, t *testing.T, pbx *testPBX, expires int) peertest.SIPpResult {
	t.Helper()
	r := peertest.SIPp{
		Scenario: "register.xml", Remote: pbx.sipAddr("udp").String(), IP: loopback, Port: u.port,
		Service: u.ext, AuthUser: u.ext, AuthPass: u.password,
		Keys: map[string]string{"expires": strconv.Itoa(expires)},
	}.Start(t).Wait(ctx)
	return r
}

// answer starts the user's SIPp with a scenario that takes calls.
func (u sippUser) answer(t *testing.T, scenario string, calls int, keys map[string]string, extra ...string) *peertest.SIPpRun {
	t.Helper()
	return peertest.SIPp{
		Scenario: scenario, IP: loopback, Port: u.port, MediaIP: loopback, MediaPort: u.mediaPort,
		Service: u.ext, Calls: calls, Keys: keys, Extra: extra, Timeout: 90 * time.Second,
	}.Start(t)
}

// dial runs a SIPp UAC as extension from calling callee.
func dial(t *testing.T, pbx *testPBX, scenario, from, password, callee string, mediaPort int, keys map[string]string, durationMS int) *peertest.SIPpRun {
	t.Helper()
	k := map[string]string{"caller": from}
	for a, b := range keys {
		k[a] = b
	}
	return peertest.SIPp{
		Scenario: scenario, Remote: pbx.sipAddr("udp").String(), IP: loopback, MediaIP: loopback,
		MediaPort: mediaPort, Service: callee, AuthUser: from, AuthPass: password, Keys: k,
		DurationMS: durationMS, Timeout: 60 * time.Second,
	}.Start(t)
}

func mustSucceed(t *testing.T, what string, r peertest.SIPpResult) {
	t.Helper()
	if r.ExitCode != 0 || r.Err != nil {
		t.Fatalf("%s: %s", what, r)
	}
}

// finalStatus returns the final response code SIPp received for its INVITE.
func finalStatus(r peertest.SIPpResult) int {
	code := 0
	for _, m := range r.ReceivedMessages() {
		if !strings.Contains(peertest.SIPHeader(m, "CSeq"), "INVITE") {
			continue
		}
		f := strings.Fields(peertest.SIPStartLine(m))
		if len(f) >= 2 && f[0] == "SIP/2.0" {
			if c, err := strconv.Atoi(f[1]); err == nil && c >= 200 && c != 401 && c != 407 {
				code = c
			}
		}
	}
	return code
}

// received returns what the capture shows arriving at dst: RTP packets and
// their decoded audio.
func received(t *testing.T, pkts []mediatest.Packet, dst netip.AddrPort) ([]mediatest.RTPPacket, []int16) {
	t.Helper()
	rtp := mediatest.RTP(pkts, mediatest.To(dst))
	return rtp, mediatest.DecodeAudio(rtp)
}

// assertTone checks that audio is mostly a tone of freq Hz.
func assertTone(t *testing.T, who string, audio []int16, freq float64) {
	t.Helper()
	if len(audio) < 8000 {
		t.Errorf("%s heard %d samples, want at least a second of audio", who, len(audio))
		return
	}
	share := mediatest.ToneShare(audio, 8000, freq, 25)
	rms := mediatest.RMS(audio)
	if share < 0.9 || rms < 0.05 {
		t.Errorf("%s heard %.0f Hz at RMS %.3f (%.2f of the energy at %.0f Hz); want a clear %.0f Hz tone",
			who, mediatest.DominantFrequency(audio, 8000), rms, share, freq, freq)
	}
}

// assertBaresipHeard checks that baresip's recording of its last call holds
// a clear freq tone (silence at either end trimmed).
func assertBaresipHeard(ctx context.Context, t *testing.T, who string, p *peertest.BaresipPhone, freq float64) {
	t.Helper()
	path, err := p.LastReceived(ctx)
	if err != nil {
		t.Fatal(err)
	}
	heard, _, _, err := mediatest.ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	assertTone(t, who, mediatest.Trim(heard, 8000, 0.02), freq)
}

// inRange reports whether port is one of Ringdesk's RTP ports in the test config.
func inRange(port uint16, lo, hi int) bool { return int(port) >= lo && int(port) <= hi }

var mLine = regexp.MustCompile(`(?m)^m=audio (\d+) `)

func sdpPort(sdp string) int {
	m := mLine.FindStringSubmatch(sdp)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestSIPpCallThroughRingdesk: SIPp 1001 calls SIPp 1002 (registered with
// digest). Each hears the other's tone, the digits arrive, every RTP packet
// goes through Ringdesk, and each side's SDP points at Ringdesk.
func TestSIPpCallThroughRingdesk(t *testing.T) {
	ctx := e2e(t, "sipp", "dumpcap")
	pbx := startPBX(t, pbxOptions{RTPPorts: "31000-31199"})
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
	if b := pbx.app.sip.Bindings("1002"); len(b) != 1 || b[0].Source.Port() != uint16(bob.port) {
		t.Fatalf("bindings of 1002 = %+v, want one from port %d", b, bob.port)
	}

	aliceMedia := peertest.FreeRTPPort(t, loopback)
	cap := peertest.StartCapture(t, fmt.Sprintf("udp and host 127.0.0.1 and (port %d or port %d)", bob.mediaPort, aliceMedia))
	uas := bob.answer(t, "uas_answer.xml", 1, map[string]string{
		"pcap": peertest.WriteTonePcap(t, 440, 4*time.Second, media.PCMU, ""),
	})
	uac := dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "1002", aliceMedia, map[string]string{
		"pcap": peertest.WriteTonePcap(t, 1000, 4*time.Second, media.PCMU, "19#"),
	}, 5000)
	ur := uac.Wait(ctx)
	mustSucceed(t, "caller 1001", ur)
	sr := uas.Wait(ctx)
	mustSucceed(t, "callee 1002", sr)
	rec := pbx.nextCall(ctx)
	pkts, err := mediatest.ReadPcap(cap.Stop())
	if err != nil {
		t.Fatal(err)
	}

	toBob, bobHeard := received(t, pkts, netip.AddrPortFrom(netip.MustParseAddr(loopback), uint16(bob.mediaPort)))
	toAlice, aliceHeard := received(t, pkts, netip.AddrPortFrom(netip.MustParseAddr(loopback), uint16(aliceMedia)))
	assertTone(t, "1002", bobHeard, 1000)
	assertTone(t, "1001", aliceHeard, 440)
	if got := mediatest.DTMF(toBob, 101); got != "19#" {
		t.Errorf("1002 received DTMF %q, want \"19#\"", got)
	}
	for _, p := range append(toBob, toAlice...) {
		if !inRange(p.Src.Port(), 31000, 31199) {
			t.Fatalf("RTP %s -> %s did not come from Ringdesk", p.Src, p.Dst)
		}
	}
	for _, s := range mediatest.Streams(append(toBob, toAlice...)) {
		if s.SeqGaps > 2 {
			t.Errorf("stream %s -> %s (SSRC %08x): %d sequence gaps", s.Src, s.Dst, s.SSRC, s.SeqGaps)
		}
	}
	if n := len(mediatest.Streams(toBob)); n != 1 {
		t.Errorf("1002 saw %d RTP streams, want one clean stream", n)
	}

	// The SDP each side saw points at Ringdesk, not at the other SIPp.
	bobSDP := sr.ReceivedSDP()
	aliceSDP := ur.ReceivedSDP()
	if len(bobSDP) == 0 || len(aliceSDP) == 0 {
		t.Fatalf("no SDP received: callee %d, caller %d", len(bobSDP), len(aliceSDP))
	}
	for who, sdps := range map[string][]string{"1002": bobSDP, "1001": aliceSDP} {
		for _, s := range sdps {
			if p := sdpPort(s); !inRange(uint16(p), 31000, 31199) || p == bob.mediaPort || p == aliceMedia {
				t.Errorf("SDP seen by %s has media port %d, want a Ringdesk port:\n%s", who, p, s)
			}
			if !strings.Contains(s, "c=IN IP4 127.0.0.1") {
				t.Errorf("SDP seen by %s lacks Ringdesk's address:\n%s", who, s)
			}
		}
	}

	if rec.Cause != calls.CauseNormal || rec.Status != 200 || rec.AnsweredBy == "" || rec.HungUpBy != calls.RoleCaller {
		t.Errorf("call record: cause %s status %d answered by %q hung up by %s", rec.Cause, rec.Status, rec.AnsweredBy, rec.HungUpBy)
	}
	if rec.Caller.Extension != "1001" || rec.Caller.Name != "Alice Example" || rec.Callee.Extension != "1002" {
		t.Errorf("call record parties: caller %+v callee %+v", rec.Caller, rec.Callee)
	}
	if rec.TalkDuration < 4*time.Second || rec.TalkDuration > 8*time.Second {
		t.Errorf("talk duration %s, want about 5 s", rec.TalkDuration)
	}
	if len(rec.Legs) != 2 || rec.Legs[1].RxPackets < 100 || rec.Legs[0].RxPackets < 100 {
		t.Errorf("call record legs: %+v", rec.Legs)
	}
}

// TestDeskPhonesCall: baresip (1001) calls linphonec (1002) through Ringdesk;
// each hears the other's tone; the caller hangs up and both legs end.
func TestDeskPhonesCall(t *testing.T) {
	ctx := e2e(t, "baresip", "linphonec")
	pbx := startPBX(t, pbxOptions{RTPPorts: "31200-31399"})
	reg := pbx.sipAddr("udp").String()
	alice := peertest.Baresip{
		IP: loopback, User: "1001", Password: "alice-1001", Registrar: reg,
		WAV: peertest.WriteToneWAV(t, 660, 30*time.Second),
	}.Start(t)
	bob := peertest.Linphone{
		IP: loopback, User: "1002", Password: "bob-1002", Registrar: reg,
		WAV: peertest.WriteToneWAV(t, 880, 30*time.Second),
	}.Start(t)
	if _, err := alice.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	off := bob.LogOffset()
	if err := alice.Dial(ctx, "sip:1002@"+reg); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitConnected(ctx, off); err != nil {
		t.Fatal(err)
	}
	// Let both sides talk, then the caller hangs up.
	if _, err := alice.WaitRecorded(ctx, 4*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := alice.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEnded(ctx, off); err != nil {
		t.Fatalf("linphonec did not see the call end: %v", err)
	}
	rec := pbx.nextCall(ctx)
	if rec.Cause != calls.CauseNormal || rec.HungUpBy != calls.RoleCaller {
		t.Errorf("call record: cause %s hung up by %s", rec.Cause, rec.HungUpBy)
	}
	if err := bob.WaitRecorded(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	bobAudio, _, _, err := mediatest.ReadWAV(bob.Recording())
	if err != nil {
		t.Fatal(err)
	}
	assertTone(t, "linphonec 1002", mediatest.Trim(bobAudio, 8000, 0.02), 660)
	path, err := alice.LastReceived(ctx)
	if err != nil {
		t.Fatal(err)
	}
	aliceAudio, rate, _, err := mediatest.ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 {
		t.Fatalf("baresip recording at %d Hz", rate)
	}
	assertTone(t, "baresip 1001", mediatest.Trim(aliceAudio, 8000, 0.02), 880)
	pbx.assertIdle(t, 1<<20)
}

// TestTranscoding: a PCMA-only caller and a PCMU-only callee hear each other.
func TestTranscoding(t *testing.T) {
	ctx := e2e(t, "sipp", "dumpcap")
	pbx := startPBX(t, pbxOptions{RTPPorts: "31400-31599"})
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
	aliceMedia := peertest.FreeRTPPort(t, loopback)
	cap := peertest.StartCapture(t, fmt.Sprintf("udp and host 127.0.0.1 and (port %d or port %d)", bob.mediaPort, aliceMedia))
	uas := bob.answer(t, "uas_answer.xml", 1, map[string]string{ // answers PCMU only
		"pcap": peertest.WriteTonePcap(t, 440, 4*time.Second, media.PCMU, "")})
	uac := dial(t, pbx, "uac_pcma.xml", "1001", "alice-1001", "1002", aliceMedia, map[string]string{
		"pcap": peertest.WriteTonePcap(t, 1000, 4*time.Second, media.PCMA, ""),
	}, 5000)
	mustSucceed(t, "PCMA caller", uac.Wait(ctx))
	mustSucceed(t, "PCMU callee", uas.Wait(ctx))
	rec := pbx.nextCall(ctx)
	pkts, err := mediatest.ReadPcap(cap.Stop())
	if err != nil {
		t.Fatal(err)
	}
	toBob, bobHeard := received(t, pkts, netip.AddrPortFrom(netip.MustParseAddr(loopback), uint16(bob.mediaPort)))
	toAlice, aliceHeard := received(t, pkts, netip.AddrPortFrom(netip.MustParseAddr(loopback), uint16(aliceMedia)))
	assertTone(t, "PCMU callee", bobHeard, 1000)
	assertTone(t, "PCMA caller", aliceHeard, 440)
	for _, p := range toBob {
		if p.Header.PayloadType != 0 {
			t.Fatalf("callee got payload type %d, want 0 (PCMU)", p.Header.PayloadType)
		}
	}
	for _, p := range toAlice {
		if p.Header.PayloadType != 8 {
			t.Fatalf("caller got payload type %d, want 8 (PCMA)", p.Header.PayloadType)
		}
	}
	if len(rec.Legs) < 2 || rec.Legs[0].Codec != "PCMA" || rec.Legs[1].Codec != "PCMU" {
		t.Errorf("leg codecs: %+v", rec.Legs)
	}
}

// TestFailedCalls: what a caller gets when a call cannot be connected.
func TestFailedCalls(t *testing.T) {
	ctx := e2e(t, "sipp")
	pbx := startPBX(t, pbxOptions{RTPPorts: "31600-31799", Calls: "ring_timeout: 2s"})
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
	baseline := runtime.NumGoroutine()

	tests := []struct {
		name      string
		callee    string
		password  string
		uas       string // the callee phone's scenario, "" for none
		uac       string
		wantCode  int
		wantCause calls.Cause
	}{
		{"caller cancels", "1002", "alice-1001", "uas_ring.xml", "uac_cancel.xml", 487, calls.CauseCancelled},
		{"busy", "1002", "alice-1001", "uas_busy.xml", "uac_fail.xml", 486, calls.CauseBusy},
		{"no answer", "1002", "alice-1001", "uas_ring.xml", "uac_fail.xml", 480, calls.CauseNoAnswer},
		{"unknown extension", "1099", "alice-1001", "", "uac_fail.xml", 404, calls.CauseNotFound},
		{"not registered", "1003", "alice-1001", "", "uac_fail.xml", 480, calls.CauseUnavailable},
		{"wrong password", "1002", "not-the-password", "", "uac_fail.xml", 403, calls.CauseUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var uas *peertest.SIPpRun
			if tt.uas != "" {
				uas = bob.answer(t, tt.uas, 1, nil)
			}
			uac := dial(t, pbx, tt.uac, "1001", tt.password, tt.callee, peertest.FreeRTPPort(t, loopback), nil, 1000)
			ur := uac.Wait(ctx)
			mustSucceed(t, "caller", ur)
			if got := finalStatus(ur); got != tt.wantCode {
				t.Errorf("caller got %d, want %d", got, tt.wantCode)
			}
			if uas != nil {
				sr := uas.Wait(ctx)
				mustSucceed(t, "callee", sr)
				if tt.uas == "uas_ring.xml" {
					if _, ok := sr.FindReceived("CANCEL "); !ok {
						t.Errorf("the ringing phone got no CANCEL")
					}
				}
			}
			if tt.wantCause == calls.CauseUnknown {
				return // refused before a call existed
			}
			rec := pbx.nextCall(ctx)
			if rec.Cause != tt.wantCause || rec.Status != tt.wantCode {
				t.Errorf("call record: cause %s status %d, want %s %d", rec.Cause, rec.Status, tt.wantCause, tt.wantCode)
			}
			pbx.assertIdle(t, baseline)
		})
	}

	t.Run("register with wrong password", func(t *testing.T) {
		r := peertest.SIPp{
			Scenario: "register.xml", Remote: pbx.sipAddr("udp").String(), IP: loopback,
			Service: "1003", AuthUser: "1003", AuthPass: "wrong", Keys: map[string]string{"expires": "300"},
		}.Start(t).Wait(ctx)
		if r.ExitCode == 0 {
			t.Fatalf("registration with a wrong password succeeded")
		}
		if _, ok := r.FindReceived("SIP/2.0 403"); !ok {
			t.Errorf("no 403 for a wrong password: %s", r)
		}
		if b := pbx.app.sip.Bindings("1003"); len(b) != 0 {
			t.Errorf("1003 got bound: %+v", b)
		}
	})
}

// TestHoldAndResume: a phone's re-INVITE with sendonly is answered recvonly
// (RFC 3264 §6.1), sendrecv again after, and the call goes on.
func TestHoldAndResume(t *testing.T) {
	ctx := e2e(t, "sipp")
	pbx := startPBX(t, pbxOptions{RTPPorts: "31800-31999"})
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
	uas := bob.answer(t, "uas_answer.xml", 1, map[string]string{
		"pcap": peertest.WriteTonePcap(t, 440, 2*time.Second, media.PCMU, ""),
	})
	uac := dial(t, pbx, "uac_hold.xml", "1001", "alice-1001", "1002", peertest.FreeRTPPort(t, loopback),
		map[string]string{"pcap": peertest.WriteTonePcap(t, 1000, 2*time.Second, media.PCMU, "")}, 1000)
	mustSucceed(t, "caller holding and resuming", uac.Wait(ctx)) // checks recvonly, then sendrecv
	mustSucceed(t, "callee", uas.Wait(ctx))
	rec := pbx.nextCall(ctx)
	if rec.Cause != calls.CauseNormal {
		t.Errorf("cause %s", rec.Cause)
	}
	if rec.HoldDuration < time.Second || rec.HoldDuration > 3*time.Second {
		t.Errorf("hold duration %s, want about 1.5 s", rec.HoldDuration)
	}
	var held, resumed int
	for _, e := range pbx.eventsOf(rec.ID) {
		switch e.(type) {
		case calls.CallHeld:
			held++
		case calls.CallResumed:
			resumed++
		}
	}
	if held != 1 || resumed != 1 {
		t.Errorf("events: %d held, %d resumed; want 1 and 1", held, resumed)
	}
}

// TestRestartKeepsRegistrations: a phone registered before a restart can be
// called after it.
func TestRestartKeepsRegistrations(t *testing.T) {
	ctx := e2e(t, "sipp")
	opts := pbxOptions{RTPPorts: "32000-32199", DataDir: t.TempDir(), SIPPort: peertest.FreeSIPPort(t, loopback)}
	first := startPBX(t, opts)
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, first, 300))
	first.stop()

	second := startPBX(t, opts)
	for b := second.app.sip.Bindings("1002"); len(b) != 1; b = second.app.sip.Bindings("1002") {
		// Serve loads the stored registrations before it answers anything.
		if ctx.Err() != nil {
			t.Fatalf("after restart, bindings of 1002 = %+v", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	uas := bob.answer(t, "uas_answer.xml", 1, map[string]string{
		"pcap": peertest.WriteTonePcap(t, 440, time.Second, media.PCMU, ""),
	})
	uac := dial(t, second, "uac_call.xml", "1001", "alice-1001", "1002", peertest.FreeRTPPort(t, loopback),
		map[string]string{"pcap": peertest.WriteTonePcap(t, 1000, time.Second, media.PCMU, "")}, 1000)
	mustSucceed(t, "caller after restart", uac.Wait(ctx))
	mustSucceed(t, "callee registered before the restart", uas.Wait(ctx))
	if rec := second.nextCall(ctx); rec.Status != 200 {
		t.Errorf("call after restart: status %d cause %s", rec.Status, rec.Cause)
	}
}

// TestLoad: 200 calls at 20 calls/s with media both ways, zero failures, and
// nothing left behind afterwards.
func TestLoad(t *testing.T) {
	ctx := e2e(t, "sipp")
	pbx := startPBX(t, pbxOptions{RTPPorts: "32200-32999"})
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 600))
	baseline := runtime.NumGoroutine()
	const n = 200
	uas := bob.answer(t, "uas_answer.xml", n, map[string]string{
		"pcap": peertest.WriteTonePcap(t, 440, time.Second, media.PCMU, ""),
	})
	uac := peertest.SIPp{
		Scenario: "uac_call.xml", Remote: pbx.sipAddr("udp").String(), IP: loopback, MediaIP: loopback,
		MediaPort: peertest.FreeRTPPort(t, loopback), Service: "1002", AuthUser: "1001", AuthPass: "alice-1001",
		Keys:  map[string]string{"caller": "1001", "pcap": peertest.WriteTonePcap(t, 1000, time.Second, media.PCMU, "")},
		Calls: n, Rate: 20, Limit: 80, DurationMS: 1500, Timeout: 90 * time.Second,
	}.Start(t)
	ur := uac.Wait(ctx)
	sr := uas.Wait(ctx)
	if ur.Successful != n || ur.Failed != 0 {
		t.Fatalf("caller side: %s", ur)
	}
	if sr.Successful != n || sr.Failed != 0 {
		t.Fatalf("callee side: %s", sr)
	}
	answered := 0
	for range n {
		if rec := pbx.nextCall(ctx); rec.Status == 200 && rec.Legs[1].RxPackets > 10 && rec.Legs[0].RxPackets > 10 {
			answered++
		}
	}
	if answered != n {
		t.Errorf("%d of %d calls answered with media both ways", answered, n)
	}
	pbx.assertIdle(t, baseline)
}

// TestMalformedSIPDuringCall: garbage on the SIP ports gets 400 or is dropped,
// and a call in progress is not disturbed.
func TestMalformedSIPDuringCall(t *testing.T) {
	ctx := e2e(t, "sipp", "dumpcap")
	pbx := startPBX(t, pbxOptions{RTPPorts: "33000-33199"})
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
	cap := peertest.StartCapture(t, fmt.Sprintf("udp and host 127.0.0.1 and port %d", bob.mediaPort))
	uas := bob.answer(t, "uas_answer.xml", 1, map[string]string{
		"pcap": peertest.WriteTonePcap(t, 440, 5*time.Second, media.PCMU, ""),
	})
	uac := dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "1002", peertest.FreeRTPPort(t, loopback),
		map[string]string{"pcap": peertest.WriteTonePcap(t, 1000, 5*time.Second, media.PCMU, "")}, 5000)

	waitAnswered(ctx, t, pbx)
	udp := pbx.sipAddr("udp")
	msgs := malformed(t, udp.String())
	for _, msg := range msgs {
		sendTCP(t, pbx.sipAddr("tcp"), msg)
	}
	responses := exchangeUDP(t, udp, msgs, time.Second)
	answered400 := 0
	for _, resp := range responses {
		switch {
		case strings.HasPrefix(resp, "SIP/2.0 400"):
			answered400++
		case !strings.HasPrefix(resp, "SIP/2.0 4") && !strings.HasPrefix(resp, "SIP/2.0 505"):
			t.Errorf("malformed request answered %q", peertest.SIPStartLine(resp))
		}
	}
	if answered400 < len(msgs)/3 {
		t.Errorf("%d of %d malformed requests were answered 400", answered400, len(msgs))
	}
	// Ringdesk still answers a well-formed request.
	opt := siptest.RawOptions(udp, "ping-"+testkit.RandHex(8))
	if resp := exchangeUDP(t, udp, [][]byte{opt}, time.Second); len(resp) != 1 || !strings.HasPrefix(resp[0], "SIP/2.0 200") {
		t.Errorf("OPTIONS after the garbage answered %q", resp)
	}

	mustSucceed(t, "caller during garbage", uac.Wait(ctx))
	mustSucceed(t, "callee during garbage", uas.Wait(ctx))
	if rec := pbx.nextCall(ctx); rec.Cause != calls.CauseNormal || rec.Status != 200 {
		t.Errorf("call disturbed: cause %s status %d", rec.Cause, rec.Status)
	}
	pkts, err := mediatest.ReadPcap(cap.Stop())
	if err != nil {
		t.Fatal(err)
	}
	_, heard := received(t, pkts, netip.AddrPortFrom(netip.MustParseAddr(loopback), uint16(bob.mediaPort)))
	assertTone(t, "callee", heard, 1000)
}

// TestGracefulShutdown: on the first signal new calls get 503, calls in
// progress go on through the grace period and are then hung up with BYE.
func TestGracefulShutdown(t *testing.T) {
	ctx := e2e(t, "sipp")
	pbx := startPBX(t, pbxOptions{RTPPorts: "33200-33399", Calls: "shutdown_grace: 3s"})
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
	uas := bob.answer(t, "uas_answer.xml", 1, map[string]string{
		"pcap": peertest.WriteTonePcap(t, 440, 10*time.Second, media.PCMU, ""),
	})
	uac := dial(t, pbx, "uac_wait_bye.xml", "1001", "alice-1001", "1002", peertest.FreeRTPPort(t, loopback),
		map[string]string{"pcap": peertest.WriteTonePcap(t, 1000, 10*time.Second, media.PCMU, "")}, 0)
	waitAnswered(ctx, t, pbx)
	start := time.Now()
	pbx.shutdown()

	refused := dial(t, pbx, "uac_fail.xml", "1001", "alice-1001", "1002", peertest.FreeRTPPort(t, loopback), nil, 0).Wait(ctx)
	mustSucceed(t, "call while draining", refused)
	if got := finalStatus(refused); got != 503 {
		t.Errorf("a call while draining got %d, want 503", got)
	}
	mustSucceed(t, "caller hung up by Ringdesk", uac.Wait(ctx))
	mustSucceed(t, "callee hung up by Ringdesk", uas.Wait(ctx))
	if err := pbx.wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("calls were cut after %s, before the 3 s grace period", took)
	}
	if rec := pbx.nextCall(ctx); rec.Cause != calls.CauseShutdown || rec.Status != 200 {
		t.Errorf("call record: cause %s status %d, want shutdown after answer", rec.Cause, rec.Status)
	}
}

// TestMediaTimeout: a call whose phones stop sending RTP is ended.
func TestMediaTimeout(t *testing.T) {
	ctx := e2e(t, "sipp")
	pbx := startPBX(t, pbxOptions{RTPPorts: "33400-33599", RTP: "media_timeout: 3s"})
	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
	// One second of audio each, then silence: no RTP at all.
	uas := bob.answer(t, "uas_answer.xml", 1, map[string]string{
		"pcap": peertest.WriteTonePcap(t, 440, time.Second, media.PCMU, ""),
	})
	uac := dial(t, pbx, "uac_wait_bye.xml", "1001", "alice-1001", "1002", peertest.FreeRTPPort(t, loopback),
		map[string]string{"pcap": peertest.WriteTonePcap(t, 1000, time.Second, media.PCMU, "")}, 0)
	mustSucceed(t, "caller hung up by Ringdesk", uac.Wait(ctx))
	mustSucceed(t, "callee hung up by Ringdesk", uas.Wait(ctx))
	rec := pbx.nextCall(ctx)
	if rec.Cause != calls.CauseMediaTimeout {
		t.Errorf("cause %s, want media_timeout", rec.Cause)
	}
	if rec.TalkDuration < 3*time.Second || rec.TalkDuration > 10*time.Second {
		t.Errorf("talk %s: the timeout should fire about 3 s after the audio stopped", rec.TalkDuration)
	}
}

// TestStreamPhones: a phone registered over TCP or TLS is called over the
// connection it opened (it has no listener Ringdesk could reach instead:
// the binding's source is the connection's ephemeral port).
func TestStreamPhones(t *testing.T) {
	for _, transport := range []string{"TCP", "TLS"} {
		t.Run(transport, func(t *testing.T) {
			ctx := e2e(t, "sipp", "baresip")
			tls := transport == "TLS"
			ports := "33600-33799"
			if tls {
				ports = "34000-34199"
			}
			pbx := startPBX(t, pbxOptions{RTPPorts: ports, TLS: tls})
			registrar := pbx.sipAddr(strings.ToLower(transport)).String() + ";transport=" + strings.ToLower(transport)
			bob := peertest.Baresip{
				IP: loopback, User: "1002", Password: "bob-1002", Registrar: registrar,
				WAV: peertest.WriteToneWAV(t, 880, 30*time.Second),
			}.Start(t)
			if _, err := bob.WaitRegistered(ctx); err != nil {
				t.Fatal(err)
			}
			if b := pbx.app.sip.Bindings("1002"); len(b) != 1 || b[0].Transport != transport {
				t.Fatalf("binding of 1002: %+v, want one over %s", b, transport)
			}
			uac := dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "1002", peertest.FreeRTPPort(t, loopback),
				map[string]string{"pcap": peertest.WriteTonePcap(t, 1000, 3*time.Second, media.PCMU, "")}, 3000)
			mustSucceed(t, "caller to a "+transport+" phone", uac.Wait(ctx))
			rec := pbx.nextCall(ctx)
			if rec.Status != 200 || len(rec.Legs) != 2 || rec.Legs[1].Transport != transport {
				t.Fatalf("call record: status %d legs %+v", rec.Status, rec.Legs)
			}
			assertBaresipHeard(ctx, t, transport+" phone", bob, 1000)
		})
	}
}

func waitAnswered(ctx context.Context, t *testing.T, pbx *testPBX) {
	t.Helper()
	for {
		pbx.mu.Lock()
		for _, e := range pbx.events {
			if _, ok := e.(calls.CallAnswered); ok {
				pbx.mu.Unlock()
				return
			}
		}
		pbx.mu.Unlock()
		select {
		case <-ctx.Done():
			t.Fatal("the call was never answered")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// malformed returns the malformed SIP messages the sip package tests use
// too, filled in for a server at server.
func malformed(t *testing.T, server string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "sip", "testdata", "malformed", "*.sip"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no malformed messages in sip/testdata/malformed: %v", err)
	}
	host, _, _ := strings.Cut(server, ":")
	var out [][]byte
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.NewReplacer("{{SERVER}}", server, "{{HOST}}", host, "{{ID}}", fmt.Sprintf("e2e%d-%d", i, time.Now().UnixNano())).Replace(string(b))
		out = append(out, []byte(s))
	}
	return out
}

// exchangeUDP sends each datagram from one socket and returns every
// datagram that comes back within wait.
func exchangeUDP(t *testing.T, addr netip.AddrPort, msgs [][]byte, wait time.Duration) []string {
	t.Helper()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range msgs {
		if _, err := c.Write(m); err != nil {
			t.Logf("send %d bytes: %v", len(m), err)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	var out []string
	buf := make([]byte, 65536)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return out
		}
		out = append(out, string(buf[:n]))
	}
}

// sendTCP writes msg on a new TCP connection and closes it.
func sendTCP(t *testing.T, addr netip.AddrPort, msg []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	_, _ = c.Write(msg)
}

// TestAllPhonesRing: every registered phone of an extension rings at once;
// the first to answer gets the call, the others get CANCEL saying the call
// was completed elsewhere (RFC 3326), so they do not show a missed call.
func TestAllPhonesRing(t *testing.T) {
	ctx := e2e(t, "sipp")
	pbx := startPBX(t, pbxOptions{RTPPorts: "33800-33999"})
	desk := newSIPpUser(t, "1002", "bob-1002")
	mobile := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register desk phone", desk.register(ctx, t, pbx, 300))
	mustSucceed(t, "register second phone", mobile.register(ctx, t, pbx, 300))
	if b := pbx.app.sip.Bindings("1002"); len(b) != 2 {
		t.Fatalf("1002 has %d bindings, want 2", len(b))
	}
	ringing := desk.answer(t, "uas_ring.xml", 1, nil)
	answering := mobile.answer(t, "uas_answer.xml", 1, map[string]string{
		"pcap": peertest.WriteTonePcap(t, 440, time.Second, media.PCMU, ""),
	})
	uac := dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "1002", peertest.FreeRTPPort(t, loopback),
		map[string]string{"pcap": peertest.WriteTonePcap(t, 1000, time.Second, media.PCMU, "")}, 1500)
	mustSucceed(t, "caller", uac.Wait(ctx))
	mustSucceed(t, "answering phone", answering.Wait(ctx))
	rr := ringing.Wait(ctx)
	mustSucceed(t, "phone that kept ringing", rr)
	cancel, ok := rr.FindReceived("CANCEL ")
	if !ok {
		t.Fatal("the other phone got no CANCEL")
	}
	if reason := peertest.SIPHeader(cancel, "Reason"); !strings.Contains(reason, "cause=200") ||
		!strings.Contains(reason, "Call completed elsewhere") {
		t.Errorf("CANCEL Reason %q, want SIP;cause=200;text=\"Call completed elsewhere\"", reason)
	}
	rec := pbx.nextCall(ctx)
	if rec.Status != 200 || len(rec.Legs) != 3 {
		t.Fatalf("call record: status %d, %d legs", rec.Status, len(rec.Legs))
	}
	var answeredBy, cancelled int
	for _, leg := range rec.Legs[1:] {
		switch {
		case leg.ID == rec.AnsweredBy:
			answeredBy++
			if leg.Source.Port() != uint16(mobile.port) {
				t.Errorf("answered by the phone at %s, want port %d", leg.Source, mobile.port)
			}
		case leg.Status == 487:
			cancelled++
		}
	}
	if answeredBy != 1 || cancelled != 1 {
		t.Errorf("legs: %+v", rec.Legs)
	}
}
