package sdp

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	pionsdp "github.com/pion/sdp/v3"

	"github.com/ringdesk/ringdesk/media/srtp"
)

// Limits of RFC 4568 §9.1 and of what Ringdesk reads.
const (
	maxCryptoTag   = 999_999_999 // tag = 1*9DIGIT
	maxCryptoAttrs = 32          // a=crypto lines read per m= line; later ones are ignored
	maxLifetime    = 1 << 48     // SRTP packets per master key (RFC 3711 §9.2)
	minWSH         = 64          // WSH, the window size hint (RFC 4568 §6.3.7)
	maxReasons     = 4           // refused a=crypto lines named in an error
)

// Crypto is one a=crypto attribute of an RTP/SAVP stream (RFC 4568 §9.1)
// that Ringdesk can use: a suite it speaks and one inline master key of the
// suite's length. It describes how the side that wrote the SDP protects what
// it sends.
//
// Ringdesk ignores the a=crypto lines it cannot honour: unknown suites (such
// as AES_256_CM_HMAC_SHA1_80, AEAD_AES_128_GCM, F8_128_HMAC_SHA1_80), key
// methods other than inline, more than one key (";"-separated key-params, for
// rekeying by MKI), keys of the wrong length or not in base64, lifetimes
// outside 1..2^48, MKIs longer than 128 bytes or whose value does not fit,
// and every session parameter but WSH, the window size hint (§6.3.7), which is
// advisory and ignored: KDR (Ringdesk derives keys once), UNENCRYPTED_SRTP,
// UNENCRYPTED_SRTCP, UNAUTHENTICATED_SRTP, FEC_ORDER, FEC_KEY and unknown
// ones (§6.3: an attribute with a session parameter not understood is not
// acceptable).
//
// Like srtp.Key, a Crypto prints without its key.
type Crypto struct {
	// Tag identifies the attribute within its m= line (0-999999999). An
	// answer repeats the tag of the offer's attribute it accepts.
	Tag uint32
	// Suite is the crypto suite.
	Suite srtp.Suite
	// Key is the master key and salt of the side that wrote the SDP.
	Key srtp.Key
	// Lifetime is how many packets that side protects with Key before it
	// rekeys (RFC 4568 §6.1), 0 when not stated (2^48). It is that side's
	// commitment; Ringdesk does not count packets against it.
	Lifetime uint64
	// MKI is the master key indicator that side's packets carry after their
	// payload (RFC 3711 §3.1), nil when it uses none. Ringdesk's own
	// attributes have none.
	MKI []byte
}

// clone returns a copy of c that shares no memory with it.
func (c Crypto) clone() Crypto {
	c.Key = bytes.Clone(c.Key)
	c.MKI = bytes.Clone(c.MKI)
	return c
}

// equal reports whether a and b are the same attribute.
func (c Crypto) equal(o Crypto) bool {
	return c.Tag == o.Tag && c.Suite == o.Suite && bytes.Equal(c.Key, o.Key) &&
		c.Lifetime == o.Lifetime && bytes.Equal(c.MKI, o.MKI)
}

// value returns the a=crypto attribute value for c:
// "TAG SUITE inline:KEY[|LIFETIME][|MKI:LENGTH]".
func (c Crypto) value() string {
	var b strings.Builder
	b.WriteString(strconv.FormatUint(uint64(c.Tag), 10))
	b.WriteByte(' ')
	b.WriteString(c.Suite.String())
	b.WriteString(" inline:")
	b.WriteString(base64.StdEncoding.EncodeToString(c.Key))
	if c.Lifetime > 0 {
		b.WriteByte('|')
		if bits.OnesCount64(c.Lifetime) == 1 {
			b.WriteString("2^" + strconv.Itoa(bits.TrailingZeros64(c.Lifetime)))
		} else {
			b.WriteString(strconv.FormatUint(c.Lifetime, 10))
		}
	}
	if len(c.MKI) > 0 {
		var v [8]byte
		copy(v[max(0, 8-len(c.MKI)):], c.MKI[max(0, len(c.MKI)-8):])
		b.WriteByte('|')
		b.WriteString(strconv.FormatUint(binary.BigEndian.Uint64(v[:]), 10))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(len(c.MKI)))
	}
	return b.String()
}

