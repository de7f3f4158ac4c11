package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/internal/dialer"
	"github.com/ringdesk/ringdesk/internal/status"
)

const dialUsage = `Usage: ringdesk dial [flags] TARGET

Call TARGET (a number or extension, or a SIP URI) like a softphone with a
script: let it ring, send audio and digits once answered, record what it
hears, hang up after -duration, and print what happened. When the far end is
a Ringdesk whose status socket is reachable (-data-dir, or the data_dir of
-config, else the sample config's), the call's record follows: who answered,
the menu path, the queue, the voicemail.

Exit status: 0 when the call was answered, 1 when it was not (or failed),
2 on usage errors.

Examples:
  ringdesk dial -user 1001 -password secret -tone 440 -digits "2@3s,1@6s" -record out.wav 500
  ringdesk dial -server pbx.example.com:5060 -transport tcp -play hello.wav -dtmf inband -digits 123# 1002

Flags:
`

// recordWait is how long dial asks Ringdesk for the call's record while it
// answers 404 (the call is not over on its side yet).
const recordWait = 3 * time.Second

type dialFlags struct {
	fs                                   *flag.FlagSet
	server, transport, user, password    string
	from, bind, digits, dtmfMethod, play string
	tone                                 float64
	record                               string
	duration, timeout                    time.Duration
	asJSON, verbose                      bool
	config, dataDir                      string
}

