package configs

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/configs/sounds"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/wav"
	"github.com/ringdesk/ringdesk/sip"
	"github.com/ringdesk/ringdesk/tickets"
)

// sampleYAML is the commented sample configuration, configs/ringdesk.yaml.
//
//go:embed ringdesk.yaml
var sampleYAML string

// SampleSource is Config.Source, and the file name in errors, for the
// embedded sample.
const SampleSource = "embedded:ringdesk.yaml"

// DefaultDataDir is data_dir when the file leaves it out, relative to the
// config file's directory.
const DefaultDataDir = "ringdesk-data"

// maxConfigSize bounds the config file; a real one is a few kilobytes.
const maxConfigSize = 1 << 20

// Config is the validated configuration, composed into each package's Config.
// Fields the file leaves out stay zero, so that each package applies its own
// default; but HTTP.SessionTTL and Tickets, which hold their defaults.
type Config struct {
	// Source is the file path, or SampleSource.
	Source string
	// SIP has Listen parsed with sip.ParseListen, Users built from the agents
	// (Name is the extension), the TLS certificate and key as absolute paths,
	// and the signaling half of each trunk (CAFile absolute).
	SIP sip.Config
	// Media has the RTP addresses, the port range from rtp.ports, and Quarantine.
	Media media.Config
	// Calls has RingTimeout, ShutdownGrace, MediaTimeout (from
	// rtp.media_timeout), one Extension per agent, the call policy half of
	// each trunk (Country upper case, CallerID in E.164), Routes, Dialing
	// (Country left empty for the first trunk's) and Plan: the dialplan
	// file that the dialplan key names, compiled (nil without the key).
	Calls calls.Config
	// DataDir holds the SQLite database and recordings; absolute.
	DataDir string
	// Agents are the people who answer calls, in file order.
	Agents []Agent
	// WrapUp is how long an agent rests after a call before the dialplan
	// rings them again (calls.wrap_up; 0: none).
	WrapUp time.Duration
	// HTTP is the agent web UI and REST API (http.*); Listen "" is off.
	HTTP HTTPConfig
	// Departments are who works where, in file order: the tickets of a
	// department are visible to its agents (and to admins), and its missed
	// calls notify them.
	Departments []Department
	// Tickets are the helpdesk's rules: tickets.DefaultSettings with the
	// tickets section applied, Outcomes DefaultOutcomes when the file leaves
	// them out, Country the dialing country (dialing.country, or the first
	// trunk's; "" without either), Departments from departments (name ->
	// agent ids) and Webhooks from webhooks.
	Tickets tickets.Settings
}

// HTTPConfig is the web server of the agent UI and the REST API
// (http://Listen/api/v1).
type HTTPConfig struct {
	// Listen is the host:port the web server binds, host an IP address or
	// a host name, or empty for every address; port 0 takes any free port.
	// "" (the default) turns the web server off.
	Listen string
	// SessionTTL is how long a web login lasts; DefaultSessionTTL when the
	// file leaves it out, so never zero.
	SessionTTL time.Duration
}

// Defaults and limits of the http section.
const (
	// DefaultSessionTTL is http.session_ttl when the file leaves it out.
	DefaultSessionTTL = 12 * time.Hour
	// MinSessionTTL and MaxSessionTTL bound http.session_ttl.
	MinSessionTTL = 5 * time.Minute
	MaxSessionTTL = 720 * time.Hour
)

// Department is a group of agents sharing tickets and missed calls.
type Department struct {
	// Name is 1 to 63 of a-z, 0-9, '.', '_' and '-', unique.
	Name string
	// Agents are the ids of its agents, each an agent of the file.
	Agents []string
}

// DefaultOutcomes returns tickets.outcomes when the file leaves it out: the
// choices of a call summary.
func DefaultOutcomes() []string {
	return []string{"Resolved", "Callback needed", "Escalated", "No answer"}
}

// Agent is one person who answers calls.
type Agent struct {
	// ID is the agent's stable identifier, for example "alice".
	ID string
	// Name is shown as caller ID; may be empty.
	Name string
	// Extension is the agent's number, also the SIP user name of their phones.
	Extension string
	// WebPasswordHash is the bcrypt hash ($2a$, $2b$ or $2y$) of the agent's
	// web UI password; "" means the agent cannot log in to the web UI. It is
	// checked for its form only: 60 characters with a cost of 4 to 31.
	WebPasswordHash string
	// Admin agents see the tickets of every department.
	Admin bool
}