// cryptoError is why an a=crypto line is not usable. Its text never
// contains key material.
type cryptoError struct {
	tag    string // the line's tag as written, shortened; "" if it has none
	reason string
}

func (e *cryptoError) Error() string {
	if e.tag == "" {
		return e.reason
	}
	return "tag " + e.tag + ": " + e.reason
}

// Unwrap makes every cryptoError match ErrNoCrypto.
func (e *cryptoError) Unwrap() error { return ErrNoCrypto }

// parseCrypto parses the value of an a=crypto attribute (RFC 4568 §9.1):
//
//	tag 1*WSP crypto-suite 1*WSP key-params *(1*WSP session-param)
//
// with one "inline:" key-param, key-salt ["|" lifetime] ["|" MKI ":" length].
// It fails with a *cryptoError for whatever Ringdesk cannot honour (see
// Crypto).
func parseCrypto(v string) (Crypto, error) {
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(fields) < 3 {
		return Crypto{}, &cryptoError{reason: "not <tag> <crypto-suite> <key-params>"}
	}
	tagText := fields[0]
	fail := func(format string, args ...any) (Crypto, error) {
		return Crypto{}, &cryptoError{tag: tagText, reason: fmt.Sprintf(format, args...)}
	}
	if len(tagText) > 9 || !isDigits(tagText) {
		tagText = ""
		return fail("the tag is not 1 to 9 digits")
	}
	tag, _ := strconv.ParseUint(tagText, 10, 32) // at most 9 digits
	c := Crypto{Tag: uint32(tag)}                //nolint:gosec // at most 999999999
	if c.Suite = srtp.ParseSuite(fields[1]); c.Suite == srtp.SuiteUnknown {
		return fail("crypto suite %s is not supported", safeName(fields[1]))
	}
	for _, p := range fields[3:] {
		name, value, _ := strings.Cut(p, "=")
		if name != "WSH" || !isDigits(value) || len(value) > 9 {
			return fail("session parameter %s is not supported", safeName(name))
		}
		if n, _ := strconv.Atoi(value); n < minWSH {
			return fail("WSH below %d", minWSH)
		}
	}
	if strings.Contains(fields[2], ";") {
		return fail("more than one key")
	}
	method, info, ok := strings.Cut(fields[2], ":")
	switch {
	case !ok:
		return fail("key-params are not <method>:<info>")
	case !strings.EqualFold(method, "inline") && len(method) <= 16:
		return fail("key method %s is not supported", safeName(method))
	case !strings.EqualFold(method, "inline"):
		return fail("key method is not supported")
	}
	parts := strings.Split(info, "|")
	if len(parts) > 3 {
		return fail("key has more than a lifetime and an MKI")
	}
	key, err := base64.StdEncoding.DecodeString(parts[0])
	if err != nil {
		return fail("key is not base64")
	}
	if len(key) != c.Suite.KeyLen() {
		return fail("key is %d bytes, %s needs %d", len(key), c.Suite, c.Suite.KeyLen())
	}
	c.Key = key
	for i, p := range parts[1:] {
		if mkiValue, mkiLen, isMKI := strings.Cut(p, ":"); isMKI {
			if i != len(parts)-2 {
				return fail("the MKI is not last")
			}
			mki, reason := parseMKI(mkiValue, mkiLen)
			if reason != "" {
				return fail("%s", reason)
			}
			c.MKI = mki
			continue
		}
		if i != 0 {
			return fail("two lifetimes")
		}
		if c.Lifetime = parseLifetime(p); c.Lifetime == 0 {
			return fail("lifetime is not 1 to 2^48 packets")
		}
	}
	return c, nil
}

// parseLifetime parses a key lifetime, "2^N" or a decimal number of packets
// (RFC 4568 §6.1), 0 if it is malformed or not in 1..2^48.
func parseLifetime(s string) uint64 {
	if exp, ok := strings.CutPrefix(s, "2^"); ok {
		if !isDigits(exp) || len(exp) > 2 {
			return 0
		}
		n, _ := strconv.Atoi(exp)
		if n > 48 {
			return 0
		}
		return 1 << n
	}
	if !isDigits(s) || len(s) > 15 {
		return 0
	}
	n, _ := strconv.ParseUint(s, 10, 64)
	if n > maxLifetime {
		return 0
	}
	return n
}

