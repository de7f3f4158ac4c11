package dtmf

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Content types of DTMF in SIP INFO requests (RFC 6086 carries them; neither
// body format has an RFC).
const (
	// ContentTypeRelay is the de facto standard (Cisco) body:
	// "Signal=5\r\nDuration=160\r\n".
	ContentTypeRelay = "application/dtmf-relay"
	// ContentTypeDTMF is a body that is just the digit: "5".
	ContentTypeDTMF = "application/dtmf"
)

// DefaultInfoDuration is the duration ParseInfo returns when the body gives
// none (or 0).
const DefaultInfoDuration = 250 * time.Millisecond

// maxInfoDuration is the longest Duration ParseInfo accepts, in milliseconds:
// a minute is far longer than anyone holds a key.
const maxInfoDuration = 60_000

// ParseInfo parses the body of a SIP INFO request carrying a DTMF digit and
// returns the digit and how long the key was pressed.
//
// The content type is compared case-insensitively, without its parameters.
// For application/dtmf-relay, the body is lines of key=value (CRLF or LF,
// spaces around keys and values ignored, keys case-insensitive): Signal is the
// digit, written as itself ("5", "*", "#", "A", or "a") or as its RFC 4733
// event code ("10" for *, "11" for #, "12"-"15" for A-D); Duration, in
// milliseconds, is optional. Other keys are ignored; a later key overrides an
// earlier one. For application/dtmf, the body is the digit character alone
// ("5", "#", "A" or "a"), with optional surrounding white space. A missing or
// zero duration is DefaultInfoDuration.
//
// Any other content type returns an error wrapping ErrNotDTMF; a body that
// does not parse (a line without '=', no Signal, a Signal that is not a DTMF
// digit, a Duration that is not a number of milliseconds up to 60000) returns
// an error wrapping ErrMalformed. ParseInfo does not allocate unless it fails.
func ParseInfo(contentType string, body []byte) (Digit, time.Duration, error) {
	mt, _, _ := strings.Cut(contentType, ";")
	switch mt = strings.TrimSpace(mt); {
	case strings.EqualFold(mt, ContentTypeRelay):
		return parseRelay(body)
	case strings.EqualFold(mt, ContentTypeDTMF):
		val := trimSpace(body)
		if len(val) != 1 {
			return 0, 0, fmt.Errorf("%w: %s body %q is not a digit", ErrMalformed, ContentTypeDTMF, clip(val))
		}
		d, ok := parseDigit(val[0])
		if !ok {
			return 0, 0, fmt.Errorf("%w: %s body %q is not a digit", ErrMalformed, ContentTypeDTMF, clip(val))
		}
		return d, DefaultInfoDuration, nil
	default:
		return 0, 0, fmt.Errorf("%w: %q", ErrNotDTMF, clip([]byte(contentType)))
	}
}

func parseRelay(body []byte) (Digit, time.Duration, error) {
	var (
		d      Digit
		signal bool
		ms     int
	)
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte{'\n'})
		line = trimSpace(line)
		if len(line) == 0 {
			continue
		}
		key, val, ok := bytes.Cut(line, []byte{'='})
		if !ok {
			return 0, 0, fmt.Errorf("%w: %s line %q has no '='", ErrMalformed, ContentTypeRelay, clip(line))
		}
		key, val = trimSpace(key), trimSpace(val)
		switch {
		case equalFold(key, "signal"):
			if d, ok = parseSignal(val); !ok {
				return 0, 0, fmt.Errorf("%w: %s Signal %q is not a digit", ErrMalformed, ContentTypeRelay, clip(val))
			}
			signal = true
		case equalFold(key, "duration"):
			if ms, ok = parseMillis(val); !ok {
				return 0, 0, fmt.Errorf("%w: %s Duration %q is not 0-%d ms", ErrMalformed, ContentTypeRelay, clip(val), maxInfoDuration)
			}
		}
	}
	if !signal {
		return 0, 0, fmt.Errorf("%w: %s body without Signal", ErrMalformed, ContentTypeRelay)
	}
	if ms == 0 {
		return d, DefaultInfoDuration, nil
	}
	return d, time.Duration(ms) * time.Millisecond, nil
}

// InfoBody returns the content type and body of a SIP INFO request that sends
// digit d pressed for dur, as application/dtmf-relay: "Signal=5\r\nDuration=
// 160\r\n", with * and # as themselves. dur is rounded to milliseconds;
// dur ≤ 0 means DefaultInfoDuration. It returns "" and nil if d is not Valid.
func InfoBody(d Digit, dur time.Duration) (contentType string, body []byte) {
	if !Valid(d) {
		return "", nil
	}
	if dur <= 0 {
		dur = DefaultInfoDuration
	}
	ms := max((dur+time.Millisecond/2)/time.Millisecond, 1)
	body = make([]byte, 0, 32)
	body = append(body, "Signal="...)
	body = append(body, byte(d))
	body = append(body, "\r\nDuration="...)
	body = strconv.AppendInt(body, int64(ms), 10)
	body = append(body, "\r\n"...)
	return ContentTypeRelay, body
}

// parseSignal parses a digit written as itself or as its event code 0-15.
func parseSignal(b []byte) (Digit, bool) {
	if len(b) == 1 {
		return parseDigit(b[0])
	}
	if len(b) == 0 || len(b) > 3 {
		return 0, false
	}
	code := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		code = code*10 + int(c-'0')
	}
	if code > 15 {
		return 0, false
	}
	return FromEventCode(uint8(code))
}

// parseMillis parses a decimal number of milliseconds, 0-maxInfoDuration.
func parseMillis(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n = n*10 + int(c-'0'); n > maxInfoDuration {
			return 0, false
		}
	}
	return n, true
}

// trimSpace trims ASCII white space without allocating.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// equalFold reports whether b equals lower, which is lower-case ASCII,
// ignoring ASCII case.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// clip shortens b for an error message.
func clip(b []byte) []byte {
	const n = 40
	if len(b) > n {
		return b[:n]
	}
	return b
}
