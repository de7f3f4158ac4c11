package dialer

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ringdesk/ringdesk/media/wav"
)

// Defaults used when a Script field is zero.
const (
	DefaultServer    = "127.0.0.1:5060"
	DefaultTransport = "udp"
	DefaultFrom      = "ringdesk-dial"
	DefaultDuration  = 30 * time.Second
	DefaultTimeout   = 60 * time.Second
	DefaultUserAgent = "ringdesk-dial"
	// DefaultSIPPort is the port of a Server given without one.
	DefaultSIPPort = 5060
	// MaxToneHz is the highest -tone: G.711 carries up to 4 kHz.
	MaxToneHz = 3900
)

// DefaultBind is the local address when Script.Bind is the zero Addr.
var DefaultBind = netip.AddrFrom4([4]byte{127, 0, 0, 1}) //nolint:gochecknoglobals // constant value

// Method is how a Script sends its digits.
type Method int

// Digit methods. The zero value means the default, MethodRFC4733.
const (
	MethodUnknown Method = iota
	MethodRFC4733        // telephone-event packets in the RTP stream (RFC 4733)
	MethodInband         // the dual tones mixed into the audio sent
	MethodInfo           // SIP INFO requests, application/dtmf-relay
)

// ParseMethod reads a method's name: "rfc4733", "inband" or "info".
func ParseMethod(s string) (Method, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "rfc4733", "rfc2833":
		return MethodRFC4733, nil
	case "inband", "in-band":
		return MethodInband, nil
	case "info", "sip-info":
		return MethodInfo, nil
	default:
		return MethodUnknown, fmt.Errorf("%w: dtmf method %q: want rfc4733, inband or info", ErrBadScript, clip(s))
	}
}

// String returns the method's name as ParseMethod reads it.
func (m Method) String() string {
	switch m {
	case MethodRFC4733:
		return "rfc4733"
	case MethodInband:
		return "inband"
	case MethodInfo:
		return "info"
	case MethodUnknown:
		return "unknown"
	default:
		return "Method(" + strconv.Itoa(int(m)) + ")"
	}
}

// MarshalText implements encoding.TextMarshaler.
func (m Method) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Method) UnmarshalText(b []byte) error {
	if string(b) == "unknown" {
		*m = MethodUnknown
		return nil
	}
	v, err := ParseMethod(string(b))
	*m = v
	return err
}

// Script is one test call: whom to call, how, and what to do once answered.
// Zero fields mean the documented defaults.
type Script struct {
	// Target is the number or extension called: the user part of the
	// Request-URI sip:Target@Server. A target with an @ ("500@example.com")
	// or a sip: URI is used as the Request-URI as it is.
	Target string
	// Server is the HOST:PORT every request is sent to (an outbound proxy,
	// RFC 3261 §8.1.2); default DefaultServer, port default 5060.
	Server string
	// Transport is "udp" (default) or "tcp".
	Transport string
	// User and Password answer 401 and 407 challenges with digest
	// authentication (RFC 3261 §22, MD5 or SHA-256 per RFC 8760). Without
	// them a challenge ends the call.
	User, Password string
	// From is the user part of the From header: default User, else
	// DefaultFrom.
	From string
	// Bind is the local address of the SIP and RTP sockets, advertised in
	// Contact and SDP; default DefaultBind. It must be a specific address.
	Bind netip.Addr
	// Digits are sent after the answer, with DTMF.
	Digits Schedule
	// DTMF is how digits are sent, default MethodRFC4733.
	DTMF Method
	// Audio is sent after the answer, 8 kHz mono, looped until the end (see
	// LoadWAV). When empty, Tone is.
	Audio []int16
	// Tone is the frequency in Hz of a sine sent after the answer when
	// Audio is empty; 0 sends silence.
	Tone float64
	// Record is a WAV file (8 kHz, mono, 16-bit) that receives what the
	// call hears from the answer, or from early media (a 183 with SDP), to
	// the end. An existing file is replaced. Empty: no recording.
	Record string
	// Duration is how long after the answer we hang up; default
	// DefaultDuration.
	Duration time.Duration
	// Timeout is how long we let it ring before giving up with CANCEL;
	// default DefaultTimeout.
	Timeout time.Duration
	// UserAgent is the User-Agent header, default DefaultUserAgent.
	UserAgent string
}

