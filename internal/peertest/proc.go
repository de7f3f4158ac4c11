package peertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Time limits of the process helpers.
const (
	// DefaultLimit is how long a process started with Start may live before
	// it is killed; StartFor takes its own limit. A test's deadline (go test
	// -timeout) shortens it.
	DefaultLimit = 2 * time.Minute
	// StopGrace is how long Stop waits after SIGTERM before it sends SIGKILL.
	StopGrace = 2 * time.Second
	// ReadyTimeout bounds how long the Start methods of the peers wait for
	// their program to say it is ready.
	ReadyTimeout = 15 * time.Second

	pollInterval = 25 * time.Millisecond // log and file polling
	tailLines    = 40                    // log lines shown when something fails
)

// Proc is an external program started by Start or StartFor. It runs in its
// own process group, its stdout and stderr go to one log file, and it is
// stopped (the whole group) when the test ends, or when its time limit
// passes, whichever comes first.
type Proc struct {
	name    string
	dir     string
	logPath string
	cmd     *exec.Cmd
	noise   *regexp.Regexp // log lines left out of failure tails (status lines)

	done     chan struct{} // closed once the process has been reaped
	state    *os.ProcessState
	waitErr  error
	limitHit atomic.Bool
	limit    atomic.Pointer[time.Timer]
	stopOnce sync.Once
}

// Start starts argv in dir (a new temporary folder when dir is "") with the
// test's environment plus env ("KEY=value" entries), and DefaultLimit as its
// time limit. See StartFor.
func Start(t testing.TB, name string, dir string, env []string, argv ...string) *Proc {
	t.Helper()
	return StartFor(t, DefaultLimit, name, dir, env, argv...)
}

// StartFor is Start with a time limit: when limit has passed (or the test's
// deadline is near, if that comes first) the process group is stopped as by
// Stop. The process gets its own process group (Setpgid), on Linux it is
// killed if the test binary dies (Pdeathsig), and t.Cleanup stops it. Its
// combined output goes to NAME.log in a temporary folder. A program that
// cannot be started fails the test. Call it from the test's goroutine.
func StartFor(t testing.TB, limit time.Duration, name string, dir string, env []string, argv ...string) *Proc {
	t.Helper()
	if len(argv) == 0 {
		t.Fatalf("peertest: start %s: no command", name)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	logPath := filepath.Join(t.TempDir(), safeName(name)+".log")
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("peertest: start %s: %v", name, err)
	}
	defer logFile.Close() // the child has its own copy

	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec // running the caller's program is the point
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = nil // /dev/null
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("peertest: start %s (%s): %v", name, strings.Join(argv, " "), err)
	}
	p := &Proc{name: name, dir: dir, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go p.reap()
	if dl, ok := deadline(t); ok {
		// Leave the test some time to report after the kill.
		if d := time.Until(dl) - 5*time.Second; d < limit {
			limit = max(d, time.Second)
		}
	}
	p.limit.Store(time.AfterFunc(limit, func() {
		if p.Exited() {
			return
		}
		p.limitHit.Store(true)
		p.note("peertest: time limit %v reached, stopping %s", limit, name)
		p.Stop()
	}))
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() && p.LogOffset() > 0 {
			t.Logf("peertest: %s (%s) log %s, last lines:\n%s", p.name, strings.Join(argv, " "), p.logPath, p.tail())
		}
	})
	return p
}

func (p *Proc) reap() {
	err := p.cmd.Wait()
	if tm := p.limit.Load(); tm != nil {
		tm.Stop()
	}
	p.state = p.cmd.ProcessState
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		p.waitErr = err
	}
	close(p.done)
}

// deadline returns the test's deadline, if t has one (a *testing.T has).
func deadline(t testing.TB) (time.Time, bool) {
	t.Helper()
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		return d.Deadline()
	}
	return time.Time{}, false
}

// Name returns the name the process was started with.
func (p *Proc) Name() string { return p.name }

// Dir returns the process's working folder.
func (p *Proc) Dir() string { return p.dir }

// LogPath returns the path of the log file.
func (p *Proc) LogPath() string { return p.logPath }

