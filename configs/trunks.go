package configs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
	"unicode"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/e164"
	"github.com/ringdesk/ringdesk/sip"
)

// This file checks trunks, numbers, dialing and routes, and composes
// sip.Config.Trunks and the trunk parts of calls.Config. Like the rest, it
// reports every problem at the offending value and carries on.

// Limits of the trunk values checked below.
const (
	maxTrunkNameLen   = 63
	minTrunkKeepalive = time.Second
)

// trunkInfo is what the numbers and routes checks need to know about the
// trunks.
type trunkInfo struct {
	// names holds every trunk name written, valid or not, so that a route
	// naming a broken trunk is not reported twice.
	names map[string]bool
	// country is the first trunk's country, upper case; empty when there is
	// no trunk or its country has a problem (already reported).
	country string
}

// buildTrunks checks the trunks and composes sip.Trunk and calls.Trunk for
// each one without problems.
func (d *decoder) buildTrunks(c *rawConfig, baseDir string, cfg *Config) trunkInfo {
	info := trunkInfo{names: make(map[string]bool)}
	first := make(map[string]pos) // valid name -> where
	for i := range c.trunks {
		t := &c.trunks[i]
		country, countryOK := d.trunkCountry(t)
		if i == 0 && countryOK {
			info.country = country
		}
		st, ct, ok := d.buildTrunk(t, baseDir, country, countryOK)
		if !d.trunkName(t, first, info.names) {
			ok = false
		}
		if ok && !hasListener(cfg.SIP.Listen, st.Transport) {
			// Via and Contact name Ringdesk's own socket of that transport,
			// where the provider sends its requests in the call.
			at := t.at
			if t.transport.present {
				at = t.transport.at
			}
			d.errorf(at, t.path+".transport",
				"a %s trunk needs a %s:// listener in sip.listen", st.Transport, st.Transport)
			ok = false
		}
		if !ok {
			continue
		}
		cfg.SIP.Trunks = append(cfg.SIP.Trunks, st)
		cfg.Calls.Trunks = append(cfg.Calls.Trunks, ct)
	}
	return info
}

// trunkName checks that a trunk has a valid name, unlike the trunks before
// it, and records it.
func (d *decoder) trunkName(t *rawTrunk, first map[string]pos, names map[string]bool) bool {
	v := t.name
	switch {
	case !v.present:
		d.errorf(t.at, t.path, "name is required")
		return false
	case !v.set:
		return false
	}
	names[v.v] = true
	if !validID(v.v) || len(v.v) > maxTrunkNameLen {
		d.errorf(v.at, t.path+".name", "%q must be 1 to %d characters, a-z, 0-9, '.', '_' and '-', starting with a letter or digit", clip(v.v), maxTrunkNameLen)
		return false
	}
	if at, dup := first[v.v]; dup {
		d.errorf(v.at, t.path+".name", "%q is already the name of the trunk at line %d", v.v, at.line)
		return false
	}
	first[v.v] = v.at
	return true
}

// trunkCountry checks a trunk's country, which is required, and returns it
// in upper case.
func (d *decoder) trunkCountry(t *rawTrunk) (string, bool) {
	if !t.country.present {
		d.errorf(t.at, t.path, "country is required: the ISO 3166-1 alpha-2 code of the provider's numbers, such as \"PT\"")
		return "", false
	}
	return d.country(t.country, t.path+".country")
}

// country checks an ISO 3166-1 alpha-2 country code and returns it in upper
// case.
func (d *decoder) country(v val[string], path string) (string, bool) {
	if !v.set {
		return "", false
	}
	if err := (e164.DialRules{Country: v.v}).Validate(); errors.Is(err, e164.ErrCountry) {
		d.errorf(v.at, path, "%q is not an ISO 3166-1 alpha-2 country code such as \"PT\"", clip(v.v))
		return "", false
	}
	return strings.ToUpper(v.v), true
}