// withDefaults fills the zero fields.
func (s Script) withDefaults() Script {
	if s.Server == "" {
		s.Server = DefaultServer
	}
	if s.Transport == "" {
		s.Transport = DefaultTransport
	}
	s.Transport = strings.ToLower(s.Transport)
	if s.From == "" {
		s.From = s.User
	}
	if s.From == "" {
		s.From = DefaultFrom
	}
	if !s.Bind.IsValid() {
		s.Bind = DefaultBind
	}
	s.Bind = s.Bind.Unmap()
	if s.DTMF == MethodUnknown {
		s.DTMF = MethodRFC4733
	}
	if s.Duration == 0 {
		s.Duration = DefaultDuration
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.UserAgent == "" {
		s.UserAgent = DefaultUserAgent
	}
	return s
}

// Validate reports the first unusable field (after defaults), wrapping
// ErrBadScript.
func (s Script) Validate() error {
	s = s.withDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadScript}, args...)...)
	}
	switch {
	case strings.TrimSpace(s.Target) == "":
		return bad("no target to call")
	case strings.ContainsAny(s.Target, " \t\r\n<>\""):
		return bad("target %q has spaces or brackets", clip(s.Target))
	case s.Transport != "udp" && s.Transport != "tcp":
		return bad("transport %q: want udp or tcp", clip(s.Transport))
	case s.Bind.IsUnspecified():
		return bad("bind address %s: give the specific address to advertise in SDP", s.Bind)
	case s.Password != "" && s.User == "":
		return bad("a password needs a user")
	case strings.ContainsAny(s.From, " \t\r\n<>\"@:;"):
		return bad("from user %q has characters a SIP user part cannot", clip(s.From))
	case s.DTMF < MethodRFC4733 || s.DTMF > MethodInfo:
		return bad("dtmf method %d", int(s.DTMF))
	case s.Duration < 0:
		return bad("negative duration %s", s.Duration)
	case s.Timeout < 0:
		return bad("negative timeout %s", s.Timeout)
	case math.IsNaN(s.Tone) || s.Tone < 0 || s.Tone > MaxToneHz:
		return bad("tone %g Hz is not within 0-%d Hz", s.Tone, MaxToneHz)
	case len(s.Digits) > MaxDigits:
		return bad("more than %d digits", MaxDigits)
	}
	if _, _, err := splitServer(s.Server); err != nil {
		return bad("%v", err)
	}
	return nil
}

// splitServer splits HOST[:PORT], the port defaulting to DefaultSIPPort.
func splitServer(server string) (string, uint16, error) {
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		// No port: a bare host name or address (IPv6 in brackets or not).
		host, port = strings.TrimSuffix(strings.TrimPrefix(server, "["), "]"), strconv.Itoa(DefaultSIPPort)
	}
	if host == "" || strings.ContainsAny(host, " \t/@") {
		return "", 0, fmt.Errorf("server %q: want HOST:PORT", clip(server))
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", 0, fmt.Errorf("server %q: bad port %q", clip(server), clip(port))
	}
	return host, uint16(p), nil
}

// LoadWAV reads a WAV file (any rate media/wav reads, any channels) as the
// 8 kHz mono audio of Script.Audio.
func LoadWAV(path string) ([]int16, error) {
	a, err := wav.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pcm, err := a.To8k()
	if err != nil {
		return nil, fmt.Errorf("read wav %s: %w", path, err)
	}
	if len(pcm) == 0 {
		return nil, fmt.Errorf("read wav %s: no audio", path)
	}
	return pcm, nil
}