// Pid returns the process id (also its process group id).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Log returns everything the process has written so far.
func (p *Proc) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// LogOffset returns the current size of the log, a mark for WaitLogSince.
func (p *Proc) LogOffset() int64 {
	fi, err := os.Stat(p.logPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Exited reports whether the process has ended (and been reaped).
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits for the process to end and returns its exit code. The error is
// ctx's (wrapped) if ctx ends first (the process keeps running), and
// describes the end if the process did not exit by itself (a signal, our time
// limit); the exit code is then -1.
func (p *Proc) Wait(ctx context.Context) (exitCode int, err error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		return -1, fmt.Errorf("wait for %s: %w", p.name, ctx.Err())
	}
	return p.exitStatus()
}

func (p *Proc) exitStatus() (int, error) {
	switch {
	case p.waitErr != nil:
		return -1, fmt.Errorf("%s: %w", p.name, p.waitErr)
	case p.limitHit.Load():
		return -1, fmt.Errorf("%s: stopped at its time limit (%v)", p.name, p.state)
	case p.state.Exited():
		return p.state.ExitCode(), nil
	default:
		return -1, fmt.Errorf("%s: %v", p.name, p.state)
	}
}

// Stop ends the process group: SIGTERM, then SIGKILL if the process has not
// ended StopGrace later. It returns once the process has been reaped. It is
// idempotent and safe for concurrent use.
func (p *Proc) Stop() {
	p.stopOnce.Do(func() {
		if tm := p.limit.Load(); tm != nil {
			tm.Stop()
		}
		pgid := p.cmd.Process.Pid
		if !p.Exited() {
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(StopGrace):
				p.note("peertest: %s did not end %v after SIGTERM, sending SIGKILL", p.name, StopGrace)
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
			}
		}
		<-p.done
		// Whatever is left in the group (children of a script). The group id
		// cannot be reused while members remain, so this hits only ours.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	})
	<-p.done
}

// Signal sends sig to the process itself (not its group).
func (p *Proc) Signal(sig os.Signal) error {
	if p.Exited() {
		return fmt.Errorf("signal %s: already ended", p.name)
	}
	return p.cmd.Process.Signal(sig)
}

// note appends a line of our own to the log.
func (p *Proc) note(format string, args ...any) {
	f, err := os.OpenFile(p.logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "\n"+format+"\n", args...)
}

// WaitLog waits until a line of the log (from its start) matches the regular
// expression pattern and returns that line. It fails, with the end of the log
// in the error, when ctx ends or the process ends without such a line. Lines
// end at "\n" or "\r" (baresip redraws a status line with "\r").
func (p *Proc) WaitLog(ctx context.Context, pattern string) (string, error) {
	return p.WaitLogSince(ctx, 0, pattern)
}

// WaitLogSince is WaitLog for the lines written after offset, a value from
// LogOffset taken before the action whose effect is awaited.
func (p *Proc) WaitLogSince(ctx context.Context, offset int64, pattern string) (string, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return "", fmt.Errorf("wait for %s log: %w", p.name, err)
	}
	sc := &lineScanner{path: p.logPath, pos: offset}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		exited := p.Exited() // before reading, so the last read sees all output
		if line, ok := sc.find(re, exited); ok {
			return line, nil
		}
		if exited {
			code, why := p.exitStatus()
			return "", fmt.Errorf("%s ended (exit %d, %w) before its log matched %q; last lines:\n%s", p.name, code, why, pattern, p.tail())
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s log did not match %q: %w; last lines:\n%s", p.name, pattern, ctx.Err(), p.tail())
		case <-p.done:
		case <-tick.C:
		}
	}
}

// lineScanner reads a growing file and looks for a matching line.
type lineScanner struct {
	path    string
	pos     int64  // file offset up to which lines were scanned
	partial []byte // an unfinished last line, from pos on
}

func (s *lineScanner) find(re *regexp.Regexp, final bool) (string, bool) {
	f, err := os.Open(s.path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	buf, err := io.ReadAll(io.NewSectionReader(f, s.pos+int64(len(s.partial)), 1<<40))
	if err != nil {
		return "", false
	}
	data := append(s.partial, buf...)
	for {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			break
		}
		line := data[:i]
		s.pos += int64(i + 1)
		data = data[i+1:]
		if re.Match(line) {
			s.partial = append(s.partial[:0:0], data...)
			return string(line), true
		}
	}
	s.partial = append(s.partial[:0:0], data...)
	if final && len(data) > 0 && re.Match(data) {
		return string(data), true
	}
	return "", false
}

// tail returns the last lines of the log, without noise lines.
func (p *Proc) tail() string {
	return tailOf(p.Log(), tailLines, p.noise)
}

func tailOf(s string, n int, noise *regexp.Regexp) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	kept := lines[:0]
	for _, l := range lines {
		if strings.TrimSpace(l) == "" || (noise != nil && noise.MatchString(l)) {
			continue
		}
		kept = append(kept, l)
	}
	if len(kept) > n {
		kept = kept[len(kept)-n:]
	}
	return "\t" + strings.Join(kept, "\n\t")
}

// safeName makes name usable as a file name.
func safeName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		default:
			return '_'
		}
	}, name)
}

// sleepCtx waits d or until ctx ends (pacing, not synchronisation).
func sleepCtx(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
