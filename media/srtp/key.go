package srtp

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
)

// MaxMKILen is the longest master key indicator RFC 4568 §6.1 allows, in
// bytes.
const MaxMKILen = 128

// redacted is how keys print.
const redacted = "[redacted]"

// Key is an SRTP master key followed by its master salt: the bytes of an
// SDES "inline:" key (RFC 4568 §6.1), 30 of them for the AES-128 suites.
//
// A Key formats as "[redacted]" with every fmt verb (%v, %s, %x, %q, %#v...),
// as a slog value and as text or JSON, so that it cannot reach a log line or an error message
// by accident. Convert it to []byte to get at the bytes.
type Key []byte

// String returns "[redacted]".
func (Key) String() string { return redacted }

// Format writes "[redacted]" whatever the verb (fmt.Formatter).
func (Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue returns "[redacted]" (slog.LogValuer).
func (Key) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[redacted]" (encoding.TextMarshaler), which JSON and
// YAML encoders use: slog's JSON handler prints a struct holding a Key that
// way.
func (Key) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// NewKey returns a fresh master key and salt for suite s, read from r, or
// from crypto/rand when r is nil.
func NewKey(s Suite, r io.Reader) (Key, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("new key: %w: %s", ErrSuite, s)
	}
	if r == nil {
		r = rand.Reader
	}
	k := make(Key, s.KeyLen())
	if _, err := io.ReadFull(r, k); err != nil {
		return nil, fmt.Errorf("new key: %w", err)
	}
	return k, nil
}

// Keys are what one RTP stream agreed on through SDES (RFC 4568): the suite
// and each direction's master key. Each side chooses the key that protects
// what it sends (RFC 4568 §6.1).
//
// Like Key, Keys format and log without their keys. The zero Keys, with
// SuiteUnknown, means "SRTP, not keyed yet": media.Session then drops
// everything it would send or receive.
type Keys struct {
	// Suite is the crypto suite of both directions.
	Suite Suite
	// Local is Ringdesk's master key and salt: it protects what Ringdesk
	// sends.
	Local Key
	// Remote is the peer's master key and salt: it authenticates and
	// decrypts what Ringdesk receives.
	Remote Key
	// RemoteMKI is the master key indicator the peer's packets carry
	// (RFC 3711 §3.1), nil when the peer uses none. It is not secret.
	RemoteMKI []byte
}

// Format writes the suite and "[redacted]" for the keys, whatever the verb.
func (k Keys) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "{%s keys %s}", k.Suite, redacted)
}

// LogValue logs the suite only (slog.LogValuer).
func (k Keys) LogValue() slog.Value {
	return slog.GroupValue(slog.String("suite", k.Suite.String()), slog.Int("remote_mki_len", len(k.RemoteMKI)))
}

// Validate reports whether k can key a Sender and a Receiver: a suite
// Ringdesk speaks, both keys of its KeyLen, an MKI of at most MaxMKILen
// bytes. Its errors match ErrSuite or ErrKey and give lengths, never bytes.
func (k *Keys) Validate() error {
	if k == nil {
		return fmt.Errorf("%w: no keys", ErrKey)
	}
	if !k.Suite.Valid() {
		return fmt.Errorf("%w: %s", ErrSuite, k.Suite)
	}
	if err := checkKey(k.Suite, k.Local); err != nil {
		return fmt.Errorf("local %w", err)
	}
	if err := checkKey(k.Suite, k.Remote); err != nil {
		return fmt.Errorf("remote %w", err)
	}
	if len(k.RemoteMKI) > MaxMKILen {
		return fmt.Errorf("%w: remote MKI is %d bytes, at most %d allowed", ErrKey, len(k.RemoteMKI), MaxMKILen)
	}
	return nil
}

// checkKey checks the length of one master key and salt.
func checkKey(s Suite, key Key) error {
	if len(key) != s.KeyLen() {
		return fmt.Errorf("key: %w: %d bytes, %s needs %d", ErrKey, len(key), s, s.KeyLen())
	}
	return nil
}

// Equal reports whether k and o are the same keys; two nil Keys are equal.
func (k *Keys) Equal(o *Keys) bool {
	if k == nil || o == nil {
		return k == o
	}
	return k.Suite == o.Suite &&
		len(k.Local) == len(o.Local) && subtle.ConstantTimeCompare(k.Local, o.Local) == 1 &&
		len(k.Remote) == len(o.Remote) && subtle.ConstantTimeCompare(k.Remote, o.Remote) == 1 &&
		bytes.Equal(k.RemoteMKI, o.RemoteMKI)
}

// Clone returns a deep copy of k; nil for nil.
func (k *Keys) Clone() *Keys {
	if k == nil {
		return nil
	}
	return &Keys{
		Suite:     k.Suite,
		Local:     bytes.Clone(k.Local),
		Remote:    bytes.Clone(k.Remote),
		RemoteMKI: bytes.Clone(k.RemoteMKI),
	}
}
