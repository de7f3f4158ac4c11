package configs

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ringdesk/ringdesk/tickets"
)

// This file checks the helpdesk's sections: http, departments, tickets,
// webhooks, and the agents' web keys (web_password_hash, admin).

// Limits of the helpdesk's values.
const (
	maxDepartmentNameLen = 63
	maxOutcomes          = 50
	maxOutcomeLen        = 50 // characters
	maxCallbackWindow    = 24 * time.Hour
	minWebhookSecretLen  = 16 // characters
	bcryptLen            = 60
	minBcryptCost        = 4
	maxBcryptCost        = 31
)

// buildHelpdesk checks http, departments, tickets and webhooks. agents are
// every agent written (see buildAgents), so that a department or
// voicemail_assignee naming an agent with problems of its own is not blamed
// for them; country is the dialing country.
func (d *decoder) buildHelpdesk(c *rawConfig, info sipInfo, agents map[string]string, country string, cfg *Config) {
	d.buildHTTP(&c.http, info.listeners, &cfg.HTTP)
	t := tickets.DefaultSettings()
	t.Country = country
	t.Outcomes = DefaultOutcomes()
	d.buildDepartments(c, agents, cfg, &t)
	d.buildTickets(&c.tickets, agents, &t)
	d.buildWebhooks(c, &t)
	cfg.Tickets = t
}

// buildHTTP checks http.listen and http.session_ttl.
func (d *decoder) buildHTTP(h *rawHTTP, listeners []listener, out *HTTPConfig) {
	out.SessionTTL = DefaultSessionTTL
	if v := h.listen; v.set && v.v != "" {
		if addr, err := checkListenAddr(v.v); err != nil {
			d.errorf(v.at, "http.listen", "%v", err)
		} else if l, clash := tcpClash(addr, listeners); clash {
			d.errorf(v.at, "http.listen", "%q takes the TCP port of the SIP listener %s (line %d)", clip(v.v), l.l, l.at.line)
		} else {
			out.Listen = v.v
		}
	}
	if v := h.sessionTTL; v.set {
		if v.v < MinSessionTTL || v.v > MaxSessionTTL {
			d.errorf(v.at, "http.session_ttl", "must be between %s and %s, got %s", fmtDuration(MinSessionTTL), fmtDuration(MaxSessionTTL), fmtDuration(v.v))
		} else {
			out.SessionTTL = v.v
		}
	}
}

// listenAddr is a checked http.listen: ip is invalid for a host name, and
// unspecified for an empty host (every address).
type listenAddr struct {
	ip   netip.Addr
	port int
}

// checkListenAddr checks host:port for a TCP listener: host an IP address,
// a host name or empty (every address), port 0 to 65535 (0: any free port).
func checkListenAddr(s string) (listenAddr, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return listenAddr{}, fmt.Errorf("%q is not host:port, for example \"127.0.0.1:8080\"", clip(s))
	}
	n, err := strconv.Atoi(port)
	if err != nil || !isDigits(port) || n > maxPort {
		return listenAddr{}, fmt.Errorf("port %q in %q is not between 0 and %d", clip(port), clip(s), maxPort)
	}
	out := listenAddr{port: n}
	switch ip, err := netip.ParseAddr(host); {
	case host == "":
		out.ip = netip.IPv6Unspecified()
	case err == nil:
		out.ip = ip
	case !validHostname(host):
		return listenAddr{}, fmt.Errorf("%q in %q is not an IP address or host name", clip(host), clip(s))
	}
	return out, nil
}

// tcpClash returns the tcp or tls SIP listener that a.port on a.ip would
// collide with. Host names and port 0 collide with nothing.
func tcpClash(a listenAddr, listeners []listener) (listener, bool) {
	if !a.ip.IsValid() || a.port == 0 {
		return listener{}, false
	}
	for _, l := range listeners {
		if l.l.Network == "udp" || int(l.l.Addr.Port()) != a.port {
			continue
		}
		if overlap(a.ip, l.l.Addr.Addr()) {
			return l, true
		}
	}
	return listener{}, false
}

// overlap reports whether sockets bound to a and b on one port collide: the
// same address, or an unspecified one covering the other (:: covers IPv4
// too, as Go listens dual-stack).
func overlap(a, b netip.Addr) bool {
	a, b = a.Unmap(), b.Unmap()
	covers := func(x, y netip.Addr) bool { return x.IsUnspecified() && (x.Is6() || y.Is4()) }
	return a == b || covers(a, b) || covers(b, a)
}

// checkWebHash checks an agent's web_password_hash: the form of a bcrypt
// hash, never quoting it.
func (d *decoder) checkWebHash(a *rawAgent) bool {
	v := a.webHash
	if !v.set {
		return !v.present
	}
	path := a.path + ".web_password_hash"
	if v.v == "" {
		d.errorf(v.at, path, "must not be empty (remove the key: the agent then cannot log in to the web UI)")
		return false
	}
	if err := checkBcrypt(v.v); err != nil {
		d.errorf(v.at, path, "is not a bcrypt hash such as `ringdesk passwd` prints: %v", err)
		return false
	}
	return true
}

