package sip

import (
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // MD5 is what RFC 3261 digest authentication uses
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// maxSeenNonces bounds the replay table; beyond it the oldest entries go first.
const maxSeenNonces = 100_000

// credentials holds what the authenticator knows of one user: the HA1 per
// algorithm (RFC 2617 §3.2.2.2, RFC 7616 §3.4.2).
type credentials struct {
	ha1 map[string]string // algorithm -> hex HA1
}

// authenticator issues digest challenges and verifies digest responses
// (RFC 3261 §22, RFC 7616, RFC 8760). Nonces are stateless (HMAC of a
// timestamp) so they survive no restart but need no storage; a small table of
// nonce counts rejects replays when qop=auth is used.
type authenticator struct {
	realm string
	algs  []string
	ttl   time.Duration
	key   [32]byte
	users map[string]credentials
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]seenNonce
}

type seenNonce struct {
	nc      int
	expires time.Time
}

func newAuthenticator(realm string, algs []string, ttl time.Duration, users []User, now func() time.Time) (*authenticator, error) {
	a := &authenticator{
		realm: realm,
		algs:  algs,
		ttl:   ttl,
		users: make(map[string]credentials, len(users)),
		now:   now,
		seen:  make(map[string]seenNonce),
	}
	if _, err := rand.Read(a.key[:]); err != nil {
		return nil, fmt.Errorf("nonce key: %w", err)
	}
	for _, u := range users {
		c := credentials{ha1: make(map[string]string, 2)}
		if u.HA1 != "" {
			c.ha1[AlgorithmMD5] = strings.ToLower(u.HA1)
		} else if u.Password != "" {
			c.ha1[AlgorithmMD5] = hashHex(md5.New(), u.Name, realm, u.Password) //nolint:gosec // digest MD5
		}
		if u.HA1SHA256 != "" {
			c.ha1[AlgorithmSHA256] = strings.ToLower(u.HA1SHA256)
		} else if u.Password != "" {
			c.ha1[AlgorithmSHA256] = hashHex(sha256.New(), u.Name, realm, u.Password)
		}
		a.users[u.Name] = c
	}
	return a, nil
}

// HA1 computes hex(H(user:realm:password)) for algorithm MD5 or SHA-256, the
// value admins may store as sip_ha1 instead of a password.
func HA1(algorithm, user, realm, password string) string {
	if algorithm == AlgorithmSHA256 {
		return hashHex(sha256.New(), user, realm, password)
	}
	return hashHex(md5.New(), user, realm, password) //nolint:gosec // digest MD5
}

func hashHex(h hash.Hash, parts ...string) string {
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// challenges returns one challenge header value per configured algorithm, in
// the configured order (RFC 8760 §2.4: most preferred first). For a known
// user, only the algorithms it has credentials for are offered, so a phone
// that prefers SHA-256 does not fail for a user stored with an MD5 HA1 only.
func (a *authenticator) challenges(stale bool, user string) []string {
	nonce := a.newNonce()
	algs := a.algs
	if u, ok := a.users[user]; ok {
		algs = make([]string, 0, len(a.algs))
		for _, alg := range a.algs {
			if _, has := u.ha1[alg]; has {
				algs = append(algs, alg)
			}
		}
		if len(algs) == 0 {
			algs = a.algs
		}
	}
	out := make([]string, 0, len(algs))
	for _, alg := range algs {
		c := digest.Challenge{
			Realm:     a.realm,
			Nonce:     nonce,
			Algorithm: alg,
			QOP:       []string{"auth"},
			Stale:     stale,
		}
		out = append(out, c.String())
	}
	return out
}

// newNonce returns hex(timestamp || random || HMAC(key, timestamp || random)[:16]).
func (a *authenticator) newNonce() string {
	var b [32]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.now().UnixNano()))
	_, _ = rand.Read(b[8:16])
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b[:16])
	copy(b[16:], m.Sum(nil))
	return hex.EncodeToString(b[:])
}

// nonceFresh reports whether nonce was issued by this process and is younger than the TTL.
func (a *authenticator) nonceFresh(nonce string) bool {
	if len(nonce) != 64 {
		return false
	}
	var b [32]byte
	if _, err := hex.Decode(b[:], []byte(nonce)); err != nil {
		return false
	}
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b[:16])
	if !hmac.Equal(m.Sum(nil)[:16], b[16:]) {
		return false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	age := a.now().Sub(issued)
	return age >= -time.Minute && age <= a.ttl
}

