package peertest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseSIPpMessages(t *testing.T) {
	log, err := os.ReadFile("testdata/sipp_uac_messages.log")
	if err != nil {
		t.Fatal(err)
	}
	msgs := ParseSIPpMessages(string(log))
	want := []struct {
		sent  bool
		start string
	}{
		{true, "INVITE sip:1002@127.0.0.21:5070 SIP/2.0"},
		{false, "SIP/2.0 100 Trying"},
		{false, "SIP/2.0 180 Ringing"},
		{false, "SIP/2.0 200 OK"},
		{true, "ACK sip:1002@127.0.0.21:5070;transport=UDP SIP/2.0"},
		{true, "BYE sip:1002@127.0.0.21:5070;transport=UDP SIP/2.0"},
		{false, "SIP/2.0 200 OK"},
	}
	if len(msgs) != len(want) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(want))
	}
	for i, w := range want {
		m := msgs[i]
		if m.Sent != w.sent || SIPStartLine(m.Text) != w.start || m.Transport != "UDP" {
			t.Errorf("message %d: sent %v %q over %s, want sent %v %q", i, m.Sent, SIPStartLine(m.Text), m.Transport, w.sent, w.start)
		}
		if n := atoi(SIPHeader(m.Text, "Content-Length")); n != len(SIPBody(m.Text)) {
			t.Errorf("message %d: Content-Length %d, body %d bytes", i, n, len(SIPBody(m.Text)))
		}
	}
	if got := msgs[0].Time; got != "2026-11-21 10:50:18.953197" {
		t.Errorf("time %q", got)
	}

	res := SIPpResult{Messages: string(log)}
	if got := len(res.ReceivedMessages()); got != 4 {
		t.Errorf("ReceivedMessages: %d, want 4", got)
	}
	if got := len(res.SentMessages()); got != 3 {
		t.Errorf("SentMessages: %d, want 3", got)
	}
	sdp := res.ReceivedSDP()
	if len(sdp) != 1 || !strings.HasPrefix(sdp[0], "v=0\r\n") || !strings.Contains(sdp[0], "m=audio 16000 RTP/AVP 0 101\r\n") {
		t.Errorf("ReceivedSDP: %q", sdp)
	}
	ok200, found := res.FindReceived("SIP/2.0 200")
	if !found || SIPHeader(ok200, "CSeq") != "1 INVITE" || SIPHeader(ok200, "content-type") != "application/sdp" {
		t.Errorf("FindReceived 200: %v %q", found, ok200)
	}
}

func TestSIPHeaderCompact(t *testing.T) {
	msg := "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP x\r\nc: application/sdp\r\nl: 4\r\n\r\nv=0\n"
	if got := SIPHeader(msg, "Content-Type"); got != "application/sdp" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := SIPHeader(msg, "Via"); got != "SIP/2.0/UDP x" {
		t.Errorf("Via = %q", got)
	}
	if got := SIPHeader(msg, "From"); got != "" {
		t.Errorf("From = %q", got)
	}
	if got := SIPBody(msg); got != "v=0\n" {
		t.Errorf("body = %q", got)
	}
}

func TestParseSIPpStats(t *testing.T) {
	csv, err := os.ReadFile("testdata/sipp_uac_stats.csv")
	if err != nil {
		t.Fatal(err)
	}
	stats := parseSIPpStats(string(csv))
	for k, want := range map[string]string{
		"SuccessfulCall(C)": "1", "FailedCall(C)": "0", "TotalCallCreated": "1",
		"Retransmissions(C)": "0", "OutgoingCall(C)": "1", "CallLength(C)": "00:00:03:316000",
	} {
		if got := stats[k]; got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if parseSIPpStats("") != nil || parseSIPpStats("A;B;\n") != nil {
		t.Error("a file without a data row gave stats")
	}
}

// fakeTB records Skipf and Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Skipf(format string, a ...any)  { f.skipped = fmt.Sprintf(format, a...) }
func (f *fakeTB) Fatalf(format string, a ...any) { f.fatal = fmt.Sprintf(format, a...) }

func TestRequire(t *testing.T) {
	const missing = "peertest-no-such-program"
	for _, tc := range []struct {
		name, ci        string
		skipped, failed bool
	}{
		{name: "present", ci: "", skipped: false, failed: false},
		{name: "missing locally", ci: "", skipped: true},
		{name: "missing in CI", ci: "true", failed: true},
		{name: "missing, CI not true", ci: "1", skipped: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			f := &fakeTB{TB: t}
			progs := []string{"sh"}
			if tc.name != "present" {
				progs = append(progs, missing)
			}
			Require(f, progs...)
			if (f.skipped != "") != tc.skipped || (f.fatal != "") != tc.failed {
				t.Errorf("skipped %q, failed %q", f.skipped, f.fatal)
			}
			if msg := f.skipped + f.fatal; (tc.skipped || tc.failed) && !strings.Contains(msg, missing) {
				t.Errorf("message %q does not name %s", msg, missing)
			}
		})
	}
}

