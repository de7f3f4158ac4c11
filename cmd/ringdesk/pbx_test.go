package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/configs"
	"github.com/ringdesk/ringdesk/internal/testkit"
)

// testPBX is a Ringdesk running in the test process on loopback, with the
// call events it reported.
type testPBX struct {
	t       testing.TB
	app     *app
	cancel  context.CancelFunc
	drain   chan struct{}
	done    chan error
	logBuf  *syncBuffer
	dataDir string

	mu     sync.Mutex
	events []calls.Event
	ended  chan calls.CallRecord
}

// pbxOptions are the settings tests vary; the rest is a fixed loopback
// config with the two demo agents.
type pbxOptions struct {
	// SIPPort is the UDP and TCP port; 0 picks a free one.
	SIPPort int
	// RTPPorts is the RTP range, e.g. "31000-31999".
	RTPPorts string
	// DataDir keeps the database across restarts; "" is a new temp dir.
	DataDir string
	// Extra YAML under calls: (e.g. "ring_timeout: 3s").
	Calls string
	// Extra YAML under rtp:.
	RTP string
	// Extra YAML under sip:.
	SIP string
	// TLS adds a tls:// listener with a throwaway self-signed certificate.
	TLS bool
	// Top is extra top-level YAML (trunks:, numbers:, routes:).
	Top string
	// Dialplan is the content of dialplan.yaml (in the data directory);
	// "" for none.
	Dialplan string
	// Agents replaces testAgents (the agents: section).
	Agents string
}

const testAgents = `
agents:
  - id: alice
    name: Alice Example
    extension: "1001"
    sip_password: alice-1001
  - id: bob
    name: Bob Example
    extension: "1002"
    sip_password: bob-1002
  - id: carol
    name: Carol Example
    extension: "1003"
    sip_password: carol-1003
`

func startPBX(t testing.TB, o pbxOptions) *testPBX {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.RTPPorts == "" {
		o.RTPPorts = "31000-31999"
	}
	if o.Agents == "" {
		o.Agents = testAgents
	}
	listen := fmt.Sprintf(`"udp://127.0.0.1:%[1]d", "tcp://127.0.0.1:%[1]d"`, o.SIPPort)
	if o.TLS {
		cert, key := testkit.SelfSignedCert(t, o.DataDir)
		listen += `, "tls://127.0.0.1:0"`
		o.SIP += fmt.Sprintf("\ntls:\n  cert: %s\n  key: %s\n", cert, key)
	}
	yaml := fmt.Sprintf(`sip:
  listen: [%[1]s]
  realm: ringdesk
%[2]s
rtp:
  address: 127.0.0.1
  ports: %[3]s
  quarantine: 100ms
%[4]s
calls:
%[5]s
data_dir: %[6]s
%[7]s
%[8]s`, listen, indent(o.SIP), o.RTPPorts, indent(o.RTP), indent(o.Calls), o.DataDir, o.Agents, o.Top)
	if o.Dialplan != "" {
		writeFile(t, filepath.Join(o.DataDir, "dialplan.yaml"), o.Dialplan)
		yaml += "\ndialplan: dialplan.yaml\n"
	}
	path := filepath.Join(o.DataDir, "ringdesk.yaml")
	writeFile(t, path, yaml)
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatalf("test config: %v\n%s\n%s", err, yaml, o.Dialplan)
	}
	p := &testPBX{
		t: t, drain: make(chan struct{}), done: make(chan error, 1), logBuf: &syncBuffer{},
		dataDir: o.DataDir, ended: make(chan calls.CallRecord, 1000),
	}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(p.logBuf, testLogWriter{}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	p.app, err = newApp(cfg, log, calls.ObserverFunc(p.observe))
	if err != nil {
		t.Fatalf("start ringdesk: %v", err)
	}
	p.app.path = path
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- p.app.run(ctx, p.drain) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("ringdesk log (last 80 lines):\n%s", tail(p.logBuf.String(), 80))
		}
	})
	return p
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, ln := range strings.Split(strings.TrimSpace(s), "\n") {
		b.WriteString("  " + ln + "\n")
	}
	return b.String()
}

// stop hangs up everything at once and waits for Ringdesk to finish.
func (p *testPBX) stop() {
	p.cancel()
	select {
	case <-p.done:
		p.done <- nil // keep stop idempotent
	case <-time.After(30 * time.Second):
		p.t.Errorf("ringdesk did not stop within 30 s")
	}
}

// shutdown drains gracefully, like the first SIGTERM.
func (p *testPBX) shutdown() { close(p.drain) }

// wait waits for run to return after shutdown.
func (p *testPBX) wait(timeout time.Duration) error {
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(timeout):
		return fmt.Errorf("ringdesk still running after %s", timeout)
	}
}

func (p *testPBX) observe(e calls.Event) {
	p.mu.Lock()
	p.events = append(p.events, e)
	p.mu.Unlock()
	if ce, ok := e.(calls.CallEnded); ok {
		p.ended <- ce.Record
	}
}

// sipAddr is Ringdesk's SIP address over network ("udp" or "tcp").
func (p *testPBX) sipAddr(network string) netip.AddrPort {
	for _, l := range p.app.sip.Addrs() {
		if l.Network == network {
			return l.Addr
		}
	}
	p.t.Fatalf("no %s listener", network)
	return netip.AddrPort{}
}

// nextCall waits for the next CallEnded record.
func (p *testPBX) nextCall(ctx context.Context) calls.CallRecord {
	p.t.Helper()
	select {
	case r := <-p.ended:
		return r
	case <-ctx.Done():
		p.t.Fatalf("no call ended: %v", ctx.Err())
		return calls.CallRecord{}
	}
}

// eventsOf returns the events of call id, in order.
func (p *testPBX) eventsOf(id calls.CallID) []calls.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []calls.Event
	for _, e := range p.events {
		if e.Call() == id {
			out = append(out, e)
		}
	}
	return out
}

// assertIdle checks that nothing of past calls is left: no call, no dialog,
// no RTP session or port, and the goroutines back near the baseline.
func (p *testPBX) assertIdle(t testing.TB, baseline int) {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		calls, dialogs := p.app.sw.Active(), p.app.sip.Dialogs()
		sessions, ports := p.app.media.OpenSessions(), p.app.media.Pool().InUse()
		g := runtime.NumGoroutine()
		if calls == 0 && dialogs == 0 && sessions == 0 && ports == 0 && g <= baseline+10 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("not idle: calls %d, dialogs %d, rtp sessions %d, ports in use %d, goroutines %d (baseline %d)\n%s",
				calls, dialogs, sessions, ports, g, baseline, tail(string(buf[:n]), 200))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testLogWriter copies Ringdesk's log to a file named by RINGDESK_TEST_LOG,
// for debugging a failing end-to-end test.
type testLogWriter struct{}

func (testLogWriter) Write(b []byte) (int, error) {
	path := os.Getenv("RINGDESK_TEST_LOG")
	if path == "" {
		return len(b), nil
	}
	f, err := os.OpenFile(filepath.Clean(path), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return len(b), nil
	}
	defer f.Close()
	return f.Write(b)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
