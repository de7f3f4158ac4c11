package peertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Timing of the baresip console (the cons module), as ctl.sh does it.
const (
	ctlCommandGap = 200 * time.Millisecond // after each command line
	ctlReadWindow = time.Second            // how long Ctl collects the answer
	dtmfPress     = 200 * time.Millisecond // key down before the release byte
	dtmfGap       = 100 * time.Millisecond // after the release
	dtmfRelease   = 0x04                   // baresip's key-release code
)

// baresipStatus matches the call status line baresip redraws with "\r"
// every 100 ms: "[0:00:03] audio=64000/64000 (bit/s)".
var baresipStatus = regexp.MustCompile(`^\s*\[\d+:\d\d:\d\d\] audio=`)

// Baresip describes a baresip desk phone run by test/peers/baresip/run.sh.
// Zero fields get defaults: IP 127.0.0.1, Port a port free for UDP and TCP
// (and, with TLSCert, the next one free for TCP), CtrlPort a free TCP port, RTPPorts four free UDP ports, User "1003",
// Password "secret", RegInt 300, Answer "auto", WAV one minute of silence,
// Timeout DefaultLimit.
type Baresip struct {
	// IP and Port are its SIP address (UDP and TCP); it also puts IP in its
	// SDP, but sends RTP from a socket bound to 0.0.0.0.
	IP   string
	Port int
	// CtrlPort is the TCP port of its text console (cons module) on IP.
	CtrlPort int
	// RTPPorts is the RTP port range, "MIN-MAX".
	RTPPorts string
	// User and Password are the account's; the AOR is sip:User@Registrar.
	User, Password string
	// Registrar is the registrar's host:port. Empty: no REGISTER, and the
	// account's domain is IP:Port (call it at sip:User@IP:Port).
	Registrar string
	// RegInt is the registration interval in seconds (with a Registrar).
	RegInt int
	// Answer is "auto" (answer incoming calls at once) or "manual" (/accept).
	Answer string
	// WAV is the 16-bit PCM WAV it sends. The call hangs up when the file
	// ends, so make it longer than the call.
	WAV string
	// Extra are more baresip options (BS_EXTRA_ARGS), e.g. "-s" for a SIP trace.
	Extra string
	// TLSCert is a PEM file holding a certificate and its private key (both
	// in one file, as baresip's sip_certificate wants them). Set, baresip
	// also takes SIP over TLS, on TCP port Port+1 (see TLSPort): baresip 1.0
	// puts its TLS listener there and has no setting for it.
	TLSCert string
	// SRTP requires SRTP with SDES keys (RTP/SAVP) on its calls, both ways
	// (baresip's srtp module, mediaenc=srtp-mand).
	SRTP bool
	// Timeout is the process's time limit.
	Timeout time.Duration
}

// BaresipPhone is a running baresip.
type BaresipPhone struct {
	*Proc
	// Config is the phone's Baresip with every default filled in.
	Config Baresip
}

// Start runs baresip and returns once it is ready ("baresip is ready." in its
// log); it does not wait for the registration (see WaitRegistered).
func (b Baresip) Start(t testing.TB) *BaresipPhone {
	t.Helper()
	Require(t, "bash", "baresip")
	run := peerFile(t, "baresip/run.sh")
	b = b.withDefaults(t)
	dir := t.TempDir()
	env := []string{
		"BS_IP=" + b.IP,
		"BS_PORT=" + strconv.Itoa(b.Port),
		"BS_CTRL_PORT=" + strconv.Itoa(b.CtrlPort),
		"BS_RTP_PORTS=" + b.RTPPorts,
		"BS_USER=" + b.User,
		"BS_PASSWORD=" + b.Password,
		"BS_ANSWER=" + b.Answer,
		"BS_WAV=" + b.WAV,
		"BS_EXTRA_ARGS=" + b.Extra,
		"BS_TLS_CERT=" + b.TLSCert,
		"BS_SRTP=" + map[bool]string{true: "mand"}[b.SRTP],
	}
	if b.Registrar == "" {
		env = append(env, "BS_REGINT=0", fmt.Sprintf("BS_REGISTRAR=%s:%d", b.IP, b.Port))
	} else {
		env = append(env, "BS_REGINT="+strconv.Itoa(b.RegInt), "BS_REGISTRAR="+b.Registrar)
	}
	p := &BaresipPhone{Config: b}
	p.Proc = StartFor(t, b.Timeout, "baresip-"+b.User, dir, env, "bash", run, dir)
	p.noise = baresipStatus
	ctx, cancel := context.WithTimeout(t.Context(), ReadyTimeout)
	defer cancel()
	if _, err := p.WaitLog(ctx, `^baresip is ready\.`); err != nil {
		t.Fatalf("peertest: baresip %s did not start: %v", b.User, err)
	}
	if b.TLSCert != "" {
		if err := WaitListening(ctx, "tcp", b.IP, p.TLSPort()); err != nil {
			t.Fatalf("peertest: baresip %s takes no SIP over TLS: %v", b.User, err)
		}
	}
	return p
}