// parseMKI parses "value:length" (RFC 4568 §6.1: the MKI value in decimal,
// its length in bytes, 1-128) into the bytes packets carry, big-endian. It
// returns why not when it cannot.
func parseMKI(value, length string) ([]byte, string) {
	if !isDigits(length) || len(length) > 3 {
		return nil, "MKI length is not 1 to 3 digits"
	}
	n, _ := strconv.Atoi(length)
	if n < 1 || n > srtp.MaxMKILen {
		return nil, fmt.Sprintf("MKI length %d is not 1 to %d", n, srtp.MaxMKILen)
	}
	if !isDigits(value) {
		return nil, "MKI value is not a number"
	}
	v, err := strconv.ParseUint(value, 10, 64)
	if err != nil || (n < 8 && v>>(8*n) != 0) {
		return nil, fmt.Sprintf("MKI value does not fit in %d bytes", n)
	}
	mki := make([]byte, n)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	copy(mki[max(0, n-8):], b[max(0, 8-n):])
	return mki, ""
}

// safeName returns s quoted for an error message when it looks like a
// name (a crypto suite, a key method, a session parameter): at most 32
// letters, digits, '_' and '-'. Anything else, which could be key material
// in the wrong place, is not repeated. A base64 key of 25 bytes or more is
// longer than 32 characters.
func safeName(s string) string {
	const maxLen = 32
	if s == "" || len(s) > maxLen {
		return "(not a name)"
	}
	for i := range len(s) {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return "(not a name)"
		}
	}
	return strconv.Quote(s)
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cryptoAttrs returns the values of the first maxCryptoAttrs a=crypto
// attributes of md.
func cryptoAttrs(md *pionsdp.MediaDescription) []string {
	var out []string
	for _, a := range md.Attributes {
		if strings.EqualFold(strings.Trim(a.Key, " \t"), "crypto") {
			out = append(out, a.Value)
			if len(out) == maxCryptoAttrs {
				break
			}
		}
	}
	return out
}

// parseCryptos returns the usable a=crypto attributes of md in their order,
// each tag once: a tag used twice makes both lines unusable.
func parseCryptos(md *pionsdp.MediaDescription) []Crypto {
	attrs := cryptoAttrs(md)
	var tags []string
	for _, v := range attrs {
		t := ""
		if f := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' }); len(f) > 0 {
			t = f[0]
			if n, err := strconv.ParseUint(t, 10, 32); err == nil {
				t = strconv.FormatUint(n, 10) // "01" is tag 1
			}
		}
		tags = append(tags, t)
	}
	var out []Crypto
	for i, v := range attrs {
		if countOf(tags, tags[i]) > 1 {
			continue
		}
		if c, err := parseCrypto(v); err == nil {
			out = append(out, c)
		}
	}
	return out
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// cryptoReasons explains why md has no usable a=crypto, for an error
// message: the reasons of its first few lines, without key material.
func cryptoReasons(md *pionsdp.MediaDescription) string {
	attrs := cryptoAttrs(md)
	if len(attrs) == 0 {
		return "no a=crypto attribute"
	}
	var reasons []string
	for i, v := range attrs {
		if i == maxReasons {
			reasons = append(reasons, fmt.Sprintf("%d more", len(attrs)-i))
			break
		}
		_, err := parseCrypto(v)
		var ce *cryptoError
		switch {
		case errors.As(err, &ce):
			reasons = append(reasons, ce.Error())
		case err == nil:
			reasons = append(reasons, "tag "+strings.Fields(v)[0]+": used twice") // parsed: it has a tag
		}
	}
	return strings.Join(reasons, "; ")
}

// isSRTP reports whether proto is an SRTP profile Ringdesk keys with SDES:
// RTP/SAVP (RFC 3711 §12) or RTP/SAVPF (RFC 5124).
func isSRTP(proto string) bool {
	return strings.EqualFold(proto, "RTP/SAVP") || strings.EqualFold(proto, "RTP/SAVPF")
}