// buildTrunk checks everything of a trunk but its name and country, and
// composes it. It reports whether the trunk is free of problems.
func (d *decoder) buildTrunk(t *rawTrunk, baseDir, country string, countryOK bool) (sip.Trunk, calls.Trunk, bool) {
	st := sip.Trunk{Name: t.name.v}
	ct := calls.Trunk{Name: t.name.v, Country: country}
	ok := countryOK
	bad := func(p pos, key, format string, args ...any) {
		d.errorf(p, t.path+"."+key, format, args...)
		ok = false
	}
	switch v := t.host; {
	case !v.present:
		d.errorf(t.at, t.path, "host is required: the provider's host name or IP address")
		ok = false
	case v.set:
		if h, err := checkTrunkHost(v.v); err != nil {
			bad(v.at, "host", "%v", err)
		} else {
			st.Host = h
		}
	}
	if v := t.port; v.set {
		if v.v < 1 || v.v > maxPort {
			bad(v.at, "port", "%d is not between 1 and %d", v.v, maxPort)
		} else {
			st.Port = v.v
		}
	}
	transport := "udp"
	if v := t.transport; v.set {
		switch tr := strings.ToLower(v.v); tr {
		case "udp", "tcp", "tls":
			st.Transport, transport = tr, tr
		default:
			bad(v.at, "transport", "%q is not udp, tcp or tls", clip(v.v))
			transport = ""
		}
	}

	// Account and credentials.
	for _, u := range []struct {
		key string
		v   val[string]
		dst *string
	}{
		{"username", t.username, &st.Username},
		{"auth_username", t.authUsername, &st.AuthUsername},
		{"register_user", t.registerUser, &st.RegisterUser},
	} {
		if !u.v.set {
			continue
		}
		if err := checkSIPUser(u.v.v); err != nil {
			bad(u.v.at, u.key, "%v", err)
		} else {
			*u.dst = u.v.v
		}
	}
	hasUser := given(t.username) || given(t.authUsername)
	hasPassword, hasHA1 := given(t.password), given(t.ha1)
	if hasPassword {
		if !printable(t.password.v) {
			bad(t.password.at, "password", "contains a non-printable character")
		} else {
			st.Password = t.password.v
		}
	}
	if v := t.realm; given(v) {
		if err := checkRealm(v.v); err != nil {
			bad(v.at, "realm", "%v", err)
		} else {
			st.Realm = v.v
		}
	}
	if hasHA1 {
		switch err := checkHex(t.ha1.v, ha1Len, "MD5 of username:realm:password"); {
		case err != nil:
			bad(t.ha1.at, "ha1", "%v", err)
		case hasPassword:
			d.errorf(t.ha1.key, t.path, "password and ha1 exclude each other; keep one")
			ok = false
		case !given(t.realm):
			bad(t.ha1.at, "ha1", "needs realm, the realm it was made with")
		default:
			st.HA1 = strings.ToLower(t.ha1.v)
		}
	}
	switch {
	case hasUser:
	case hasPassword:
		bad(t.password.at, "password", "needs username or auth_username, the user name to authenticate as")
	case hasHA1:
		bad(t.ha1.at, "ha1", "needs username or auth_username, the user name to authenticate as")
	}

	// Registration.
	if v := t.register; v.set && v.v {
		if !given(t.username) && !given(t.registerUser) {
			bad(v.at, "register", "needs username or register_user, the user to register")
		} else {
			st.Register = true
		}
	}
	if v, good := d.positive(t.expiry, t.path+".expiry", sip.MinTrunkExpiry); !good {
		ok = false
	} else if v%time.Second != 0 {
		bad(t.expiry.at, "expiry", "%s is not a whole number of seconds", fmtDuration(v))
	} else {
		st.Expiry = v
	}

	if nets, good := d.trunkNetworks(t); good {
		st.Networks = nets
	} else {
		ok = false
	}
	if v := t.keepalive; v.set {
		switch {
		case v.v < 0:
			bad(v.at, "keepalive", "must not be negative, got %s", fmtDuration(v.v))
		case v.v > 0 && v.v < minTrunkKeepalive:
			bad(v.at, "keepalive", "must be 0 (off) or at least %s, got %s", fmtDuration(minTrunkKeepalive), fmtDuration(v.v))
		default:
			st.Keepalive = v.v
		}
	}
	if v := t.caFile; given(v) {
		if p, good := d.trunkCAFile(t, baseDir, transport); good {
			st.CAFile = p
		} else {
			ok = false
		}
	}

	// How numbers are written towards the provider.
	if v := t.numberFormat; v.set {
		style, err := e164.ParseStyle(v.v)
		switch {
		case err != nil:
			bad(v.at, "number_format", "%q is not e164, e164_no_plus, national or international", clip(v.v))
		case countryOK && style.Validate(country) != nil:
			bad(v.at, "number_format", "%s needs the international prefix of %s, which has none a caller can dial without choosing a carrier; use e164 or e164_no_plus", style, country)
		default:
			ct.NumberFormat = style.String()
		}
	}
	if v := t.techPrefix; v.set {
		if strings.Trim(v.v, "0123456789*#") != "" {
			bad(v.at, "tech_prefix", "%q may hold only digits, '*' and '#'", clip(v.v))
		} else {
			ct.TechPrefix = v.v
		}
	}
	hasCallerID := given(t.callerID)
	if v := t.callerID; hasCallerID && countryOK {
		if n, err := e164.Normalize(v.v, country); err != nil {
			bad(v.at, "caller_id", "%v (read in %s)", err, country)
		} else {
			ct.CallerID = n
		}
	}
	if v := t.callerName; given(v) {
		switch {
		case !printable(v.v):
			bad(v.at, "caller_name", "%q contains a non-printable character", clip(v.v))
		case strings.ContainsAny(v.v, `"\`):
			bad(v.at, "caller_name", "%q contains a quote or backslash", clip(v.v))
		default:
			ct.CallerName = v.v
		}
	}
	if v := t.assertIdentity; v.set && v.v {
		if !hasCallerID {
			bad(v.at, "assert_identity", "needs caller_id, the number to assert")
		} else {
			ct.AssertIdentity = true
		}
	}
	if v := t.srtp; v.set {
		ct.SRTP = v.v
	}
	if v := t.maxCalls; v.set {
		if v.v < 0 {
			bad(v.at, "max_calls", "must not be negative, got %d (0 is no limit)", v.v)
		} else {
			ct.MaxCalls = v.v
		}
	}
	return st, ct, ok
}

// given reports whether v is in the file and not empty: many trunk keys
// take "" for unset.
func given(v val[string]) bool {
	return v.set && v.v != ""
}

// checkTrunkHost accepts a host name or an IP address (an IPv6 address with
// or without brackets) and returns it without brackets.
func checkTrunkHost(s string) (string, error) {
	if s == "" {
		return "", errors.New("must not be empty")
	}
	h := s
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		switch {
		case ip.Zone() != "":
			return "", fmt.Errorf("%q has a zone, which a SIP URI cannot carry", clip(s))
		case ip.IsUnspecified():
			return "", fmt.Errorf("%s is not an address a provider can have", ip)
		}
		return h, nil
	}
	if _, port, err := net.SplitHostPort(s); err == nil {
		return "", fmt.Errorf("%q has a port; write %s under port", clip(s), clip(port))
	}
	if !validHostname(s) {
		return "", fmt.Errorf("%q is not a host name or IP address", clip(s))
	}
	return s, nil
}

// checkSIPUser checks a user name of a provider account: it goes in SIP
// URIs and in the quoted digest username.
func checkSIPUser(s string) error {
	for _, r := range s {
		switch {
		case !unicode.IsPrint(r):
			return fmt.Errorf("%q contains a non-printable character", clip(s))
		case unicode.IsSpace(r) || strings.ContainsRune(`"\<>@:`, r):
			return fmt.Errorf("%q cannot be a SIP user name: it contains %q", clip(s), r)
		}
	}
	return nil
}

// trunkNetworks parses a trunk's networks: CIDR prefixes, or single
// addresses. It reports whether they are free of problems.
func (d *decoder) trunkNetworks(t *rawTrunk) ([]netip.Prefix, bool) {
	var out []netip.Prefix
	ok := true
	seen := make(map[netip.Prefix]pos)
	for i, e := range t.networks.v {
		if !e.set {
			ok = false
			continue
		}
		path := fmt.Sprintf("%s.networks[%d]", t.path, i)
		p, err := parseNetwork(e.v)
		if err != nil {
			d.errorf(e.at, path, "%v", err)
			ok = false
			continue
		}
		if first, dup := seen[p]; dup {
			d.errorf(e.at, path, "%s is listed twice (first at line %d)", p, first.line)
			ok = false
			continue
		}
		seen[p] = e.at
		out = append(out, p)
	}
	return out, ok
}

// parseNetwork parses "203.0.113.0/24", or "203.0.113.7" as a network of
// one address.
func parseNetwork(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		ip, aerr := netip.ParseAddr(s)
		if aerr != nil || ip.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not a network such as 203.0.113.0/24, nor an IP address", clip(s))
		}
		p = netip.PrefixFrom(ip, ip.BitLen())
	}
	switch {
	case p.Addr().Is4In6():
		return netip.Prefix{}, fmt.Errorf("%q is an IPv4-mapped IPv6 network; write it in IPv4", clip(s))
	case p != p.Masked():
		return netip.Prefix{}, fmt.Errorf("%q has bits set after the prefix length; did you mean %s", clip(s), p.Masked())
	}
	return p, nil
}

// trunkCAFile checks a trunk's ca_file: only a tls trunk uses one, and it
// must hold at least one PEM certificate. It returns the absolute path.
func (d *decoder) trunkCAFile(t *rawTrunk, baseDir, transport string) (string, bool) {
	v, path := t.caFile, t.path+".ca_file"
	switch transport {
	case "":
		return "", false // a bad transport is reported already
	case "tls":
	default:
		d.errorf(v.at, path, "only a tls trunk uses a CA bundle; set transport: tls or remove ca_file")
		return "", false
	}
	p, err := d.abs(baseDir, v, path)
	if err != nil {
		return "", false
	}
	data, err := readPEM(p)
	if err != nil {
		d.errorf(v.at, path, "cannot read CA bundle %q: %v", v.v, err)
		return "", false
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		d.errorf(v.at, path, "%q holds no PEM certificate", v.v)
		return "", false
	}
	return p, true
}

// buildDialing checks dialing and returns the country numbers are read in:
// dialing.country, or the first trunk's; empty when that country has a
// problem, which is reported.
func (d *decoder) buildDialing(c *rawConfig, trunks trunkInfo, out *calls.Config) string {
	g := &c.dialing
	if v := g.outsidePrefix; v.set {
		if v.v != "" && !isDigits(v.v) {
			d.errorf(v.at, "dialing.outside_prefix", "%q may hold only digits", clip(v.v))
		} else {
			out.Dialing.OutsidePrefix = v.v
		}
	}
	if !g.country.present {
		return trunks.country
	}
	country, ok := d.country(g.country, "dialing.country")
	if !ok {
		return ""
	}
	out.Dialing.Country = country
	return country
}