func newDialFlags(out io.Writer) *dialFlags {
	f := &dialFlags{fs: flag.NewFlagSet("ringdesk dial", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, dialUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.server, "server", dialer.DefaultServer, "`HOST:PORT` of the SIP server every request goes to")
	fs.StringVar(&f.transport, "transport", dialer.DefaultTransport, "SIP transport: `udp|tcp`")
	fs.StringVar(&f.user, "user", "", "digest user name (`EXT`) for 401/407 challenges; none: no authentication")
	fs.StringVar(&f.password, "password", "", "digest password (`PW`)")
	fs.StringVar(&f.from, "from", "", "`USER` part of From (default: -user, else "+dialer.DefaultFrom+")")
	fs.StringVar(&f.bind, "bind", dialer.DefaultBind.String(), "local `IP` of the SIP and RTP sockets, advertised in Contact and SDP")
	fs.StringVar(&f.digits, "digits", "", "`DIGITS` to send after the answer, e.g. \"2@3s,1@6s\" (2 at 3 s, 1 at 6 s); \"123#\" sends them from 1 s on, 250 ms apart")
	fs.StringVar(&f.dtmfMethod, "dtmf", "rfc4733", "how digits are sent (`METHOD`): rfc4733, inband (tones in the audio) or info (SIP INFO)")
	fs.StringVar(&f.play, "play", "", "WAV `FILE` (any rate) to send after the answer, looped")
	fs.Float64Var(&f.tone, "tone", 0, "send a sine of `HZ` after the answer (default: silence)")
	fs.StringVar(&f.record, "record", "", "record what the call hears to this WAV `FILE` (8 kHz mono), from the answer or early media on")
	fs.DurationVar(&f.duration, "duration", dialer.DefaultDuration, "hang up this long (`DURATION`) after the answer")
	fs.DurationVar(&f.timeout, "timeout", dialer.DefaultTimeout, "give up ringing after this long (`DURATION`), with CANCEL")
	fs.BoolVar(&f.asJSON, "json", false, "print the summary as JSON")
	fs.BoolVar(&f.verbose, "v", false, "log SIP and media detail to stderr")
	fs.StringVar(&f.config, "config", "", "config `FILE` of the Ringdesk called, to find its data directory")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (`DIR`) of the Ringdesk called, whose status socket gives the call's record")
	return f
}

// parse parses args, taking flags before and after the target.
func (f *dialFlags) parse(args []string) (string, error) {
	if err := f.fs.Parse(args); err != nil {
		return "", err
	}
	if f.fs.NArg() == 0 {
		return "", errors.New("no TARGET to call")
	}
	target := f.fs.Arg(0)
	if err := f.fs.Parse(f.fs.Args()[1:]); err != nil {
		return "", err
	}
	if f.fs.NArg() > 0 {
		return "", fmt.Errorf("unexpected arguments %q after the target %q", f.fs.Args(), target)
	}
	return target, nil
}

// script turns the flags into a dialer.Script.
func (f *dialFlags) script(target string) (dialer.Script, error) {
	s := dialer.Script{
		Target: target, Server: f.server, Transport: f.transport, User: f.user, Password: f.password,
		From: f.from, Tone: f.tone, Record: f.record, Duration: f.duration, Timeout: f.timeout,
	}
	var err error
	if s.Bind, err = netip.ParseAddr(f.bind); err != nil {
		return s, fmt.Errorf("-bind %q is not an IP address", f.bind)
	}
	if s.Digits, err = dialer.ParseSchedule(f.digits); err != nil {
		return s, fmt.Errorf("-digits: %w", err)
	}
	if s.DTMF, err = dialer.ParseMethod(f.dtmfMethod); err != nil {
		return s, fmt.Errorf("-dtmf: %w", err)
	}
	if f.duration <= 0 || f.timeout <= 0 {
		return s, errors.New("-duration and -timeout must be positive")
	}
	if f.play != "" && f.tone != 0 {
		return s, errors.New("-play and -tone cannot be combined")
	}
	if f.play != "" {
		if s.Audio, err = dialer.LoadWAV(f.play); err != nil {
			return s, fmt.Errorf("-play: %w", err)
		}
	}
	if f.config != "" && f.dataDir != "" {
		return s, errors.New("give -config or -data-dir, not both")
	}
	return s, s.Validate()
}

// socket finds the status socket of the Ringdesk called, as statusCmd
// does; explicit says the user named it (-config or -data-dir).
func (f *dialFlags) socket() (path string, explicit bool, err error) {
	dir := f.dataDir
	if dir == "" {
		cfg, err := loadConfig(f.config)
		if err != nil {
			if f.config == "" {
				return "", false, nil
			}
			return "", true, err
		}
		dir = cfg.DataDir
	}
	return filepath.Join(dir, status.SocketName), f.config != "" || f.dataDir != "", nil
}

// dialCmd is `ringdesk dial`: a test call to a running Ringdesk or any
// SIP server.
func dialCmd(args []string, stdout, stderr io.Writer) int {
	f := newDialFlags(stderr)
	target, err := f.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ringdesk dial: %v\n\n", err)
		f.fs.Usage()
		return 2
	}
	s, err := f.script(target)
	if err != nil {
		fmt.Fprintln(stderr, "ringdesk dial:", err)
		return 2
	}
	socket, explicit, err := f.socket()
	if err != nil {
		printConfigError(stderr, err)
		return 2
	}
	for _, d := range s.Digits {
		if d.At >= s.Duration {
			fmt.Fprintf(stderr, "ringdesk dial: warning: digit %s at %s comes after -duration %s and will not be sent\n", d.Digit, d.At, s.Duration)
		}
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var opts []dialer.Option
	if !f.asJSON {
		opts = append(opts, dialer.WithProgress(func(e dialer.Event) { fmt.Fprintln(stdout, e.String()) }))
	}
	d, err := dialer.New(s, log, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "ringdesk dial:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, runErr := d.Run(ctx)
	stop()

	var record json.RawMessage
	var recErr error
	if res.SIPCallID != "" && socket != "" && (res.Status != 0 || res.Answered) {
		record, recErr = fetchRecord(context.Background(), socket, res.SIPCallID)
	}
	if f.asJSON {
		out := struct {
			Call   dialer.Result   `json:"call"`
			Record json.RawMessage `json:"record,omitempty"`
			Error  string          `json:"error,omitempty"`
		}{Call: res, Record: record}
		if runErr != nil {
			out.Error = runErr.Error()
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else {
		switch {
		case record != nil:
			printCallRecord(stdout, record)
		case recErr != nil && (explicit || !errors.Is(recErr, status.ErrNotRunning)):
			fmt.Fprintln(stdout, "call record:", recErr)
		}
	}
	if runErr != nil {
		fmt.Fprintln(stderr, "ringdesk dial:", runErr)
		return 1
	}
	if !res.Answered {
		return 1
	}
	return 0
}

// fetchRecord asks the Ringdesk at socket for the record of the call whose
// caller leg has SIP Call-ID callID; it answers 404 until the call is over
// on its side, so dial asks again for up to recordWait.
func fetchRecord(ctx context.Context, socket, callID string) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, recordWait+2*time.Second)
	defer cancel()
	deadline := time.Now().Add(recordWait)
	for {
		body, err := status.Call(ctx, socket, http.MethodGet, "/calls/"+url.PathEscape(callID), nil)
		if err == nil {
			return body, nil
		}
		var ce *status.CallError
		if !errors.As(err, &ce) || ce.Status != http.StatusNotFound {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the server has no record of call %s", callID)
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// partyName names a party: "agent bob (1002)", "1002", "+4930123".
func partyName(p calls.Party) string {
	num := p.Extension
	if num == "" {
		num = p.Number
	}
	switch {
	case p.AgentID != "" && num != "":
		return "agent " + p.AgentID + " (" + num + ")"
	case p.AgentID != "":
		return "agent " + p.AgentID
	case num != "":
		return num
	case p.Name != "":
		return p.Name
	default:
		return "?"
	}
}

// printCallRecord prints the lines of Ringdesk's record of the call.
func printCallRecord(w io.Writer, raw []byte) {
	var r calls.CallRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		fmt.Fprintln(w, "call record: unreadable:", err)
		return
	}
	for _, l := range recordLines(r) {
		fmt.Fprintln(w, l)
	}
}

// recordLines are the record as printed.
func recordLines(r calls.CallRecord) []string {
	head := "ringdesk call " + string(r.ID)
	if r.Cause != calls.CauseUnknown {
		head += ": " + r.Cause.String()
	}
	if r.HungUpBy != calls.RoleNone {
		head += ", hung up by " + strings.ToLower(r.HungUpBy.String())
	}
	lines := []string{head}
	answered := false
	for _, l := range r.Legs {
		if r.AnsweredBy == "" || l.ID != r.AnsweredBy {
			continue
		}
		answered = true
		s := "answered by " + partyName(l.Party)
		if at := l.Answered; !at.IsZero() && !r.Started.IsZero() {
			s += " after " + dialSeconds(at.Sub(r.Started))
		}
		lines = append(lines, s)
	}
	if !answered && r.AnsweredBy == "" {
		switch {
		case !r.Answered.IsZero(), r.Status == 200: // 200 with no agent: Ringdesk's flow answered
			lines = append(lines, "answered by Ringdesk, no agent took the call")
		case r.Status != 0:
			lines = append(lines, "not answered: "+strconv.Itoa(r.Status))
		}
	}
	if rt := r.Route; rt != nil {
		if rt.Department != "" {
			lines = append(lines, "department: "+rt.Department)
		}
		if rt.MenuPath != "" {
			lines = append(lines, "menu path: "+rt.MenuPath)
		}
		if rt.Queue != "" {
			wait := rt.QueueWait
			if wait == 0 {
				wait = rt.Waited
			}
			s := "queue: " + rt.Queue + ", waited " + dialSeconds(wait)
			if rt.Abandoned {
				s += ", abandoned"
			}
			lines = append(lines, s)
		} else if rt.Waited > 0 {
			lines = append(lines, "waited "+dialSeconds(rt.Waited)+" for an agent")
		}
		if vm := rt.Voicemail; vm != nil {
			lines = append(lines, fmt.Sprintf("voicemail: %s (%s)", vm.Path, dialSeconds(vm.Duration)))
		}
	}
	if rec := r.Recording; rec != nil && rec.Path != "" {
		lines = append(lines, fmt.Sprintf("recording: %s (%s)", rec.Path, dialSeconds(rec.Duration)))
	}
	return lines
}

func dialSeconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }
