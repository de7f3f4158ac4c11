package main

// End-to-end test of a crash: Ringdesk runs as a child process (this test
// binary, re-executed as the program) so that it can be killed with SIGKILL
// in the middle of a recorded call.

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/wav"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// childEnv set to "1" makes the test binary run Ringdesk instead of the
// tests: its arguments are the program's (e.g. serve -config FILE).
const childEnv = "RINGDESK_TEST_MAIN"

// TestMain runs the program itself when the test binary is re-executed by
// startChild, and the tests otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// childPBX is Ringdesk running in a process of its own, on loopback.
type childPBX struct {
	*peertest.Proc
	addr    netip.AddrPort // SIP, UDP and TCP
	dataDir string
}

// startChild runs `ringdesk serve` in a child process (its own process
// group, killed with the test binary and stopped at the end of the test)
// with the loopback config of startPBX, the agents of testAgents and rtpPorts,
// and waits until it answers OPTIONS.
func startChild(ctx context.Context, t *testing.T, rtpPorts, callsYAML string) *childPBX {
	t.Helper()
	return startChildConfig(ctx, t, writeChildConfig(t, rtpPorts, callsYAML, "", ""))
}

// childConfig is a child's config file and what it says.
type childConfig struct {
	path    string
	addr    netip.AddrPort
	dataDir string
}

// writeChildConfig writes the config of a child: startPBX's loopback
// config with testAgents, rtpPorts, callsYAML under calls:, top as more
// top-level YAML and, when not empty, dialplan as dialplan.yaml.
func writeChildConfig(t *testing.T, rtpPorts, callsYAML, top, dialplan string) childConfig {
	t.Helper()
	port := peertest.FreeSIPPort(t, loopback)
	c := childConfig{
		addr:    netip.AddrPortFrom(netip.MustParseAddr(loopback), uint16(port)), //nolint:gosec // a port
		dataDir: t.TempDir(),
	}
	yaml := fmt.Sprintf(`sip:
  listen: ["udp://127.0.0.1:%[1]d", "tcp://127.0.0.1:%[1]d"]
  realm: ringdesk
rtp:
  address: 127.0.0.1
  ports: %[2]s
  quarantine: 100ms
calls:
%[3]s
data_dir: %[4]s
%[5]s
%[6]s`, port, rtpPorts, indent(callsYAML), c.dataDir, testAgents, top)
	dir := t.TempDir()
	if dialplan != "" {
		writeFile(t, filepath.Join(dir, "dialplan.yaml"), dialplan)
		yaml += "\ndialplan: dialplan.yaml\n"
	}
	c.path = filepath.Join(dir, "ringdesk.yaml")
	writeFile(t, c.path, yaml)
	return c
}

// startChildConfig runs a child on the config c and waits until it
// answers OPTIONS; a second child on the same config is a restart.
func startChildConfig(ctx context.Context, t *testing.T, c childConfig) *childPBX {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &childPBX{addr: c.addr, dataDir: c.dataDir}
	p.Proc = peertest.StartFor(t, time.Minute, "ringdesk", "", []string{childEnv + "=1"},
		exe, "serve", "-config", c.path)
	if _, err := p.WaitLog(ctx, `^Ringdesk .* is running`); err != nil {
		t.Fatal(err)
	}
	siptest.WaitReady(t, p.addr, 10*time.Second)
	return p
}

// registerAt is register for a Ringdesk at addr.
func (u sippUser) registerAt(ctx context.Context, t *testing.T, addr netip.AddrPort, expires int) peertest.SIPpResult {
	t.Helper()
	return peertest.SIPp{
		Scenario: "register.xml", Remote: addr.String(), IP: loopback, Port: u.port,
		Service: u.ext, AuthUser: u.ext, AuthPass: u.password,
		Keys: map[string]string{"expires": strconv.Itoa(expires)},
	}.Start(t).Wait(ctx)
}

// waitNewFile waits for the first file matching pattern and returns its
// path and when it was seen. It fails when ctx ends, or when one of procs
// ends first.
func waitNewFile(ctx context.Context, t *testing.T, pattern string, procs ...*peertest.Proc) (string, time.Time) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return m[0], time.Now()
		}
		for _, p := range procs {
			if p.Exited() {
				t.Fatalf("%s ended before %s appeared", p.Name(), pattern)
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %s: %v", pattern, ctx.Err())
		case <-tick.C:
		}
	}
}

