package peertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Linphone describes a linphonec desk phone run by test/peers/linphone/run.sh.
// Zero fields get defaults: IP 127.0.0.1, Port a free UDP port, RTPPort a
// free RTP port, User "1005", Password "secret", WAV one minute of silence,
// Timeout DefaultLimit.
type Linphone struct {
	// IP and Port are its SIP address (UDP only).
	IP   string
	Port int
	// RTPPort is its audio RTP port (RTCP is RTPPort+1), bound on IP.
	RTPPort int
	// User and Password are the account's; the AOR is sip:User@Registrar's host.
	User, Password string
	// Registrar is the registrar's host:port. Empty: no REGISTER, and its
	// identity is sip:User@IP (call it at sip:User@IP:Port).
	Registrar string
	// WAV is the WAV it sends (16-bit PCM; 8 kHz mono is fine).
	WAV string
	// Timeout is the process's time limit.
	Timeout time.Duration
}

// LinphonePhone is a running linphonec. Its stdout is the Proc log (call
// events); its debug log with a full SIP trace is DebugLog.
type LinphonePhone struct {
	*Proc
	// Config is the phone's Linphone with every default filled in.
	Config Linphone
}

// Start runs linphonec and returns once it has read its setup commands (file
// sound card, play, record, and register when there is a Registrar); it does
// not wait for the registration (see WaitRegistered). Incoming calls are
// answered at once.
func (l Linphone) Start(t testing.TB) *LinphonePhone {
	t.Helper()
	Require(t, "bash", "linphonec")
	run := peerFile(t, "linphone/run.sh")
	l = l.withDefaults(t)
	dir := t.TempDir()
	env := []string{
		"LP_IP=" + l.IP,
		"LP_PORT=" + strconv.Itoa(l.Port),
		"LP_RTP_PORT=" + strconv.Itoa(l.RTPPort),
		"LP_USER=" + l.User,
		"LP_PASSWORD=" + l.Password,
		"LP_REGISTRAR=" + l.Registrar, // empty: no REGISTER
		"LP_WAV=" + l.WAV,
	}
	p := &LinphonePhone{Config: l}
	p.Proc = StartFor(t, l.Timeout, "linphonec-"+l.User, dir, env, "bash", run, dir)
	t.Cleanup(p.quit) // runs before the Proc's own cleanup
	ready := `record .*rec\.wav`
	if l.Registrar != "" {
		ready = `register sip:`
	}
	ctx, cancel := context.WithTimeout(t.Context(), ReadyTimeout)
	defer cancel()
	if _, err := p.WaitLog(ctx, ready); err != nil {
		t.Fatalf("peertest: linphonec %s did not start: %v", l.User, err)
	}
	return p
}

func (l Linphone) withDefaults(t testing.TB) Linphone {
	t.Helper()
	if l.IP == "" {
		l.IP = "127.0.0.1"
	}
	if l.Port == 0 {
		l.Port = FreePort(t, "udp", l.IP)
	}
	if l.RTPPort == 0 {
		l.RTPPort = FreeRTPPort(t, l.IP)
	}
	if l.User == "" {
		l.User = "1005"
	}
	if l.Password == "" {
		l.Password = "secret"
	}
	if l.WAV == "" {
		l.WAV = WriteToneWAV(t, 0, time.Minute)
	}
	if l.Timeout == 0 {
		l.Timeout = DefaultLimit
	}
	return l
}

// URI returns the phone's own SIP URI, sip:User@IP:Port, for direct calls.
func (p *LinphonePhone) URI() string {
	return fmt.Sprintf("sip:%s@%s:%d", p.Config.User, p.Config.IP, p.Config.Port)
}