func (b Baresip) withDefaults(t testing.TB) Baresip {
	t.Helper()
	if b.IP == "" {
		b.IP = "127.0.0.1"
	}
	if b.Port == 0 {
		b.Port = freeBaresipPort(t, b.IP, b.TLSCert != "")
	}
	if b.CtrlPort == 0 {
		b.CtrlPort = FreePort(t, "tcp", b.IP)
	}
	if b.RTPPorts == "" {
		// baresip binds RTP to the wildcard address, so look on all of them.
		p := FreeRTPPort(t, "0.0.0.0")
		b.RTPPorts = fmt.Sprintf("%d-%d", p, p+3)
	}
	if b.User == "" {
		b.User = "1003"
	}
	if b.Password == "" {
		b.Password = "secret"
	}
	if b.RegInt == 0 {
		b.RegInt = 300
	}
	if b.Answer == "" {
		b.Answer = "auto"
	}
	if b.WAV == "" {
		b.WAV = WriteToneWAV(t, 0, time.Minute)
	}
	if b.Timeout == 0 {
		b.Timeout = DefaultLimit
	}
	return b
}

// freeBaresipPort is FreeSIPPort, and with tls also reserves the next port,
// free for TCP, where baresip listens for SIP over TLS.
func freeBaresipPort(t testing.TB, ip string, tls bool) int {
	t.Helper()
	if !tls {
		return FreeSIPPort(t, ip)
	}
	return reservePorts(t, ip, 2, false, "udp", "tcp")
}

// TLSPort is the TCP port baresip takes SIP over TLS on (with TLSCert):
// Port+1.
func (p *BaresipPhone) TLSPort() int { return p.Config.Port + 1 }

// URI returns the phone's own SIP URI, sip:User@IP:Port, for direct calls.
func (p *BaresipPhone) URI() string {
	return fmt.Sprintf("sip:%s@%s:%d", p.Config.User, p.Config.IP, p.Config.Port)
}

