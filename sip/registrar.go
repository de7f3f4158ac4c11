package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// maxContactsPerAOR bounds the phones one extension may register.
const maxContactsPerAOR = 10

// registrar implements REGISTER (RFC 3261 §10.3) with digest authentication,
// keeping bindings in memory and writing every change through to a store.
type registrar struct {
	s     *Server
	store BindingStore

	mu    sync.Mutex // serialises read-modify-write of an AOR, store write included
	byAOR map[string][]Binding
}

func newRegistrar(s *Server, store BindingStore) *registrar {
	return &registrar{s: s, store: store, byAOR: make(map[string][]Binding)}
}

// load reads the stored bindings, dropping expired ones and unknown users.
func (r *registrar) load(ctx context.Context) error {
	bs, err := r.store.LoadBindings(ctx)
	if err != nil {
		return err
	}
	now := r.s.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range bs {
		if !b.Expires.After(now) {
			continue
		}
		if _, ok := r.s.auth.users[b.AOR]; !ok {
			continue
		}
		r.byAOR[b.AOR] = append(r.byAOR[b.AOR], b)
		n++
	}
	for _, list := range r.byAOR {
		sortBindings(list)
	}
	if n > 0 {
		r.s.log.Info("registrations restored", "bindings", n)
	}
	return nil
}

// lookup returns the unexpired bindings of aor, newest first.
func (r *registrar) lookup(aor string) []Binding {
	now := r.s.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Binding
	for _, b := range r.byAOR[aor] {
		if b.Expires.After(now) {
			out = append(out, b)
		}
	}
	return out
}

// sweep forgets expired bindings in memory and in the store.
func (r *registrar) sweep(ctx context.Context) {
	now := r.s.now()
	r.mu.Lock()
	for aor, list := range r.byAOR {
		kept := list[:0]
		for _, b := range list {
			if b.Expires.After(now) {
				kept = append(kept, b)
			} else {
				r.s.log.Info("registration expired", "aor", aor, "contact", b.Contact)
			}
		}
		if len(kept) == 0 {
			delete(r.byAOR, aor)
		} else {
			r.byAOR[aor] = kept
		}
	}
	r.mu.Unlock()
	if err := r.store.DeleteExpired(ctx, now); err != nil && ctx.Err() == nil {
		r.s.log.Error("registration store", "error", err)
	}
}

// regError is a REGISTER failure answered with code and reason.
type regError struct {
	code   int
	reason string
	hdrs   []sip.Header
}

