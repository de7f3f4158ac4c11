package peertest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SIPp defaults.
const (
	// DefaultSIPpTimeout is SIPp's -timeout when SIPp.Timeout is zero.
	DefaultSIPpTimeout = 30 * time.Second
	// sippGrace is how much longer than -timeout the Go side lets SIPp live.
	sippGrace = 5 * time.Second
)

// SIPp describes one SIPp run. Zero fields get defaults: IP 127.0.0.1, Port a
// free port, MediaIP IP, MediaPort a free RTP port, Calls 1, Transport "u1",
// Timeout DefaultSIPpTimeout.
type SIPp struct {
	// Scenario is a file name in test/peers/sipp (register.xml,
	// uac_call.xml, uas_answer.xml) or an absolute path.
	Scenario string
	// Remote is the server's host:port; empty for a UAS.
	Remote string
	// IP and Port are SIPp's own SIP address (-i, -p).
	IP   string
	Port int
	// MediaIP and MediaPort are its RTP address (-mi, -mp). SIPp also binds
	// MediaPort+2.
	MediaIP   string
	MediaPort int
	// Service is the request user, -s.
	Service string
	// AuthUser and AuthPass answer digest challenges (-au, -ap).
	AuthUser, AuthPass string
	// Keys are -key K V pairs, e.g. caller, pcap (an absolute path), expires.
	Keys map[string]string
	// Calls is -m, the number of calls before SIPp exits.
	Calls int
	// Rate is -r, calls per second; 0 leaves SIPp's default (10).
	Rate float64
	// Limit is -l, the most calls at once; 0 leaves SIPp's default.
	Limit int
	// DurationMS is -d, the length of a scenario's <pause/>.
	DurationMS int
	// Transport is -t: "u1" (UDP, one socket), "t1" (TCP), "l1" (TLS).
	Transport string
	// Timeout is passed as -timeout with -timeout_error, so SIPp gives up and
	// exits with an error; the Go side kills SIPp if it is still running a
	// few seconds later.
	Timeout time.Duration
	// Extra are more arguments, appended last.
	Extra []string
}

// SIPpRun is a started SIPp.
type SIPpRun struct {
	*Proc
	// Config is the run's SIPp with every default filled in (ports included).
	Config SIPp

	statsPath, messagesPath, errorsPath string
}

// SIPpResult is what a finished SIPp run reports.
type SIPpResult struct {
	// ExitCode is SIPp's: 0 all calls succeeded, 1 some failed, 97 exit on
	// an internal command, 99 normal exit without calls processed, 255 fatal
	// error (also -timeout with -timeout_error), 254 could not bind; -1 if it
	// did not exit by itself (Err then says why). SIPp 3.6.1 may also end a
	// -timeout that strikes mid-call with SIGABRT ("logger.cpp: ERROR:
	// Assertion `0' failed", Err "signal: aborted").
	ExitCode int
	// Err is set when SIPp did not end by itself before Wait's ctx ended, or
	// was stopped at its time limit or by a signal.
	Err error
	// Counters from the last row of the -trace_stat file (cumulative).
	Successful, Failed, Created, Retransmissions int
	// Stats maps every column of that row by its header, e.g.
	// "FailedCallRejected(C)".
	Stats map[string]string
	// Messages is the -trace_msg log: every SIP message sent and received.
	Messages string
	// Errors is the -trace_err log: unexpected messages and errors.
	Errors string
	// Output is what SIPp printed (its final screens).
	Output string
}