// Send writes one command line to linphonec's FIFO, DIR/in: "call URI",
// "terminate", "answer", digits such as "123#" (RFC 4733 DTMF), "quit". It
// fails instead of blocking when linphonec is no longer running.
func (p *LinphonePhone) Send(cmd string) error {
	if p.Exited() {
		return fmt.Errorf("linphonec %s: %q: linphonec has ended", p.Config.User, cmd)
	}
	// O_NONBLOCK: opening a FIFO nobody reads fails with ENXIO at once.
	f, err := os.OpenFile(filepath.Join(p.Dir(), "in"), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ENXIO) {
		return fmt.Errorf("linphonec %s: %q: nobody reads its FIFO", p.Config.User, cmd)
	} else if err != nil {
		return fmt.Errorf("linphonec %s: %q: %w", p.Config.User, cmd, err)
	}
	defer f.Close()
	if _, err := f.Write([]byte(cmd + "\n")); err != nil {
		return fmt.Errorf("linphonec %s: %q: %w", p.Config.User, cmd, err)
	}
	return nil
}

// quit asks linphonec to quit (it unregisters first) and gives it StopGrace.
func (p *LinphonePhone) quit() {
	if p.Send("quit") != nil {
		return
	}
	select {
	case <-p.Done():
	case <-time.After(StopGrace):
	}
}

// Recording returns DIR/rec.wav, what it received (8 kHz 16-bit mono for
// G.711). The file is complete only after the call has ended: wait for
// WaitEnded, then WaitWAV.
func (p *LinphonePhone) Recording() string {
	return filepath.Join(p.Dir(), "rec.wav")
}

// DebugLog returns the path of linphonec's debug log (-l), with every SIP
// message it sent and received.
func (p *LinphonePhone) DebugLog() string {
	return filepath.Join(p.Dir(), "linphone.log")
}

// WaitRegistered waits for the registration to succeed. linphonec 5.1 does
// not print it; its debug log says "... moving from state
// [LinphoneRegistrationProgress] to [LinphoneRegistrationOk] ...".
func (p *LinphonePhone) WaitRegistered(ctx context.Context) (string, error) {
	return p.WaitDebugLog(ctx, `to \[LinphoneRegistrationOk\]`)
}

// WaitDebugLog waits for a line of the debug log (DebugLog) to match pattern.
func (p *LinphonePhone) WaitDebugLog(ctx context.Context, pattern string) (string, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return "", fmt.Errorf("wait for linphonec debug log: %w", err)
	}
	sc := &lineScanner{path: p.DebugLog()}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		exited := p.Exited()
		if line, ok := sc.find(re, exited); ok {
			return line, nil
		}
		if exited {
			return "", fmt.Errorf("linphonec %s ended before its debug log matched %q", p.Config.User, pattern)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("linphonec %s debug log did not match %q: %w; last lines:\n%s",
				p.Config.User, pattern, ctx.Err(), tailOf(readString(p.DebugLog()), tailLines, nil))
		case <-tick.C:
		}
	}
}

// WaitConnected waits for "Call N with URI connected." after offset (from
// LogOffset). It fails at once if the call fails first ("Call N with URI
// error." or "... ended (REASON).").
func (p *LinphonePhone) WaitConnected(ctx context.Context, offset int64) (string, error) {
	line, err := p.WaitLogSince(ctx, offset, `Call \d+ with .* (connected\.|error\.|ended)`)
	if err == nil && !strings.HasSuffix(line, "connected.") {
		return line, fmt.Errorf("linphonec %s: call failed: %q; SIP trace in %s", p.Config.User, line, p.DebugLog())
	}
	return line, err
}

// WaitEnded waits for "Call N with URI ended (REASON)." after offset; it is
// printed both when it hangs up and when the other side does.
func (p *LinphonePhone) WaitEnded(ctx context.Context, offset int64) (string, error) {
	return p.WaitLogSince(ctx, offset, `Call \d+ with .* ended`)
}

// WaitRecorded waits until Recording holds at least d (see WaitWAVDuration):
// the way to let a call run for a while without sleeping.
func (p *LinphonePhone) WaitRecorded(ctx context.Context, d time.Duration) error {
	return WaitWAVDuration(ctx, p.Recording(), d)
}