// checkBcrypt checks the modular crypt form of a bcrypt hash:
// $2a$CC$ (or $2b$, $2y$), a cost CC of 4 to 31, then 53 characters of
// bcrypt's base64 (22 of salt, 31 of hash). The error never quotes s.
func checkBcrypt(s string) error {
	prefix := s[:min(len(s), 4)]
	if prefix != "$2a$" && prefix != "$2b$" && prefix != "$2y$" {
		return fmt.Errorf("it does not start with $2a$, $2b$ or $2y$")
	}
	if len(s) != bcryptLen {
		return fmt.Errorf("it has %d characters, not %d", utf8.RuneCountInString(s), bcryptLen)
	}
	cost := s[4:6]
	if n, err := strconv.Atoi(cost); err != nil || !isDigits(cost) || s[6] != '$' || n < minBcryptCost || n > maxBcryptCost {
		return fmt.Errorf("its cost (after %s) is not two digits from %02d to %d followed by $", prefix, minBcryptCost, maxBcryptCost)
	}
	for _, r := range s[7:] {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '.' && r != '/' {
			return fmt.Errorf("it holds a character bcrypt does not use")
		}
	}
	return nil
}

// buildDepartments checks departments: a valid name, each once, and agents
// that exist, each once per department.
func (d *decoder) buildDepartments(c *rawConfig, agents map[string]string, cfg *Config, out *tickets.Settings) {
	names := make(map[string]pos)
	for i := range c.departments {
		g := &c.departments[i]
		ok := true
		switch v := g.name; {
		case !v.present:
			d.errorf(g.at, g.path, "name is required")
			ok = false
		case !v.set:
			ok = false
		case !validID(v.v) || len(v.v) > maxDepartmentNameLen:
			d.errorf(v.at, g.path+".name", "%q must be 1 to %d characters, a-z, 0-9, '.', '_' and '-', starting with a letter or digit", clip(v.v), maxDepartmentNameLen)
			ok = false
		default:
			if at, dup := names[v.v]; dup {
				d.errorf(v.at, g.path+".name", "%q is already the name of the department at line %d", v.v, at.line)
				ok = false
			} else {
				names[v.v] = v.at
			}
		}
		if g.agents.present && !g.agents.set {
			ok = false
		}
		ids, idsOK := d.references(g.agents.v, g.path+".agents", func(id string) bool { _, known := agents[id]; return known }, "no agent has the id %q")
		if !ok || !idsOK {
			continue
		}
		cfg.Departments = append(cfg.Departments, Department{Name: g.name.v, Agents: ids})
		if out.Departments == nil {
			out.Departments = make(map[string][]string)
		}
		out.Departments[g.name.v] = append([]string(nil), ids...)
	}
}

// buildTickets applies the tickets section to out, which holds the
// defaults.
func (d *decoder) buildTickets(t *rawTickets, agents map[string]string, out *tickets.Settings) {
	for _, b := range []struct {
		v   val[bool]
		dst *bool
	}{
		{t.sameTicket, &out.SameTicket},
		{t.missedCalls, &out.MissedCalls},
		{t.outboundNewTicket, &out.OutboundNew},
		{t.outboundNoTicket, &out.OutboundNone},
	} {
		if b.v.set {
			*b.dst = b.v.v
		}
	}
	if v := t.voicemailAssignee; v.set && v.v != "" {
		if _, ok := agents[v.v]; ok {
			out.VoicemailAssignee = v.v
		} else {
			d.errorf(v.at, "tickets.voicemail_assignee", "no agent has the id %q", clip(v.v))
		}
	}
	if v := t.language; v.set {
		if lang, ok := languageTag(v.v); ok {
			out.Language = lang
		} else {
			d.errorf(v.at, "tickets.language", "%q is not a language tag such as \"en\" or \"pt-BR\"", clip(v.v))
		}
	}
	if outcomes, ok := d.buildOutcomes(t.outcomes); ok && t.outcomes.set {
		out.Outcomes = outcomes
	}
	if v := t.callbackWindow; v.set {
		switch {
		case v.v < 0:
			d.errorf(v.at, "tickets.callback_window", "must not be negative, got %s (0 turns callbacks off)", fmtDuration(v.v))
		case v.v > maxCallbackWindow:
			d.errorf(v.at, "tickets.callback_window", "must be at most %s, got %s", fmtDuration(maxCallbackWindow), fmtDuration(v.v))
		default:
			out.CallbackWindow = v.v
		}
	}
	if v, ok := d.positive(t.shortCall, "tickets.short_call", time.Second); ok && t.shortCall.set {
		out.ShortCall = v
	}
}

