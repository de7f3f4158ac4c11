package calls

import (
	"fmt"
	"time"

	"github.com/ringdesk/ringdesk/acd"
	"github.com/ringdesk/ringdesk/dialplan"
	"github.com/ringdesk/ringdesk/media/tone"
)

// Defaults used when a Config field is zero.
const (
	DefaultRingTimeout   = 30 * time.Second
	DefaultMediaTimeout  = 60 * time.Second
	DefaultShutdownGrace = 30 * time.Second
)

// In-band DTMF detection modes.
const (
	InbandAuto   = "auto"
	InbandAlways = "always"
	InbandNever  = "never"
)

// Extension is a dialable internal number that rings an agent's phones.
type Extension struct {
	// Number is what callers dial, for example "1001"; it is also the SIP user
	// name the agent's phones register with.
	Number string `yaml:"number"`
	// Name is shown as caller ID when this extension calls.
	Name string `yaml:"name"`
	// AgentID is the agent this extension belongs to.
	AgentID string `yaml:"agent_id"`
}

// Config configures call control.
type Config struct {
	// RingTimeout ends an unanswered call with 480 Temporarily Unavailable.
	RingTimeout time.Duration `yaml:"ring_timeout"`
	// MediaTimeout ends an answered call when a leg sends no RTP for this long
	// (suspended while a leg is on hold).
	MediaTimeout time.Duration `yaml:"media_timeout"`
	// ShutdownGrace is how long active calls may go on after SIGTERM before
	// they get BYE.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// Extensions are the internal numbers.
	Extensions []Extension `yaml:"extensions"`
	// HoldMusic is what held parties hear: 8 kHz PCM, looped. Empty: a
	// short built-in arpeggio (cmd/ringdesk supplies the shipped music,
	// configs.BuiltinHoldMusic).
	HoldMusic []int16 `yaml:"-"`
	// Tones is the region of call-progress tones (ringback while a transfer
	// rings): us, uk or eu (default us).
	Tones string `yaml:"tones"`
	// InbandDTMF says when to listen for DTMF tones in the audio: "auto"
	// (legs that did not negotiate telephone-event; the default), "always"
	// or "never".
	InbandDTMF string `yaml:"inband_dtmf"`
	// Record records every answered call.
	Record bool `yaml:"record"`
	// RecordingsDir is where recordings go, in YYYY/MM/DD subdirectories;
	// required when Record is set.
	RecordingsDir string `yaml:"-"`
	// Trunks are the call policies of the SIP trunks (see Trunk).
	Trunks []Trunk `yaml:"trunks"`
	// Routes choose the trunks of outside numbers agents dial.
	Routes []Route `yaml:"routes"`
	// Dialing says how agents dial outside numbers.
	Dialing Dialing `yaml:"dialing"`
	// Plan is the dialplan: what numbers called from outside (DIDs) and
	// internal numbers do. nil: only extensions and outside numbers are
	// reachable. Switch.SetPlan replaces it while calls run.
	Plan *dialplan.Plan `yaml:"-"`
	// Agents is the agents' presence, shared with the admin API; nil: a
	// pool of the extensions' agents, all online.
	Agents *acd.Pool `yaml:"-"`
	// VoicemailDir is where voicemail messages go, in YYYY/MM/DD
	// subdirectories; required when the plan has a voicemail box.
	VoicemailDir string `yaml:"-"`
	// Beep is the tone before a voicemail message (8 kHz PCM); empty: a
	// built-in 1 kHz beep.
	Beep []int16 `yaml:"-"`
}

func (c Config) withDefaults() Config {
	if c.RingTimeout == 0 {
		c.RingTimeout = DefaultRingTimeout
	}
	if c.MediaTimeout == 0 {
		c.MediaTimeout = DefaultMediaTimeout
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.Tones == "" {
		c.Tones = "us"
	}
	if c.InbandDTMF == "" {
		c.InbandDTMF = InbandAuto
	}
	return c
}

// Validate reports the first inconsistency in c (after defaults).
func (c Config) Validate() error {
	_, err := c.prepared()
	return err
}

// prepared returns c with its defaults and the trunks' parsed values
// (number style, caller ID in E.164) filled in, or its first inconsistency.
func (c Config) prepared() (Config, error) {
	c = c.withDefaults()
	if c.RingTimeout < time.Second {
		return c, fmt.Errorf("calls: ring_timeout %s is shorter than a second", c.RingTimeout)
	}
	if c.MediaTimeout < time.Second {
		return c, fmt.Errorf("calls: media_timeout %s is shorter than a second", c.MediaTimeout)
	}
	if c.ShutdownGrace < 0 {
		return c, fmt.Errorf("calls: negative shutdown_grace")
	}
	if _, err := tone.Ringback(c.Tones); err != nil {
		return c, fmt.Errorf("calls: tones: %w", err)
	}
	switch c.InbandDTMF {
	case InbandAuto, InbandAlways, InbandNever:
	default:
		return c, fmt.Errorf("calls: inband_dtmf %q is not auto, always or never", c.InbandDTMF)
	}
	seen := make(map[string]bool, len(c.Extensions))
	for _, e := range c.Extensions {
		if e.Number == "" {
			return c, fmt.Errorf("calls: an extension has no number")
		}
		if seen[e.Number] {
			return c, fmt.Errorf("calls: extension %q appears twice", e.Number)
		}
		seen[e.Number] = true
	}
	c.Trunks = append([]Trunk(nil), c.Trunks...) // validateTrunks fills in
	if err := c.validateTrunks(); err != nil {
		return c, err
	}
	return c, nil
}