// Load reads and parses the config file at path. Relative paths in the file
// resolve against the file's directory. When the content has problems the
// error is Errors (use errors.As); when the file cannot be read it is a
// wrapped *fs.PathError.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the admin names the file on purpose
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(path, data, filepath.Dir(path))
}

// Parse parses and validates a config file's content. name is used in Source
// and in errors; relative paths resolve against baseDir. The error is Errors,
// holding every problem found.
func Parse(name string, data []byte, baseDir string) (*Config, error) {
	r := parse(name, data, baseDir)
	if errs := r.problems(); len(errs) > 0 {
		return nil, errs
	}
	return r.cfg, nil
}

// Sample parses the embedded sample config. Relative paths resolve against
// the current directory.
func Sample() (*Config, error) {
	return Parse(SampleSource, []byte(sampleYAML), ".")
}

// SampleYAML returns the embedded sample config, comments and all.
func SampleYAML() []byte {
	return []byte(sampleYAML)
}

// result is what parse found: the composed Config, our own problems, and
// what the packages' Validate methods say about the composed Configs.
type result struct {
	file string
	cfg  *Config
	own  []problem
	pkg  []problem
}

// problems returns our own problems plus the package problems we missed,
// sorted by position.
func (r result) problems() Errors {
	var out Errors
	for _, p := range r.own {
		out = append(out, p.Error)
	}
	for _, p := range r.missed() {
		out = append(out, p.Error)
	}
	slices.SortStableFunc(out, func(a, b Error) int {
		if a.File != b.File { // the config's own problems first, then its dialplan's
			if a.File == r.file {
				return -1
			}
			if b.File == r.file {
				return 1
			}
			return strings.Compare(a.File, b.File)
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return out
}

// missed returns the package problems in sections where we found none. Our
// checks are meant to be complete, so there should be none; see
// TestPackageValidateAgrees and FuzzParse.
func (r result) missed() []problem {
	dirty := make(map[string]bool)
	for _, p := range r.own {
		for _, s := range p.sections {
			dirty[s] = true
		}
	}
	var out []problem
	for _, p := range r.pkg {
		if !dirty[sectionAll] && !slices.ContainsFunc(p.sections, func(s string) bool { return dirty[s] }) {
			out = append(out, p)
		}
	}
	return out
}

func parse(name string, data []byte, baseDir string) result {
	d := &decoder{file: name, sample: name == SampleSource}
	if len(data) > maxConfigSize {
		d.errorf(pos{1, 1}, "", "the file is %d bytes, more than the %d a config may have", len(data), maxConfigSize)
		return result{file: name, own: d.errs}
	}
	// Editors on Windows may start the file with a byte order mark.
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	f := d.parseYAML(data)
	if f == nil {
		return result{file: name, own: d.errs}
	}
	raw := d.decodeFile(f)
	if raw == nil {
		return result{file: name, own: d.errs}
	}
	if baseDir == "" {
		baseDir = "."
	}
	cfg := d.build(raw, baseDir)
	return result{file: name, cfg: cfg, own: d.errs, pkg: packageProblems(raw, cfg, name)}
}

// packageProblems runs each package's own Validate on the composed Config and
// places any error at the section's key.
func packageProblems(raw *rawConfig, cfg *Config, file string) []problem {
	at := func(s section) pos {
		if s.present {
			return s.key
		}
		return raw.top
	}
	checks := []struct {
		section string
		at      pos
		err     error
	}{
		{sectionSIP, at(raw.sip.section), cfg.SIP.Validate()},
		{sectionMedia, at(raw.rtp.section), cfg.Media.Validate()},
		{sectionCalls, at(raw.calls.section), cfg.Calls.Validate()},
	}
	var out []problem
	for _, c := range checks {
		if c.err != nil {
			out = append(out, problem{
				Error:    Error{File: file, Line: c.at.line, Col: c.at.col, Msg: c.err.Error()},
				sections: []string{c.section},
			})
		}
	}
	return out
}

// BuiltinHoldMusic decodes the hold music Ringdesk ships (configs/sounds),
// played when calls.hold_music is left out: 8 kHz PCM.
func BuiltinHoldMusic() ([]int16, error) {
	a, err := wav.Decode(bytes.NewReader(sounds.HoldMusic))
	if err != nil {
		return nil, fmt.Errorf("built-in hold music: %w", err)
	}
	pcm, err := a.To8k()
	if err != nil {
		return nil, fmt.Errorf("built-in hold music: %w", err)
	}
	return pcm, nil
}