func TestPeersDir(t *testing.T) {
	dir := PeersDir(t)
	if !filepath.IsAbs(dir) {
		t.Errorf("%s is not absolute", dir)
	}
	for _, f := range []string{"sipp/uac_call.xml", "baresip/run.sh", "linphone/run.sh"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestFreePorts(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		p := FreePort(t, network, "127.0.0.1")
		if p <= 0 || p > 65535 {
			t.Errorf("%s port %d", network, p)
		}
	}
	p := FreeRTPPort(t, "127.0.0.1")
	if p%2 != 0 {
		t.Errorf("RTP port %d is odd", p)
	}
	if !portsFree("127.0.0.1", p, 4, "udp") {
		t.Errorf("RTP ports %d-%d are not free", p, p+3)
	}
	s := FreeSIPPort(t, "127.0.0.1")
	if !portsFree("127.0.0.1", s, 1, "udp") || !portsFree("127.0.0.1", s, 1, "tcp") {
		t.Errorf("SIP port %d is not free for UDP and TCP", s)
	}
	// Reserved ports stay out of the kernel's ephemeral range and are never
	// handed out twice while the test runs.
	seen := map[int]bool{}
	for range 100 {
		p := FreeRTPPort(t, "127.0.0.1")
		for q := p; q < p+4; q++ {
			if q < portLow || q >= portHigh {
				t.Fatalf("port %d outside %d-%d", q, portLow, portHigh-1)
			}
			if seen[q] {
				t.Fatalf("port %d reserved twice", q)
			}
			seen[q] = true
		}
	}
}

func TestWaitListening(t *testing.T) {
	if _, err := os.Stat("/proc/net/udp"); err != nil {
		t.Skip("no /proc/net")
	}
	var lc net.ListenConfig
	udp, err := lc.ListenPacket(t.Context(), "udp", "127.0.0.7:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	tcp, err := lc.Listen(t.Context(), "tcp", "127.0.0.7:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := WaitListening(ctx, "udp", "127.0.0.7", udp.LocalAddr().(*net.UDPAddr).Port); err != nil {
		t.Error(err)
	}
	if err := WaitListening(ctx, "tcp", "127.0.0.7", tcp.Addr().(*net.TCPAddr).Port); err != nil {
		t.Error(err)
	}
	short, cancel2 := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel2()
	free := FreePort(t, "udp", "127.0.0.8")
	if err := WaitListening(short, "udp", "127.0.0.8", free); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("free port: %v", err)
	}
}

func TestProcWaitLogAndExit(t *testing.T) {
	p := Start(t, "sh", "", nil, "sh", "-c", `printf 'one\rtwo\nthree\n'; pwd; exit 3`)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	line, err := p.WaitLog(ctx, `^two$`)
	if err != nil || line != "two" {
		t.Errorf("WaitLog: %q %v", line, err)
	}
	code, err := p.Wait(ctx)
	if code != 3 || err != nil {
		t.Errorf("Wait: %d %v", code, err)
	}
	if !strings.Contains(p.Log(), p.Dir()) {
		t.Errorf("not run in its Dir %s: %q", p.Dir(), p.Log())
	}
	// The process has ended: a line that never came fails at once, with the log.
	_, err = p.WaitLog(ctx, `four`)
	if err == nil || !strings.Contains(err.Error(), "three") {
		t.Errorf("WaitLog after exit: %v", err)
	}
	// After an offset only later lines count.
	if _, err := p.WaitLogSince(ctx, int64(len("one\rtwo\n")), `one|two`); err == nil {
		t.Error("WaitLogSince matched a line before the offset")
	}
}

func TestProcWaitLogTimeout(t *testing.T) {
	p := Start(t, "sleep", "", nil, "sh", "-c", "echo started; exec sleep 30")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := p.WaitLog(ctx, `never`)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "started") {
		t.Errorf("WaitLog: %v", err)
	}
}

func TestProcStopKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// The child ignores SIGTERM, so Stop must escalate to SIGKILL for the group.
	p := Start(t, "group", dir, nil, "sh", "-c", `trap '' TERM; sleep 60 & echo $! > child.pid; echo ready; wait`)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := p.WaitLog(ctx, `^ready$`); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p.Stop()
	p.Stop() // idempotent
	if d := time.Since(start); d > StopGrace+time.Second {
		t.Errorf("Stop took %v", d)
	}
	if code, err := p.Wait(ctx); code != -1 || err == nil {
		t.Errorf("Wait after Stop: %d %v", code, err)
	}
	// The background sleep was in the group: it must be gone (or a zombie
	// about to be reaped by init).
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(child, 0) == nil && !zombie(child) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d still running after Stop", child)
		}
		time.Sleep(pollInterval)
	}
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}

func TestProcTimeLimit(t *testing.T) {
	p := StartFor(t, 300*time.Millisecond, "limited", "", nil, "sleep", "30")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	code, err := p.Wait(ctx)
	if code != -1 || err == nil || !strings.Contains(err.Error(), "time limit") {
		t.Errorf("Wait: %d %v", code, err)
	}
	if !strings.Contains(p.Log(), "time limit") {
		t.Errorf("log does not say why: %q", p.Log())
	}
}

func TestWaitWAV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	write := func(dataLen, riffLen uint32, fileData int) {
		t.Helper()
		b := make([]byte, 44+fileData)
		copy(b, "RIFF")
		binary.LittleEndian.PutUint32(b[4:], riffLen)
		copy(b[8:], "WAVEfmt ")
		binary.LittleEndian.PutUint32(b[16:], 16)
		copy(b[36:], "data")
		binary.LittleEndian.PutUint32(b[40:], dataLen)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	for _, tc := range []struct {
		name             string
		dataLen, riffLen uint32
		bytes            int
		finished         bool
	}{
		{"recording (linphonec)", 0, 0, 320, false},
		{"recording (baresip)", 0, 8, 320, false},
		{"streaming writer", math.MaxUint32, math.MaxUint32, 320, false},
		{"finished", 320, 36 + 320, 320, true},
		{"finished (linphonec's sizes)", 44 + 320, 44 + 320 + 32, 320, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write(tc.dataLen, tc.riffLen, tc.bytes)
			if err := WaitWAV(short(), path); (err == nil) != tc.finished {
				t.Errorf("WaitWAV: %v, want finished %v", err, tc.finished)
			}
		})
	}
}

func TestWaitWAVDuration(t *testing.T) {
	dir := t.TempDir()
	header := func(rate uint32) []byte {
		b := make([]byte, 44)
		copy(b, "RIFFxxxxWAVEfmt ")
		binary.LittleEndian.PutUint32(b[16:], 16)
		binary.LittleEndian.PutUint16(b[20:], 1)
		binary.LittleEndian.PutUint16(b[22:], 1)
		binary.LittleEndian.PutUint32(b[24:], rate)
		binary.LittleEndian.PutUint32(b[28:], rate*2)
		copy(b[36:], "data")
		return b
	}
	for _, tc := range []struct {
		name   string
		header []byte
		audio  int // bytes after the header
		want   time.Duration
	}{
		{"linphonec placeholder", make([]byte, 44), 16000, time.Second},
		{"8 kHz", header(8000), 8000, 500 * time.Millisecond},
		{"48 kHz", header(48000), 96000, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".wav")
			if err := os.WriteFile(path, append(tc.header, make([]byte, tc.audio)...), 0o600); err != nil {
				t.Fatal(err)
			}
			if got, err := wavDuration(path); err != nil || got != tc.want {
				t.Errorf("wavDuration = %v, %v; want %v", got, err, tc.want)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			defer cancel()
			if err := WaitWAVDuration(ctx, path, tc.want); err != nil {
				t.Error(err)
			}
			if err := WaitWAVDuration(ctx, path, tc.want+time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("longer than the file: %v", err)
			}
		})
	}
}
