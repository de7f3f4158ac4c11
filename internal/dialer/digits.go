package dialer

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ringdesk/ringdesk/media/dtmf"
)

// Timing of the digits a Script sends.
const (
	// DigitDuration is how long each digit is pressed: the RFC 4733 event,
	// the in-band tone and the Duration of a SIP INFO.
	DigitDuration = 100 * time.Millisecond
	// DigitInterval is the time from one digit to the next within an item
	// of a schedule ("123@2s"), and after the previous digit for an item
	// without a time.
	DigitInterval = 250 * time.Millisecond
	// FirstDigitAt is when a schedule's first item is sent if it has no
	// time: a second after the answer, so that the far end listens.
	FirstDigitAt = time.Second
	// MaxDigits bounds a schedule.
	MaxDigits = 256
	// MaxDigitAt is the latest time a digit may be scheduled at.
	MaxDigitAt = 24 * time.Hour
)

// ScheduledDigit is one digit of a schedule and when to send it, counted
// from the answer.
type ScheduledDigit struct {
	Digit dtmf.Digit    `json:"digit"`
	At    time.Duration `json:"at"`
}

// Schedule is the digits a Script sends, ordered by time.
type Schedule []ScheduledDigit

// ParseSchedule parses the -digits flag: comma-separated items, each one or
// more digits (0-9, *, #, A-D; a-d too) with an optional "@TIME" counted from
// the answer, where TIME is a Go duration ("3s", "1.5s", "250ms") or a number
// of seconds ("3"). The digits of an item are DigitInterval apart. An item
// without a time follows the previous digit after DigitInterval; a first
// item without one starts at FirstDigitAt. "2@3s,1@6s" sends 2 three
// seconds after the answer and 1 six seconds after it; "123#" sends 1, 2, 3
// and # from one second on. Items may come in any order: the schedule is
// sorted by time, keeping the written order for equal times. Spaces around
// items are ignored; an empty string is an empty schedule. At most
// MaxDigits digits, none later than MaxDigitAt.
func ParseSchedule(s string) (Schedule, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out Schedule
	next := FirstDigitAt
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		keys, when, timed := strings.Cut(item, "@")
		keys = strings.TrimSpace(keys)
		if keys == "" {
			return nil, fmt.Errorf("%w: empty item in %q", ErrBadDigits, clip(s))
		}
		at := next
		if timed {
			var err error
			if at, err = parseAt(strings.TrimSpace(when)); err != nil {
				return nil, fmt.Errorf("%w: item %q: %w", ErrBadDigits, clip(item), err)
			}
		}
		for i := range len(keys) {
			d, ok := parseKey(keys[i])
			if !ok {
				return nil, fmt.Errorf("%w: %q is not a DTMF key (0-9, *, #, A-D)", ErrBadDigits, clip(keys[i:i+1]))
			}
			if len(out) == MaxDigits {
				return nil, fmt.Errorf("%w: more than %d digits", ErrBadDigits, MaxDigits)
			}
			if at > MaxDigitAt {
				return nil, fmt.Errorf("%w: digit %s at %s is later than %s", ErrBadDigits, d, at, MaxDigitAt)
			}
			out = append(out, ScheduledDigit{Digit: d, At: at})
			next = at + DigitInterval
			at = next
		}
	}
	slices.SortStableFunc(out, func(a, b ScheduledDigit) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	return out, nil
}

// parseAt parses the time of an item: a Go duration or a number of seconds.
func parseAt(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("no time after @")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || math.IsNaN(f) {
			return 0, fmt.Errorf("time %q is not a duration like 3s or 1.5s", clip(s))
		}
		if f > MaxDigitAt.Seconds() || f < 0 {
			return 0, fmt.Errorf("time %q is not within 0-%s", clip(s), MaxDigitAt)
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d < 0 {
		return 0, fmt.Errorf("time %q is negative", clip(s))
	}
	if d > MaxDigitAt {
		return 0, fmt.Errorf("time %q is later than %s", clip(s), MaxDigitAt)
	}
	return d, nil
}

// parseKey reads one key, 'a'-'d' standing for 'A'-'D'.
func parseKey(c byte) (dtmf.Digit, bool) {
	if c >= 'a' && c <= 'd' {
		c -= 'a' - 'A'
	}
	d := dtmf.Digit(c)
	return d, dtmf.Valid(d)
}

// String writes the schedule back in the syntax ParseSchedule reads, one
// item per digit with its time: "2@3s,1@6s".
func (s Schedule) String() string {
	var b strings.Builder
	for i, d := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d.Digit.String())
		b.WriteByte('@')
		b.WriteString(d.At.String())
	}
	return b.String()
}

// Digits returns the schedule's digits in order, "21".
func (s Schedule) Digits() string {
	b := make([]byte, 0, len(s))
	for _, d := range s {
		b = append(b, byte(d.Digit))
	}
	return string(b)
}

// clip shortens user input quoted in an error.
func clip(s string) string {
	const maxQuoted = 40
	if len(s) > maxQuoted {
		return s[:maxQuoted] + "..."
	}
	return s
}
