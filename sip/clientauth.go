package sip

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// ErrAuth: a provider's challenge could not be answered (no credentials
// for its realm, an algorithm Ringdesk does not know, or credentials it
// already refused).
var ErrAuth = errors.New("sip: authentication failed")

// clientAuth answers a provider's digest challenges (RFC 3261 §22.2) for
// one trunk. It is not safe for concurrent use: each request sequence
// (a registration, an INVITE) has its own.
type clientAuth struct {
	t Trunk
	// nc counts the uses of each nonce (qop=auth).
	nc map[string]int
	// tried remembers the realms whose challenge was answered: a realm
	// challenging again without stale=true refused the credentials (RFC
	// 2617 §3.2.1), whatever its new nonce.
	tried map[string]bool
}

func newClientAuth(t Trunk) *clientAuth {
	return &clientAuth{t: t.withDefaults(), nc: make(map[string]int), tried: make(map[string]bool)}
}

// authorize returns the Authorization (for 401) or Proxy-Authorization (for
// 407) header answering res, the challenge to req. A realm answered before
// that challenges again without stale=true is ErrAuth: the credentials are
// wrong and trying again would loop.
func (a *clientAuth) authorize(req *sip.Request, res *sip.Response) (sip.Header, error) {
	chName, authName := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		chName, authName = "Proxy-Authenticate", "Proxy-Authorization"
	}
	var chal *digest.Challenge
	var lastErr error
	for _, h := range res.GetHeaders(chName) {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil {
			lastErr = err
			continue
		}
		if !digest.CanDigest(c) || (a.t.HA1 != "" && !strings.EqualFold(defaultAlg(c.Algorithm), AlgorithmMD5)) {
			lastErr = fmt.Errorf("algorithm %q", c.Algorithm)
			continue
		}
		chal = c
		break
	}
	if chal == nil {
		if lastErr == nil {
			lastErr = fmt.Errorf("no %s header", chName)
		}
		return nil, fmt.Errorf("%w: %d challenge: %w", ErrAuth, res.StatusCode, lastErr)
	}
	if a.t.Realm != "" && chal.Realm != a.t.Realm {
		return nil, fmt.Errorf("%w: realm %q, configured %q", ErrAuth, chal.Realm, a.t.Realm)
	}
	if a.tried[chal.Realm] && !chal.Stale {
		return nil, fmt.Errorf("%w: %d again for realm %q: wrong credentials", ErrAuth, res.StatusCode, chal.Realm)
	}
	a.tried[chal.Realm] = true
	a.nc[chal.Nonce]++
	opts := digest.Options{
		Method:   req.Method.String(),
		URI:      req.Recipient.Addr(),
		Username: a.t.authUser(),
		Password: a.t.Password,
		Count:    a.nc[chal.Nonce],
		GetBody:  func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(req.Body())), nil },
	}
	if a.t.HA1 != "" {
		opts.A1 = strings.ToLower(a.t.HA1)
	}
	cred, err := digest.Digest(chal, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return sip.NewHeader(authName, cred.String()), nil
}

func defaultAlg(a string) string {
	if a == "" {
		return AlgorithmMD5
	}
	return a
}