// Start runs SIPp in a temporary folder with -nostdin -trace_err -trace_stat
// -trace_msg (files errors.log, stats.csv and messages.log there) and never
// -bg. For a UAS (Remote empty) it returns once SIPp has bound its SIP port,
// so a UAC started next cannot beat it. It fails the test when sipp is
// missing under CI=true and skips it otherwise.
func (s SIPp) Start(t testing.TB) *SIPpRun {
	t.Helper()
	Require(t, "sipp")
	s = s.withDefaults(t)
	scenario := s.Scenario
	if !filepath.IsAbs(scenario) {
		scenario = peerFile(t, filepath.Join("sipp", scenario))
	}
	dir := t.TempDir()
	r := &SIPpRun{
		Config:       s,
		statsPath:    filepath.Join(dir, "stats.csv"),
		messagesPath: filepath.Join(dir, "messages.log"),
		errorsPath:   filepath.Join(dir, "errors.log"),
	}
	var args []string
	if s.Remote != "" {
		args = append(args, s.Remote)
	}
	args = append(args,
		"-sf", scenario,
		"-i", s.IP, "-p", strconv.Itoa(s.Port),
		"-mi", s.MediaIP, "-mp", strconv.Itoa(s.MediaPort),
		"-m", strconv.Itoa(s.Calls),
		"-t", s.Transport,
		"-nostdin",
		"-trace_err", "-error_file", r.errorsPath,
		"-trace_stat", "-stf", r.statsPath,
		"-trace_msg", "-message_file", r.messagesPath,
		"-timeout", fmt.Sprintf("%dms", s.Timeout.Milliseconds()), "-timeout_error",
	)
	if s.Service != "" {
		args = append(args, "-s", s.Service)
	}
	if s.AuthUser != "" {
		args = append(args, "-au", s.AuthUser)
	}
	if s.AuthPass != "" {
		args = append(args, "-ap", s.AuthPass)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Keys)) {
		args = append(args, "-key", k, s.Keys[k])
	}
	if s.Rate > 0 {
		args = append(args, "-r", strconv.FormatFloat(s.Rate, 'f', -1, 64))
	}
	if s.Limit > 0 {
		args = append(args, "-l", strconv.Itoa(s.Limit))
	}
	if s.DurationMS > 0 {
		args = append(args, "-d", strconv.Itoa(s.DurationMS))
	}
	args = append(args, s.Extra...)

	name := "sipp-" + strings.TrimSuffix(filepath.Base(scenario), ".xml")
	r.Proc = StartFor(t, s.Timeout+sippGrace, name, dir, nil, append([]string{"sipp"}, args...)...)
	if s.Remote == "" {
		ctx, cancel := context.WithTimeout(t.Context(), ReadyTimeout)
		defer cancel()
		if err := r.waitBound(ctx, sippNetwork(s.Transport)); err != nil {
			t.Fatalf("peertest: %v; log:\n%s", err, r.tail())
		}
	}
	return r
}

// waitBound waits until SIPp has bound its SIP port, or has ended.
func (r *SIPpRun) waitBound(ctx context.Context, network string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-r.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	err := WaitListening(ctx, network, r.Config.IP, r.Config.Port)
	if err != nil && r.Exited() {
		code, why := r.exitStatus()
		return fmt.Errorf("%s ended (exit %d, %w) before binding %s:%d", r.Name(), code, why, r.Config.IP, r.Config.Port)
	}
	return err
}

func (s SIPp) withDefaults(t testing.TB) SIPp {
	t.Helper()
	if s.Scenario == "" {
		t.Fatalf("peertest: SIPp.Scenario is empty")
	}
	if s.IP == "" {
		s.IP = "127.0.0.1"
	}
	if s.Transport == "" {
		s.Transport = "u1"
	}
	if s.Port == 0 {
		s.Port = FreePort(t, sippNetwork(s.Transport), s.IP)
	}
	if s.MediaIP == "" {
		s.MediaIP = s.IP
	}
	if s.MediaPort == 0 {
		s.MediaPort = FreeRTPPort(t, s.MediaIP)
	}
	if s.Calls == 0 {
		s.Calls = 1
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultSIPpTimeout
	}
	return s
}

// sippNetwork returns the socket type of a SIPp -t transport.
func sippNetwork(transport string) string {
	if strings.HasPrefix(transport, "u") {
		return "udp"
	}
	return "tcp" // t1, tn, l1, ln
}

// Addr returns SIPp's SIP address, "IP:Port".
func (r *SIPpRun) Addr() string {
	return fmt.Sprintf("%s:%d", r.Config.IP, r.Config.Port)
}

// Wait waits for SIPp to exit (or ctx to end, then it is stopped) and
// collects its result.
func (r *SIPpRun) Wait(ctx context.Context) SIPpResult {
	var res SIPpResult
	res.ExitCode, res.Err = r.Proc.Wait(ctx)
	if res.Err != nil && !r.Exited() {
		r.Stop()
	}
	res.Output = r.Log()
	res.Messages = readString(r.messagesPath)
	res.Errors = readString(r.errorsPath)
	res.Stats = parseSIPpStats(readString(r.statsPath))
	res.Successful = atoi(res.Stats["SuccessfulCall(C)"])
	res.Failed = atoi(res.Stats["FailedCall(C)"])
	res.Created = atoi(res.Stats["TotalCallCreated"])
	res.Retransmissions = atoi(res.Stats["Retransmissions(C)"])
	return res
}