// Ctl sends each command as one line to baresip's console (as ctl.sh does),
// pausing briefly after each, and returns what the console answered within
// about a second after the last one. baresip echoes a "/command" character
// by character.
func (p *BaresipPhone) Ctl(ctx context.Context, cmds ...string) (string, error) {
	conn, err := p.dialCtl(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	answer := make(chan string, 1)
	go func() { answer <- readUntilQuiet(conn) }()
	var werr error
	for _, c := range cmds {
		if _, werr = conn.Write([]byte(c + "\n")); werr != nil {
			break
		}
		if werr = sleepCtx(ctx, ctlCommandGap); werr != nil {
			break
		}
	}
	dl := time.Now().Add(ctlReadWindow)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	_ = conn.SetReadDeadline(dl)
	out := <-answer
	if werr != nil {
		return out, fmt.Errorf("baresip %s console: %w", p.Config.User, werr)
	}
	return out, nil
}

// readUntilQuiet reads until the connection's read deadline or its end.
func readUntilQuiet(conn net.Conn) string {
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}

func (p *BaresipPhone) dialCtl(ctx context.Context) (net.Conn, error) {
	if p.Exited() {
		return nil, fmt.Errorf("baresip %s console: baresip has ended", p.Config.User)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(p.Config.IP, strconv.Itoa(p.Config.CtrlPort)))
	if err != nil {
		return nil, fmt.Errorf("baresip %s console: %w", p.Config.User, err)
	}
	return conn, nil
}

// DTMF sends digits (0-9, *, #, A-D) as RFC 4733 events in the current call:
// per digit a key press, 200 ms, then the key release (byte 0x04), without
// which the event never ends and later digits are lost.
func (p *BaresipPhone) DTMF(ctx context.Context, digits string) error {
	for _, d := range digits {
		if !strings.ContainsRune("0123456789*#ABCD", d) {
			return fmt.Errorf("baresip DTMF: %q is not a DTMF digit", d)
		}
	}
	conn, err := p.dialCtl(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	go func() { _ = readUntilQuiet(conn) }() // keep the console's echo flowing
	for _, d := range digits {
		if _, err := conn.Write([]byte{byte(d)}); err != nil {
			return fmt.Errorf("baresip %s DTMF: %w", p.Config.User, err)
		}
		if err := sleepCtx(ctx, dtmfPress); err != nil {
			return err
		}
		if _, err := conn.Write([]byte{dtmfRelease}); err != nil {
			return fmt.Errorf("baresip %s DTMF: %w", p.Config.User, err)
		}
		if err := sleepCtx(ctx, dtmfGap); err != nil {
			return err
		}
	}
	return nil
}

// Dial calls uri ("/dial uri").
func (p *BaresipPhone) Dial(ctx context.Context, uri string) error {
	_, err := p.Ctl(ctx, "/dial "+uri)
	return err
}

// Hangup ends the current call ("/hangup").
func (p *BaresipPhone) Hangup(ctx context.Context) error {
	_, err := p.Ctl(ctx, "/hangup")
	return err
}

// Accept answers the ringing call ("/accept", with Answer "manual").
func (p *BaresipPhone) Accept(ctx context.Context) error {
	_, err := p.Ctl(ctx, "/accept")
	return err
}

// WaitRegistered waits for the registrar's 200 OK to the REGISTER, logged as
// "1003@127.0.0.1: {0/UDP/v4} 200 OK (kamailio ...) [1 binding]".
func (p *BaresipPhone) WaitRegistered(ctx context.Context) (string, error) {
	return p.WaitLog(ctx, regexp.QuoteMeta(p.Config.User+"@")+`\S*: .*\b200 OK\b`)
}

// WaitEstablished waits for a call to be up ("Call established: PEER_URI")
// after offset (from LogOffset).
func (p *BaresipPhone) WaitEstablished(ctx context.Context, offset int64) (string, error) {
	return p.WaitLogSince(ctx, offset, `Call established: `)
}

// WaitTerminated waits for a call to end ("Call with PEER_URI terminated
// (duration: N secs)") after offset (from LogOffset). A BYE from the other
// side is first logged as "session closed: Connection reset by peer".
func (p *BaresipPhone) WaitTerminated(ctx context.Context, offset int64) (string, error) {
	return p.WaitLogSince(ctx, offset, `Call with \S+ terminated`)
}

// Received returns the paths of the recordings of received audio,
// DIR/rec/dump-<time>-dec.wav (8 kHz 16-bit mono, one per call; complete
// once the call has ended), oldest first.
func (p *BaresipPhone) Received() ([]string, error) {
	return p.recordings("dec")
}

// Sent returns the recordings of the audio it sent, -enc.wav, oldest first.
func (p *BaresipPhone) Sent() ([]string, error) {
	return p.recordings("enc")
}

func (p *BaresipPhone) recordings(kind string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(p.Dir(), "rec", "dump-*-"+kind+".wav"))
	if err != nil {
		return nil, err
	}
	type rec struct {
		path string
		mod  time.Time
	}
	recs := make([]rec, 0, len(paths))
	for _, path := range paths {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec{path, fi.ModTime()})
	}
	// The names hold the start time to the second; break ties by mtime.
	slices.SortFunc(recs, func(a, b rec) int {
		if c := strings.Compare(filepath.Base(a.path), filepath.Base(b.path)); c != 0 {
			return c
		}
		return a.mod.Compare(b.mod)
	})
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.path
	}
	if len(out) == 0 {
		return nil, errors.New("baresip: no " + kind + " recordings yet in " + filepath.Join(p.Dir(), "rec"))
	}
	return out, nil
}

// LastReceived waits until the newest received-audio recording is a complete
// WAV file (see WaitWAV) and returns its path.
func (p *BaresipPhone) LastReceived(ctx context.Context) (string, error) {
	recs, err := p.Received()
	if err != nil {
		return "", err
	}
	last := recs[len(recs)-1]
	return last, WaitWAV(ctx, last)
}

// WaitRecorded waits until the newest recording of received audio holds at
// least d (see WaitWAVDuration) and returns its path: the way to let a call
// run for a while without sleeping. Its call status line ("[0:00:03]
// audio=...") is not reliable for this: baresip does not always print it.
func (p *BaresipPhone) WaitRecorded(ctx context.Context, d time.Duration) (string, error) {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if recs, err := p.Received(); err == nil {
			last := recs[len(recs)-1]
			return last, WaitWAVDuration(ctx, last, d)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("baresip %s: no recording of received audio: %w", p.Config.User, ctx.Err())
		case <-p.Done():
			return "", fmt.Errorf("baresip %s ended without a recording of received audio", p.Config.User)
		case <-tick.C:
		}
	}
}
