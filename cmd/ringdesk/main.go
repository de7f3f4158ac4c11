package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ringdesk/ringdesk/configs"
	"github.com/ringdesk/ringdesk/internal/status"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "" //nolint:gochecknoglobals // build-time constant

const usage = `Ringdesk: a PBX with helpdesk ticketing, in one binary.

Usage:
  ringdesk [serve] [-config FILE] [flags]   run the PBX (the sample config when -config is absent)
  ringdesk check [-config FILE]             validate the config and its dialplan, print every problem as FILE:LINE:COL: message
  ringdesk routes [-config FILE]            print each number's call flow as a tree
  ringdesk reload [-config FILE | -data-dir DIR]
                                            make the running server re-read its config and dialplan (as SIGHUP does)
  ringdesk agent [-config FILE | -data-dir DIR] list | online|busy|offline ID | web|phone ID |
                 forward ID NUMBER [always|no_answer] | unforward ID
                                            show or set agents' presence on the running server
  ringdesk status [-config FILE | -data-dir DIR] [-json | -metrics]
                                            ask the running server about its calls and trunks
  ringdesk dial [flags] TARGET              call TARGET as a test caller (audio, digits, recording) and print
                                            what happened, with the call's record (see ringdesk dial -h)
  ringdesk passwd                           read a password on stdin, print its bcrypt hash (an agent's web_password_hash)
  ringdesk token [-config FILE] AGENT [NAME] | -list [AGENT] | -revoke ID
                                            create an API token for AGENT (Authorization: Bearer ...), printed once;
                                            list tokens (never their secret); revoke one
  ringdesk sample-config                    print the commented sample config
  ringdesk version                          print the version

Flags of serve:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serveCmd(args, stdout, stderr)
	case "check":
		return checkCmd(args, stdout, stderr)
	case "status":
		return statusCmd(args, stdout, stderr)
	case "routes":
		return routesCmd(args, stdout, stderr)
	case "reload":
		return reloadCmd(args, stdout, stderr)
	case "agent":
		return agentCmd(args, stdout, stderr)
	case "dial":
		return dialCmd(args, stdout, stderr)
	case "passwd":
		return passwdCmd(args, os.Stdin, stdout, stderr)
	case "token":
		return tokenCmd(args, stdout, stderr)
	case "sample-config":
		_, _ = stdout.Write(configs.SampleYAML())
		return 0
	case "version":
		fmt.Fprintln(stdout, "ringdesk", versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		newServeFlags(stdout).fs.PrintDefaults()
		return 0
	default:
		fmt.Fprintf(stderr, "ringdesk: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// versionString is the -ldflags version, else the module version or VCS
// revision recorded by the Go toolchain.
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "dev-" + rev
}

type serveFlags struct {
	fs        *flag.FlagSet
	config    string
	logLevel  string
	logFormat string
	sipTrace  bool
}

func newServeFlags(out io.Writer) *serveFlags {
	f := &serveFlags{fs: flag.NewFlagSet("ringdesk serve", flag.ContinueOnError)}
	f.fs.SetOutput(out)
	f.fs.StringVar(&f.config, "config", "", "config file (default: the embedded sample)")
	f.fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	f.fs.BoolVar(&f.sipTrace, "sip-trace", false, "log every SIP message sent and received (implies -log-level debug)")
	return f
}

func serveCmd(args []string, stdout, stderr io.Writer) int {
	f := newServeFlags(stderr)
	if err := f.fs.Parse(args); err != nil {
		return 2
	}
	if f.fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ringdesk: unexpected arguments %q\n", f.fs.Args())
		return 2
	}
	log, err := newLogger(stderr, f.logLevel, f.logFormat, f.sipTrace)
	if err != nil {
		fmt.Fprintln(stderr, "ringdesk:", err)
		return 2
	}
	// sipgo logs a few things through its package default logger instead of
	// the one it is given: let those reach our handler too.
	slog.SetDefault(log)
	cfg, err := loadConfig(f.config)
	if err != nil {
		printConfigError(stderr, err)
		return 1
	}
	if f.sipTrace {
		cfg.SIP.Trace = true
	}

	// The first SIGINT/SIGTERM drains; a second one exits at once.
	drain := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		<-sigs
		log.Info("shutting down: new calls are refused, calls in progress may finish",
			"grace", cfg.Calls.ShutdownGrace, "hint", "signal again to exit at once")
		close(drain)
		<-sigs
		log.Warn("second signal: exiting now")
		os.Exit(1)
	}()

	a, err := newApp(cfg, log)
	if err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	a.path = f.config
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	hupCtx, stopHUP := context.WithCancel(context.Background())
	var hupDone sync.WaitGroup
	hupDone.Go(func() { a.hupReloads(hupCtx, hup) })
	defer func() { stopHUP(); hupDone.Wait() }()
	printBanner(stdout, a, f.config == "")
	if err := a.run(context.Background(), drain); err != nil {
		log.Error("stopped with an error", "error", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func loadConfig(path string) (*configs.Config, error) {
	if path == "" {
		return configs.Sample()
	}
	return configs.Load(path)
}

func printConfigError(w io.Writer, err error) {
	var errs configs.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(w, e.Error())
		}
		return
	}
	fmt.Fprintln(w, "ringdesk:", err)
}

func checkCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ringdesk check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file to check (default: the embedded sample)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" && fs.NArg() == 1 {
		*path = fs.Arg(0)
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		printConfigError(stdout, err)
		return 1
	}
	plan := "no dialplan"
	if p := cfg.Calls.Plan; p != nil {
		plan = fmt.Sprintf("dialplan %s with %d numbers", p.Source, len(p.Numbers()))
	}
	fmt.Fprintf(stdout, "%s: OK (%d agents, %d SIP listeners, %d trunks, %s)\n",
		cfg.Source, len(cfg.Agents), len(cfg.SIP.Listen), len(cfg.SIP.Trunks), plan)
	return 0
}

func newLogger(w io.Writer, level, format string, trace bool) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad -log-level %q: want debug, info, warn or error", level)
	}
	if trace && lv > slog.LevelDebug {
		lv = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("bad -log-format %q: want text or json", format)
	}
}

// statusCmd asks the Ringdesk running with the config's data directory
// what it is doing.
func statusCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ringdesk status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "the running server's config file (default: the embedded sample)")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	asMetrics := fs.Bool("metrics", false, "print the status as Prometheus metrics")
	dataDir := fs.String("data-dir", "", "the running server's data directory (default: the config's data_dir)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dataDir == "" {
		cfg, err := loadConfig(*path)
		if err != nil {
			printConfigError(stderr, err)
			return 1
		}
		*dataDir = cfg.DataDir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := status.Fetch(ctx, filepath.Join(*dataDir, status.SocketName))
	if err != nil {
		fmt.Fprintln(stderr, "ringdesk:", err)
		return 1
	}
	switch {
	case *asJSON:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(snap)
	case *asMetrics:
		_ = status.WriteMetrics(stdout, snap)
	default:
		status.Print(stdout, snap, time.Now())
	}
	return 0
}