// handle processes one REGISTER.
func (r *registrar) handle(req *sip.Request, tx sip.ServerTransaction) {
	s := r.s
	if unsupported := unsupportedRequire(req); unsupported != "" {
		s.respond(tx, req, 420, "Bad Extension", sip.NewHeader("Unsupported", unsupported))
		return
	}
	user, ok := s.authorize(req, tx, "Authorization", 401, req.To().Address.User)
	if !ok {
		return
	}
	aor := req.To().Address.User
	if aor != user {
		s.log.Warn("register for another user refused", "auth_user", user, "aor", aor, "source", req.Source())
		s.respond(tx, req, 403, "Forbidden")
		return
	}
	bindings, rerr := r.apply(req, aor)
	if rerr != nil {
		s.respond(tx, req, rerr.code, rerr.reason, rerr.hdrs...)
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	now := s.now()
	for _, b := range bindings {
		var u sip.Uri
		if err := sip.ParseUri(b.Contact, &u); err != nil {
			continue
		}
		secs := int(b.Expires.Sub(now).Round(time.Second) / time.Second)
		res.AppendHeader(&sip.ContactHeader{Address: u, Params: sip.HeaderParams{{K: "expires", V: strconv.Itoa(secs)}}})
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	s.decorate(res)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("register respond failed", "error", err)
	}
}

// apply updates the bindings of aor from a REGISTER (RFC 3261 §10.3 steps 6-8)
// and returns the bindings after the update.
func (r *registrar) apply(req *sip.Request, aor string) ([]Binding, *regError) {
	s := r.s
	cfg := s.cfg
	now := s.now()
	headerExpires := -1
	if h := req.GetHeader("Expires"); h != nil {
		v, err := parseExpires(h.Value())
		if err != nil {
			return nil, &regError{code: 400, reason: "Bad Request", hdrs: []sip.Header{sip.NewHeader("Warning", warning(cfg.UserAgent, "bad Expires"))}}
		}
		headerExpires = v
	}
	contacts := req.GetHeaders("Contact")
	callID := req.CallID().Value()
	cseq := req.CSeq().SeqNo

	r.mu.Lock()
	defer r.mu.Unlock()
	current := append([]Binding(nil), r.byAOR[aor]...)
	if len(contacts) == 0 {
		return r.live(current, now), nil // a query
	}

	type change struct {
		b       Binding
		expires int
	}
	var changes []change
	for _, h := range contacts {
		ch, ok := h.(*sip.ContactHeader)
		if !ok {
			ch = &sip.ContactHeader{}
			if _, err := sip.ParseAddressValue(h.Value(), &ch.Address, &ch.Params); err != nil {
				return nil, &regError{code: 400, reason: "Bad Request", hdrs: []sip.Header{sip.NewHeader("Warning", warning(cfg.UserAgent, "bad Contact"))}}
			}
		}
		if ch.Address.Wildcard {
			// "Contact: *" removes everything, only alone and with Expires: 0 (§10.3 step 6).
			if len(contacts) != 1 || headerExpires != 0 {
				return nil, &regError{code: 400, reason: "Bad Request", hdrs: []sip.Header{sip.NewHeader("Warning", warning(cfg.UserAgent, "Contact * needs Expires: 0 and no other contact"))}}
			}
			for _, b := range current {
				if b.CallID == callID && cseq <= b.CSeq {
					return nil, &regError{code: 500, reason: "Server Internal Error", hdrs: []sip.Header{sip.NewHeader("Warning", warning(cfg.UserAgent, "out of order REGISTER"))}}
				}
			}
			if err := s.reg.store.ReplaceBindings(context.Background(), aor, nil); err != nil {
				s.log.Error("registration store", "error", err)
				return nil, &regError{code: 500, reason: "Server Internal Error"}
			}
			delete(r.byAOR, aor)
			s.log.Info("unregistered", "aor", aor, "contacts", "*", "source", req.Source())
			return nil, nil
		}
		expires := headerExpires
		if v, ok := ch.Params.Get("expires"); ok {
			n, err := parseExpires(v)
			if err != nil {
				return nil, &regError{code: 400, reason: "Bad Request", hdrs: []sip.Header{sip.NewHeader("Warning", warning(cfg.UserAgent, "bad expires parameter"))}}
			}
			expires = n
		}
		if expires < 0 {
			expires = int(cfg.DefaultExpires / time.Second)
		}
		if expires > 0 && time.Duration(expires)*time.Second < cfg.MinExpires {
			return nil, &regError{code: 423, reason: "Interval Too Brief", hdrs: []sip.Header{
				sip.NewHeader("Min-Expires", strconv.Itoa(int(cfg.MinExpires/time.Second))),
			}}
		}
		if time.Duration(expires)*time.Second > cfg.MaxExpires {
			expires = int(cfg.MaxExpires / time.Second)
		}
		uri := *ch.Address.Clone()
		instance, _ := ch.Params.Get("+sip.instance")
		b := Binding{
			AOR:       aor,
			Contact:   uri.String(),
			Instance:  strings.Trim(instance, `"`),
			CallID:    callID,
			CSeq:      cseq,
			Expires:   now.Add(time.Duration(expires) * time.Second),
			Transport: strings.ToUpper(req.Transport()),
			Updated:   now,
		}
		if ua := req.GetHeader("User-Agent"); ua != nil {
			b.UserAgent = ua.Value()
		}
		src, err := netip.ParseAddrPort(req.Source())
		if err != nil {
			return nil, &regError{code: 400, reason: "Bad Request"}
		}
		b.Source = src
		changes = append(changes, change{b: b, expires: expires})
	}

	next := current
	for _, c := range changes {
		idx := -1
		for i, b := range next {
			if b.Contact == c.b.Contact || (c.b.Instance != "" && b.Instance == c.b.Instance) {
				idx = i
				break
			}
		}
		if idx >= 0 && next[idx].CallID == c.b.CallID && c.b.CSeq <= next[idx].CSeq {
			return nil, &regError{code: 500, reason: "Server Internal Error", hdrs: []sip.Header{sip.NewHeader("Warning", warning(cfg.UserAgent, "out of order REGISTER"))}}
		}
		switch {
		case c.expires == 0 && idx >= 0:
			next = append(next[:idx:idx], next[idx+1:]...)
			s.log.Info("unregistered", "aor", aor, "contact", c.b.Contact, "source", req.Source())
		case c.expires == 0:
			// Removing a binding that does not exist is a no-op.
		case idx >= 0:
			next[idx] = c.b
		default:
			next = append(next, c.b)
			s.log.Info("registered", "aor", aor, "contact", c.b.Contact, "source", c.b.Source.String(),
				"transport", c.b.Transport, "expires", c.expires, "user_agent", c.b.UserAgent)
		}
	}
	next = r.live(next, now)
	if len(next) > maxContactsPerAOR {
		return nil, &regError{code: 403, reason: "Forbidden", hdrs: []sip.Header{sip.NewHeader("Warning",
			warning(cfg.UserAgent, "too many registered contacts for "+aor))}}
	}
	sortBindings(next)
	if err := r.store.ReplaceBindings(context.Background(), aor, next); err != nil {
		s.log.Error("registration store", "error", err)
		return nil, &regError{code: 500, reason: "Server Internal Error"}
	}
	if len(next) == 0 {
		delete(r.byAOR, aor)
	} else {
		r.byAOR[aor] = next
	}
	return next, nil
}

// maxExpiresValue bounds parsed expiry values, far above any MaxExpires, so
// converting seconds to a time.Duration cannot overflow.
const maxExpiresValue = 1 << 31

// parseExpires reads a delta-seconds value (RFC 3261 §25.1); values beyond
// 2**31 are clamped, as §20.19 asks of overlong ones.
func parseExpires(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, errors.New("empty expires")
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("expires %q is not a number of seconds", v)
		}
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > maxExpiresValue {
		return maxExpiresValue, nil //nolint:nilerr // out of range means "very long"
	}
	return int(n), nil
}