// verify checks an Authorization or Proxy-Authorization header value for a
// request with the given method and Request-URI and returns the
// authenticated user name. ErrStaleNonce means the user's response was right
// but the nonce is old or reused: the client may retry without asking its
// user (stale=true).
func (a *authenticator) verify(header, method string, requestURI *sip.Uri) (string, error) {
	cred, err := digest.ParseCredentials(header)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadCredentials, err)
	}
	if cred.Realm != a.realm {
		return cred.Username, fmt.Errorf("%w: realm %q", ErrOtherRealm, cred.Realm)
	}
	user, ok := a.users[cred.Username]
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownUser, cred.Username)
	}
	if err = checkDigestURI(cred.URI, requestURI); err != nil {
		return cred.Username, err
	}
	alg := strings.ToUpper(cred.Algorithm)
	if alg == "" {
		alg = AlgorithmMD5
	}
	if !a.offers(alg) {
		return cred.Username, fmt.Errorf("%w: algorithm %q not offered", ErrBadCredentials, cred.Algorithm)
	}
	ha1, ok := user.ha1[alg]
	if !ok {
		return cred.Username, fmt.Errorf("%w: no %s credentials for %q", ErrBadCredentials, alg, cred.Username)
	}
	// Every challenge offers qop=auth (RFC 7616 §3.3 makes it mandatory
	// for clients), and only its nonce count protects against replay.
	if cred.QOP != "auth" {
		return cred.Username, fmt.Errorf("%w: qop %q, want auth", ErrBadCredentials, cred.QOP)
	}
	if cred.Nc <= 0 || cred.Cnonce == "" {
		return cred.Username, fmt.Errorf("%w: qop=auth without nc or cnonce", ErrBadCredentials)
	}
	chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: alg, QOP: []string{cred.QOP}}
	want, err := digest.Digest(chal, digest.Options{
		Method:   method,
		URI:      cred.URI,
		Username: cred.Username,
		A1:       ha1,
		Cnonce:   cred.Cnonce,
		Count:    cred.Nc,
	})
	if err != nil {
		return cred.Username, fmt.Errorf("%w: %w", ErrBadCredentials, err)
	}
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(cred.Response)), []byte(want.Response)) != 1 {
		return cred.Username, ErrBadCredentials
	}
	if !a.nonceFresh(cred.Nonce) {
		return cred.Username, ErrStaleNonce
	}
	if !a.countNonce(cred.Nonce, cred.Nc) {
		return cred.Username, fmt.Errorf("%w: nonce count %d reused", ErrStaleNonce, cred.Nc)
	}
	return cred.Username, nil
}

// checkDigestURI binds credentials to their destination (RFC 2617
// §3.2.2.5): when the digest uri names a user, it must be the Request-URI's
// user. A uri without a user part (SIPp sends sip:HOST:PORT) names no
// destination and is accepted; the nonce count already stops replays.
func checkDigestURI(digestURI string, requestURI *sip.Uri) error {
	if requestURI == nil {
		return nil
	}
	var u sip.Uri
	if err := sip.ParseUri(digestURI, &u); err != nil {
		return fmt.Errorf("%w: uri %q: %w", ErrBadCredentials, digestURI, err)
	}
	if u.User != "" && u.User != requestURI.User {
		return fmt.Errorf("%w: uri %q, request to %q", ErrURIMismatch, digestURI, requestURI.User)
	}
	return nil
}

func (a *authenticator) offers(alg string) bool {
	for _, x := range a.algs {
		if x == alg {
			return true
		}
	}
	return false
}

// countNonce records nc for nonce and reports whether it is higher than any
// count seen before for it (RFC 7616 §3.4: nc protects against replay).
func (a *authenticator) countNonce(nonce string, nc int) bool {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.seen[nonce]; ok && nc <= s.nc {
		return false
	}
	if len(a.seen) >= maxSeenNonces {
		a.pruneLocked(now)
	}
	a.seen[nonce] = seenNonce{nc: nc, expires: now.Add(a.ttl)}
	return true
}

// pruneLocked drops expired entries, and if that is not enough, half of the rest.
func (a *authenticator) pruneLocked(now time.Time) {
	for k, s := range a.seen {
		if now.After(s.expires) {
			delete(a.seen, k)
		}
	}
	if len(a.seen) < maxSeenNonces {
		return
	}
	n := 0
	for k := range a.seen {
		delete(a.seen, k)
		n++
		if n >= maxSeenNonces/2 {
			return
		}
	}
}

// prune drops expired replay entries; the server calls it periodically.
func (a *authenticator) prune() {
	a.mu.Lock()
	a.pruneLocked(a.now())
	a.mu.Unlock()
}

// known reports whether user is an account that could authenticate.
func (a *authenticator) known(user string) bool {
	_, ok := a.users[user]
	return ok
}
