package e164

import (
	"fmt"
	"strings"
)

// DefaultMaxExtensionDigits is the longest extension when
// DialRules.MaxExtensionDigits is zero.
const DefaultMaxExtensionDigits = 6

// DialRules tell an outside number from an extension in what a phone or an
// agent dialled.
type DialRules struct {
	// Country is the ISO 3166-1 alpha-2 code that national numbers and the
	// international prefix are read in ("PT").
	Country string `yaml:"country"`
	// OutsidePrefix, when set, is the digits dialled before every outside
	// number ("0" or "9"), as on an old PBX; only numbers that start with
	// it (or with '+') are outside. Empty means numbers are told apart by
	// length (see MaxExtensionDigits).
	OutsidePrefix string `yaml:"outside_prefix"`
	// MaxExtensionDigits is the longest extension. Without OutsidePrefix a
	// longer number is an outside number. Zero means
	// DefaultMaxExtensionDigits.
	MaxExtensionDigits int `yaml:"max_extension_digits"`
}

// Validate checks the rules; Outside calls it too.
func (r DialRules) Validate() error {
	if _, err := regionOf(r.Country); err != nil {
		return fmt.Errorf("dial rules: %w", err)
	}
	if strings.Trim(r.OutsidePrefix, "0123456789") != "" {
		return fmt.Errorf("dial rules: outside prefix %q: want digits", r.OutsidePrefix)
	}
	if r.MaxExtensionDigits < 0 {
		return fmt.Errorf("dial rules: max extension digits %d: want 0 (the default) or more", r.MaxExtensionDigits)
	}
	return nil
}

// Outside decides whether dialled is an outside number and, if it is,
// returns it in E.164. Separators and parameters are ignored as by
// Normalize, and:
//
//   - A number starting with '+' is outside.
//   - Anything else that is not digits (a name such as "alice", a feature
//     code such as "*72", an empty string) is not (ok false, err nil).
//   - With OutsidePrefix set, digits starting with it are outside: what
//     follows the prefix is read by Normalize, as a national number or
//     after the international prefix ("9 210000000", "9 00 44 20 7946
//     0000" in PT with prefix "9"). Other digits are not outside.
//   - Without OutsidePrefix, digits longer than MaxExtensionDigits are
//     outside and read by Normalize (national, or international after the
//     country's international prefix); those of up to MaxExtensionDigits
//     digits are extensions, short codes such as "112" among them.
//
// An outside number that Normalize rejects (too short, a short code such as
// "112" after the prefix) is an error wrapping ErrInvalid, with ok false:
// the caller should answer the call with an error rather than look for an
// extension. Invalid rules are an error too.
func (r DialRules) Outside(dialled string) (e164 string, ok bool, err error) {
	if err = r.Validate(); err != nil {
		return "", false, err
	}
	if !isDialString(dialled) && !strings.HasPrefix(strings.TrimLeft(dialled, separators), "+") {
		return "", false, nil
	}
	d, err := clean(dialled)
	if err != nil {
		return "", false, fmt.Errorf("outside number: %w", err)
	}
	if d[0] != '+' {
		if r.OutsidePrefix != "" {
			rest, found := strings.CutPrefix(d, r.OutsidePrefix)
			if !found {
				return "", false, nil
			}
			d = rest
		} else if len(d) <= r.maxExtensionDigits() {
			return "", false, nil
		}
	}
	e, err := Normalize(d, r.Country)
	if err != nil {
		return "", false, fmt.Errorf("outside number %q: %w", dialled, err)
	}
	return e, true, nil
}

func (r DialRules) maxExtensionDigits() int {
	if r.MaxExtensionDigits == 0 {
		return DefaultMaxExtensionDigits
	}
	return r.MaxExtensionDigits
}

// isDialString reports whether s, parameters aside, is made of what
// Normalize accepts (digits, '+' and separators) with at least one digit.
func isDialString(s string) bool {
	s, _, _ = strings.Cut(s, ";")
	return strings.ContainsAny(s, "0123456789") && strings.Trim(s, "0123456789+"+separators) == ""
}

// ValidatePattern checks a dial-rule pattern: "*" (any number) or an E.164
// prefix, '+' and 1 to 15 digits, the first not 0 ("+351", "+1800"). Call it when rules are
// loaded: Matches and Best ignore invalid patterns.
func ValidatePattern(pattern string) error {
	if pattern == "*" || isE164(pattern) {
		return nil
	}
	return fmt.Errorf("e164: pattern %q: want \"*\" or an E.164 prefix such as \"+351\"", pattern)
}

// Matches reports whether e164 (as Normalize returns it) matches pattern
// (see ValidatePattern).
func Matches(pattern, e164 string) bool {
	if !isE164(e164) {
		return false
	}
	return pattern == "*" || isE164(pattern) && strings.HasPrefix(e164, pattern)
}

// Best returns the index of the pattern that matches e164 with the longest
// prefix; "*" matches with none, so any prefix beats it. Among equal
// patterns the first wins. ok is false when none matches.
func Best(patterns []string, e164 string) (index int, ok bool) {
	index, longest := -1, -1
	for i, p := range patterns {
		if !Matches(p, e164) {
			continue
		}
		n := len(p)
		if p == "*" {
			n = 0
		}
		if n > longest {
			index, longest = i, n
		}
	}
	return index, index >= 0
}