// live returns the bindings of bs that have not expired at now.
func (r *registrar) live(bs []Binding, now time.Time) []Binding {
	out := make([]Binding, 0, len(bs))
	for _, b := range bs {
		if b.Expires.After(now) {
			out = append(out, b)
		}
	}
	return out
}

// authorize checks the digest credentials in the header named hdr
// ("Authorization" or "Proxy-Authorization") and answers the request itself
// when they are missing or wrong: challengeCode (401 or 407) with fresh
// challenges, stale=true when only the nonce was old, 403 when the response
// is wrong (a wrong password should not make the phone retry forever), 400
// when the credentials were made for another destination. user is who the
// request claims to be (the AOR of a REGISTER, the From of an INVITE): the
// challenge offers only the algorithms that user has credentials for.
func (s *Server) authorize(req *sip.Request, tx sip.ServerTransaction, hdr string, challengeCode int, user string) (string, bool) {
	chalHdr, reason := "WWW-Authenticate", "Unauthorized"
	if challengeCode == 407 {
		chalHdr, reason = "Proxy-Authenticate", "Proxy Authentication Required"
	}
	var lastErr error
	for _, h := range req.GetHeaders(hdr) {
		authUser, err := s.auth.verify(h.Value(), string(req.Method), &req.Recipient)
		switch {
		case err == nil:
			return authUser, true
		case errors.Is(err, ErrOtherRealm):
			continue // credentials for another hop (RFC 3261 §22.3)
		case errors.Is(err, ErrURIMismatch):
			if s.badLog.allow() {
				s.log.Warn("sip credentials for another destination", "method", req.Method, "user", authUser,
					"source", req.Source(), "error", err)
			}
			s.respond(tx, req, 400, "Bad Request", sip.NewHeader("Warning", warning(s.cfg.UserAgent, "digest uri does not match the Request-URI")))
			return "", false
		case errors.Is(err, ErrBadCredentials) || errors.Is(err, ErrUnknownUser):
			if s.badLog.allow() {
				s.log.Warn("sip authentication failed", "method", req.Method, "user", authUser,
					"source", req.Source(), "error", err)
			}
			s.respond(tx, req, 403, "Forbidden")
			return "", false
		}
		lastErr = err
	}
	stale := errors.Is(lastErr, ErrStaleNonce)
	res := sip.NewResponseFromRequest(req, challengeCode, reason, nil)
	for _, c := range s.auth.challenges(stale, user) {
		res.AppendHeader(sip.NewHeader(chalHdr, c))
	}
	s.decorate(res)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("challenge respond failed", "error", err)
	}
	return "", false
}

// unsupportedRequire returns the option tags of a Require header that Ringdesk
// does not support (RFC 3261 §8.2.2.3), comma separated.
func unsupportedRequire(req *sip.Request) string {
	var bad []string
	for _, h := range req.GetHeaders("Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			tag = strings.TrimSpace(tag)
			if tag != "" {
				bad = append(bad, tag)
			}
		}
	}
	return strings.Join(bad, ", ")
}