func readString(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

// parseSIPpStats maps the header of a -trace_stat CSV file (";"-separated)
// to its last row, or returns nil if there is no row.
func parseSIPpStats(csv string) map[string]string {
	lines := strings.FieldsFunc(csv, func(r rune) bool { return r == '\n' || r == '\r' })
	if len(lines) < 2 {
		return nil
	}
	header := strings.Split(lines[0], ";")
	row := strings.Split(lines[len(lines)-1], ";")
	stats := make(map[string]string, len(header))
	for i, h := range header {
		if h != "" && i < len(row) {
			stats[h] = row[i]
		}
	}
	return stats
}

// String summarises the result for test failure messages.
func (r SIPpResult) String() string {
	return fmt.Sprintf("exit %d (err %v), created %d, successful %d, failed %d, retransmissions %d; errors:\n%s",
		r.ExitCode, r.Err, r.Created, r.Successful, r.Failed, r.Retransmissions, tailOf(r.Errors, tailLines, nil))
}

// SIPMessage is one SIP message from SIPp's -trace_msg log.
type SIPMessage struct {
	// Sent is true for a message SIPp sent, false for one it received.
	Sent bool
	// Transport is "UDP", "TCP", "TLS" or "SCTP".
	Transport string
	// Time is SIPp's timestamp, as written.
	Time string
	// Text is the raw message, start line to end of body.
	Text string
}

// sippTraceHeader matches the two lines before each message in the log:
//
//	----------------------------------------------- 2026-11-21 10:50:18.953504
//	UDP message received [216] bytes :
//	UDP message sent (586 bytes):
var sippTraceHeader = regexp.MustCompile(`(?m)^-{47} (.*)\n(\w+) (control )?message (received \[\d+\] bytes :|sent \(\d+ bytes\):)\n\n`)

// ParseSIPpMessages splits a SIPp -trace_msg log into its messages, in
// order. Control-socket messages (3PCC) are left out.
func ParseSIPpMessages(log string) []SIPMessage {
	var msgs []SIPMessage
	idx := sippTraceHeader.FindAllStringSubmatchIndex(log, -1)
	for i, m := range idx {
		end := len(log)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		if m[6] >= 0 { // "control "
			continue
		}
		text := strings.TrimSuffix(log[m[1]:end], "\n") // SIPp adds one "\n"
		msgs = append(msgs, SIPMessage{
			Sent:      strings.HasPrefix(log[m[8]:m[9]], "sent"),
			Transport: log[m[4]:m[5]],
			Time:      log[m[2]:m[3]],
			Text:      text,
		})
	}
	return msgs
}

// ReceivedMessages returns the raw SIP messages SIPp received, in order.
func (r SIPpResult) ReceivedMessages() []string { return r.messages(false) }

// SentMessages returns the raw SIP messages SIPp sent, in order.
func (r SIPpResult) SentMessages() []string { return r.messages(true) }

func (r SIPpResult) messages(sent bool) []string {
	var out []string
	for _, m := range ParseSIPpMessages(r.Messages) {
		if m.Sent == sent {
			out = append(out, m.Text)
		}
	}
	return out
}

// ReceivedSDP returns the SDP bodies of the messages SIPp received, in order.
func (r SIPpResult) ReceivedSDP() []string {
	var out []string
	for _, m := range r.ReceivedMessages() {
		if strings.EqualFold(SIPHeader(m, "Content-Type"), "application/sdp") {
			out = append(out, SIPBody(m))
		}
	}
	return out
}

// FindReceived returns the first received message whose start line begins
// with prefix (e.g. "SIP/2.0 200", "BYE ").
func (r SIPpResult) FindReceived(prefix string) (string, bool) {
	for _, m := range r.ReceivedMessages() {
		if strings.HasPrefix(m, prefix) {
			return m, true
		}
	}
	return "", false
}

// SIPStartLine returns the first line of a SIP message.
func SIPStartLine(msg string) string {
	line, _, _ := strings.Cut(msg, "\n")
	return strings.TrimRight(line, "\r")
}

// SIPHeader returns the value of the first header called name (or its
// compact form, RFC 3261 §7.3.3) in a SIP message, or "".
func SIPHeader(msg, name string) string {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	compact := map[string]string{
		"call-id": "i", "contact": "m", "content-encoding": "e", "content-length": "l",
		"content-type": "c", "from": "f", "subject": "s", "supported": "k", "to": "t", "via": "v",
	}[strings.ToLower(name)]
	for _, line := range strings.Split(head, "\r\n")[1:] {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if strings.EqualFold(k, name) || (compact != "" && strings.EqualFold(k, compact)) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// SIPBody returns the body of a SIP message (after the blank line).
func SIPBody(msg string) string {
	_, body, _ := strings.Cut(msg, "\r\n\r\n")
	return body
}
