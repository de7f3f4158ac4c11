package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// logKeep is how many log lines a LogCapture keeps.
const logKeep = 400

// LogCapture is a slog.Handler that keeps the last records in memory, so a
// failing test can show them and tests can wait for or assert on log lines.
// Records below its level are dropped, but "sip send"/"sip recv" trace
// records still mark when SIP traffic last passed (LastSIP).
type LogCapture struct {
	level  slog.Level
	attrs  []slog.Attr
	shared *logShared
}

type logShared struct {
	mu      sync.Mutex
	records []string
	lastSIP atomic.Int64 // unix nanos of the last SIP message traced
}

// NewLogCapture keeps records at level and above.
func NewLogCapture(level slog.Level) *LogCapture {
	return &LogCapture{level: level, shared: &logShared{}}
}

// Enabled lets debug records through for the SIP trace; Handle drops the
// others below the level.
func (l *LogCapture) Enabled(_ context.Context, lv slog.Level) bool {
	return lv >= min(l.level, slog.LevelDebug)
}

// Handle implements slog.Handler.
func (l *LogCapture) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "sip send") || strings.HasPrefix(r.Message, "sip recv") {
		l.shared.lastSIP.Store(time.Now().UnixNano())
	}
	if r.Level < l.level {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", r.Time.Format("15:04:05.000"), r.Level, r.Message)
	for _, a := range l.attrs {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Value.String())
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Value.String())
		return true
	})
	s := l.shared
	s.mu.Lock()
	s.records = append(s.records, b.String())
	if len(s.records) > 2*logKeep {
		s.records = append([]string(nil), s.records[len(s.records)-logKeep:]...)
	}
	s.mu.Unlock()
	return nil
}

// WithAttrs implements slog.Handler.
func (l *LogCapture) WithAttrs(as []slog.Attr) slog.Handler {
	return &LogCapture{level: l.level, attrs: append(append([]slog.Attr(nil), l.attrs...), as...), shared: l.shared}
}

// WithGroup implements slog.Handler (groups are flattened).
func (l *LogCapture) WithGroup(string) slog.Handler { return l }

// Lines returns the last records kept, oldest first.
func (l *LogCapture) Lines() []string {
	s := l.shared
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.records
	if len(out) > logKeep {
		out = out[len(out)-logKeep:]
	}
	return append([]string(nil), out...)
}

// Grep returns the records containing sub.
func (l *LogCapture) Grep(sub string) []string {
	var out []string
	for _, r := range l.Lines() {
		if strings.Contains(r, sub) {
			out = append(out, r)
		}
	}
	return out
}

// LastSIP is when a SIP message was last traced; zero if never.
func (l *LogCapture) LastSIP() time.Time {
	n := l.shared.lastSIP.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// CheckGoroutines polls until no more goroutines run than base, for up to
// d, and reports the surplus stacks otherwise.
func CheckGoroutines(tb testing.TB, base int, d time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			tb.Errorf("%d goroutines still running %s after the test, %d before it; stacks:\n%s", n, d, base, Goroutines())
			return
		}
		<-time.After(10 * time.Millisecond) // bounded poll
	}
}

// Goroutines returns every goroutine's stack.
func Goroutines() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// RandHex returns n random hex digits, for unique Call-IDs, tags and branches.
func RandHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