// buildRoutes checks routes: a valid prefix, each once, and trunks that
// exist.
func (d *decoder) buildRoutes(c *rawConfig, trunks trunkInfo, out *calls.Config) {
	prefixes := make(map[string]pos)
	for i := range c.routes {
		r := &c.routes[i]
		route := calls.Route{Prefix: r.prefix.v}
		ok := true
		switch v := r.prefix; {
		case !v.present:
			d.errorf(r.at, r.path, "prefix is required: an E.164 prefix such as \"+351\", or \"*\" for any number")
			ok = false
		case !v.set:
			ok = false
		case e164.ValidatePattern(v.v) != nil:
			d.errorf(v.at, r.path+".prefix", "%q is not \"*\" or an E.164 prefix such as \"+351\"", clip(v.v))
			ok = false
		default:
			if at, dup := prefixes[v.v]; dup {
				d.errorf(v.at, r.path+".prefix", "%q already has a route, at line %d", v.v, at.line)
				ok = false
			} else {
				prefixes[v.v] = v.at
			}
		}
		switch v := r.trunks; {
		case !v.present:
			d.errorf(r.at, r.path, "trunks is required: the trunks to try, in order")
			ok = false
		case !v.set:
			ok = false
		case len(v.v) == 0:
			d.errorf(v.at, r.path+".trunks", "at least one trunk is required")
			ok = false
		}
		names, namesOK := d.references(r.trunks.v, r.path+".trunks", func(n string) bool { return trunks.names[n] }, "no trunk is named %q")
		route.Trunks = names
		if ok && namesOK {
			out.Routes = append(out.Routes, route)
		}
	}
}

// references checks a list of names that refer to things the file defines
// (a route's trunks, a department's agents): each must be known (else
// unknown, a format with one %q, is reported) and listed once. It returns
// the names in order and whether all were good.
func (d *decoder) references(list []val[string], path string, known func(string) bool, unknown string) ([]string, bool) {
	ok := true
	var names []string
	seen := make(map[string]pos)
	for j, e := range list {
		at := fmt.Sprintf("%s[%d]", path, j)
		switch {
		case !e.set:
			ok = false
			continue
		case !known(e.v):
			d.errorf(e.at, at, unknown, clip(e.v))
			ok = false
			continue
		}
		if first, dup := seen[e.v]; dup {
			d.errorf(e.at, at, "%q is listed twice (first at line %d)", e.v, first.line)
			ok = false
			continue
		}
		seen[e.v] = e.at
		names = append(names, e.v)
	}
	return names, ok
}

// hasListener reports whether listeners include one of transport ("" is udp).
func hasListener(listeners []sip.Listen, transport string) bool {
	if transport == "" {
		transport = "udp"
	}
	for _, l := range listeners {
		if l.Network == transport {
			return true
		}
	}
	return false
}