// TestRecordingSurvivesSIGKILL: Ringdesk records a call between SIPp 1001
// (1000 Hz, left: the customer) and SIPp 1002 (440 Hz, right) and is killed
// with SIGKILL about 3 s into it. The recording left behind opens in sox without a
// warning and holds the audio up to the kill, give or take the recorder's
// flush interval: both tones in the last second.
func TestRecordingSurvivesSIGKILL(t *testing.T) {
	ctx := e2e(t, "sipp", "sox", "soxi")
	ctx, cancel := context.WithTimeout(ctx, 35*time.Second)
	defer cancel()
	pbx := startChild(ctx, t, "33800-33999", "record: true")

	bob := newSIPpUser(t, "1002", "bob-1002")
	mustSucceed(t, "register 1002", bob.registerAt(ctx, t, pbx.addr, 300))
	// Both SIPps outlast the kill by far; they are stopped once it is done.
	uas := bob.answer(t, "uas_answer.xml", 1, map[string]string{"pcap": peertest.WriteTonePcap(t, 440, 20*time.Second, media.PCMU, "")})
	uac := peertest.SIPp{
		Scenario: "uac_call.xml", Remote: pbx.addr.String(), IP: loopback, MediaIP: loopback,
		Service: "1002", AuthUser: "1001", AuthPass: "alice-1001",
		Keys: map[string]string{
			"caller": "1001",
			"pcap":   peertest.WriteTonePcap(t, 1000, 20*time.Second, media.PCMU, ""),
		},
		DurationMS: 20000, Timeout: 30 * time.Second,
	}.Start(t)

	// The recording starts when the call is answered.
	path, appeared := waitNewFile(ctx, t, filepath.Join(pbx.dataDir, "recordings", "*", "*", "*", "*.wav"),
		pbx.Proc, uac.Proc, uas.Proc)
	// 3.25 s: the recorder flushes every 500 ms from the file's creation, so
	// the kill falls between two flushes rather than racing one.
	select {
	case <-time.After(3250 * time.Millisecond): // the call goes on
	case <-pbx.Done():
		t.Fatal("ringdesk ended during the call")
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	for _, r := range []*peertest.SIPpRun{uac, uas} {
		if r.Exited() {
			t.Fatalf("%s ended before the kill: %s", r.Name(), r.Wait(ctx))
		}
	}
	killed := time.Now()
	if err := pbx.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code, err := pbx.Wait(ctx); code != -1 || err == nil {
		t.Fatalf("ringdesk after SIGKILL: exit %d, %v", code, err)
	}
	uac.Stop()
	uas.Stop()
	elapsed := killed.Sub(appeared)

	for _, argv := range [][]string{{"sox", "--i", path}, {"soxi", path}, {"sox", path, "-n"}} {
		out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		if err != nil || strings.Contains(string(out), "WARN") || strings.Contains(string(out), "FAIL") {
			t.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
	}
	soxDur := -1.0
	if out, err := exec.CommandContext(ctx, "soxi", "-D", path).Output(); err == nil {
		soxDur, _ = strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	}

	a, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recording %s: %d bytes, %s of audio (soxi: %.3f s); %s from the file's appearance to SIGKILL, %s missing",
		filepath.Base(path), fi.Size(), a.Duration(), soxDur, elapsed.Round(time.Millisecond),
		(elapsed - a.Duration()).Round(time.Millisecond))
	if a.Rate != 8000 || len(a.Channels) != 2 {
		t.Fatalf("recording is %d channels at %d Hz, want 2 at 8000", len(a.Channels), a.Rate)
	}
	if d := a.Duration() - elapsed; d < -time.Second || d > time.Second {
		t.Errorf("recording holds %s, the call was recorded for %s before the kill", a.Duration(), elapsed)
	}
	if d := soxDur - a.Duration().Seconds(); d < -0.01 || d > 0.01 {
		t.Errorf("sox reads %.3f s, wav.ReadFile %s", soxDur, a.Duration())
	}
	if len(a.Samples) < 8000 {
		t.Fatalf("recording holds only %d samples", len(a.Samples))
	}
	for _, ch := range []struct {
		name string
		pcm  []int16
		freq float64
	}{{"left (caller 1001)", a.Channels[0], 1000}, {"right (callee 1002)", a.Channels[1], 440}} {
		if s := share(ch.pcm[len(ch.pcm)-8000:], ch.freq); s < 0.8 {
			t.Errorf("%s channel, last second: %.0f Hz share %.2f, want > 0.8", ch.name, ch.freq, s)
		}
	}
}
