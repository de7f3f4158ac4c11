package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock, either way, when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// signatureScheme is the only scheme so far: HMAC-SHA256, hex encoded.
const signatureScheme = "v1"

// Sign returns "v1=" followed by the lower-case hex HMAC-SHA256, keyed by
// secret, of the timestamp in decimal, a full stop, and body:
//
//	v1=hex(HMAC-SHA256(secret, "<timestamp>.<body>"))
//
// The Ringdesk-Signature header is "t=<timestamp>," followed by this value.
func Sign(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	var prefix [24]byte
	m.Write(append(strconv.AppendInt(prefix[:0], timestamp, 10), '.'))
	m.Write(body)
	var sum [sha256.Size]byte
	out := make([]byte, len(signatureScheme)+1+hex.EncodedLen(sha256.Size))
	n := copy(out, signatureScheme+"=")
	hex.Encode(out[n:], m.Sum(sum[:0]))
	return string(out)
}

// signatureHeader is the Ringdesk-Signature value for body sent at
// timestamp.
func signatureHeader(secret string, timestamp int64, body []byte) string {
	return "t=" + strconv.FormatInt(timestamp, 10) + "," + Sign(secret, timestamp, body)
}

// Verify checks a Ringdesk-Signature header against the raw request body,
// as a receiver should before it trusts a delivery: the header must carry
// "t=<unix seconds>" and at least one "v1=<hex>" (several are allowed, as
// while a secret is being rotated; unknown keys are ignored), one v1 value
// must equal Sign(secret, t, body) (compared in constant time), and t must
// be within tolerance of now, either way (DefaultTolerance when tolerance
// is zero or negative). Errors wrap ErrNoSecret, ErrMalformedSignature,
// ErrSignatureMismatch or ErrStaleTimestamp. Verify never panics, whatever
// the header holds.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return ErrNoSecret
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var (
		ts     int64
		haveTS bool
		sigs   []string
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			t, err := strconv.ParseInt(v, 10, 64)
			if err != nil || haveTS {
				return fmt.Errorf("%w: bad or repeated timestamp", ErrMalformedSignature)
			}
			ts, haveTS = t, true
		case signatureScheme:
			sigs = append(sigs, v)
		}
	}
	if !haveTS || len(sigs) == 0 {
		return fmt.Errorf("%w: want t=<unix seconds>,v1=<hex>", ErrMalformedSignature)
	}
	want := []byte(Sign(secret, ts, body)[len(signatureScheme)+1:])
	matched := false
	for _, sig := range sigs {
		if hmac.Equal(want, []byte(sig)) {
			matched = true
		}
	}
	if !matched {
		return ErrSignatureMismatch
	}
	if age := now.Sub(time.Unix(ts, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: signed at %d, %s from now (tolerance %s)", ErrStaleTimestamp, ts, age.Round(time.Second), tolerance)
	}
	return nil
}