// buildOutcomes checks tickets.outcomes: at most maxOutcomes, each a
// non-empty printable text of at most maxOutcomeLen characters without
// surrounding spaces (summaries are matched trimmed), and each once without
// regard to case. An empty list allows any text. It reports whether the
// list is free of problems.
func (d *decoder) buildOutcomes(v val[[]val[string]]) ([]string, bool) {
	if !v.set {
		return nil, !v.present
	}
	if len(v.v) > maxOutcomes {
		d.errorf(v.at, "tickets.outcomes", "has %d outcomes, at most %d are allowed", len(v.v), maxOutcomes)
		return nil, false
	}
	var out []string
	ok := true
	seen := make(map[string]pos)
	for i, e := range v.v {
		if !e.set {
			ok = false
			continue
		}
		path := fmt.Sprintf("tickets.outcomes[%d]", i)
		bad := ""
		switch {
		case strings.TrimSpace(e.v) == "":
			d.errorf(e.at, path, "must not be empty")
			ok = false
			continue
		case strings.TrimSpace(e.v) != e.v:
			bad = "starts or ends with a space"
		case !printable(e.v):
			bad = "contains a non-printable character"
		case utf8.RuneCountInString(e.v) > maxOutcomeLen:
			bad = fmt.Sprintf("is longer than %d characters", maxOutcomeLen)
		}
		if bad != "" {
			d.errorf(e.at, path, "%q %s", clip(e.v), bad)
			ok = false
			continue
		}
		key := strings.ToLower(e.v)
		if first, dup := seen[key]; dup {
			d.errorf(e.at, path, "%q is listed twice, not counting case (first at line %d)", e.v, first.line)
			ok = false
			continue
		}
		seen[key] = e.at
		out = append(out, e.v)
	}
	return out, ok
}

// languageTag checks a BCP 47 language tag of the simple kind: 2 or 3
// letters, optionally a region of 2 letters or 3 digits ("en", "pt-BR",
// "es-419"). It returns the tag in its usual case.
func languageTag(s string) (string, bool) {
	lang, region, hasRegion := strings.Cut(s, "-")
	if len(lang) < 2 || len(lang) > 3 || !isLetters(lang) {
		return "", false
	}
	lang = strings.ToLower(lang)
	if !hasRegion {
		return lang, true
	}
	switch {
	case len(region) == 2 && isLetters(region):
		return lang + "-" + strings.ToUpper(region), true
	case len(region) == 3 && isDigits(region):
		return lang + "-" + region, true
	}
	return "", false
}

// isLetters reports whether s is ASCII letters only.
func isLetters(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return s != ""
}

// buildWebhooks checks webhooks: an absolute http or https URL without
// userinfo, each once, and a secret of at least minWebhookSecretLen
// characters. Secrets are never quoted, nor URLs that may hold a password.
func (d *decoder) buildWebhooks(c *rawConfig, out *tickets.Settings) {
	urls := make(map[string]pos)
	for i := range c.webhooks {
		w := &c.webhooks[i]
		ok := true
		switch v := w.url; {
		case !v.present:
			d.errorf(w.at, w.path, "url is required: the http or https URL changes are POSTed to")
			ok = false
		case !v.set:
			ok = false
		default:
			if err := checkWebhookURL(v.v); err != nil {
				d.errorf(v.at, w.path+".url", "%v", err)
				ok = false
			} else if at, dup := urls[v.v]; dup {
				d.errorf(v.at, w.path+".url", "%q is already the URL of the webhook at line %d", clip(v.v), at.line)
				ok = false
			} else {
				urls[v.v] = v.at
			}
		}
		switch v := w.secret; {
		case !v.present:
			d.errorf(w.at, w.path, "secret is required: at least %d characters, which sign each request (HMAC-SHA256)", minWebhookSecretLen)
			ok = false
		case !v.set:
			ok = false
		case utf8.RuneCountInString(v.v) < minWebhookSecretLen:
			d.errorf(v.at, w.path+".secret", "must be at least %d characters, got %d", minWebhookSecretLen, utf8.RuneCountInString(v.v))
			ok = false
		case !printable(v.v):
			d.errorf(v.at, w.path+".secret", "contains a non-printable character")
			ok = false
		}
		if ok {
			out.Webhooks = append(out.Webhooks, tickets.Webhook{URL: w.url.v, Secret: w.secret.v})
		}
	}
}

// checkWebhookURL checks that s is an absolute http or https URL with a
// host and no userinfo. A URL with an @ is not quoted: it may hold a
// password.
func checkWebhookURL(s string) error {
	show := fmt.Sprintf("%q", clip(s))
	if strings.Contains(s, "@") {
		show = "the URL"
	}
	if s == "" {
		return fmt.Errorf("must not be empty")
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%s is not a URL", show)
	case u.Scheme == "":
		return fmt.Errorf("%s is relative; want an absolute http or https URL such as \"https://example.com/ringdesk\"", show)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%s is not an http or https URL", show)
	case u.User != nil:
		return fmt.Errorf("the URL must not hold a user name or password; the secret authenticates the requests")
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%s has no host", show)
	}
	return nil
}
