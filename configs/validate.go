package configs

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/tone"
	"github.com/ringdesk/ringdesk/sip"
)

// This file checks the decoded values and composes the package Configs.
// Every check reports at the offending value (or its key when the value is
// missing) and carries on.

// Limits of the values checked below.
const (
	minPort         = 1024
	maxPort         = 65535
	minRTPPorts     = 2
	minExtensionLen = 2
	maxExtensionLen = 15
	ha1Len          = 32 // hex digits of an MD5 digest
	ha1SHA256Len    = 64 // hex digits of a SHA-256 digest
	maxPEMSize      = 1 << 20
)

// listener is a parsed sip.listen entry and where it is.
type listener struct {
	l    sip.Listen
	at   pos
	path string
}

// sipInfo is what later checks need to know about the sip section.
type sipInfo struct {
	listeners []listener
	// offersMD5 and offersSHA256 tell which digest algorithms phones may use.
	// Without sip.digest_algorithms we count on MD5 only, the algorithm SIP
	// digest falls back to (RFC 3261 section 22.4) and the one the sip
	// package's default has always had; whether that default also has
	// SHA-256 is the sip package's business, so an agent that needs it must
	// see it listed. When the list has problems of its own, both are assumed.
	offersMD5, offersSHA256 bool
	// algorithmsListed is whether sip.digest_algorithms is in the file.
	algorithmsListed bool
}

// build checks c and composes the Config.
func (d *decoder) build(c *rawConfig, baseDir string) *Config {
	cfg := &Config{Source: d.file}
	info := d.buildSIP(c, baseDir, &cfg.SIP)
	d.buildMedia(c, info.listeners, &cfg.Media)
	cfg.DataDir = d.buildDataDir(c, baseDir)
	d.buildCalls(c, baseDir, cfg.DataDir, &cfg.Calls)
	agents := d.buildAgents(c, info, cfg)
	trunks := d.buildTrunks(c, baseDir, cfg)
	country := d.buildDialing(c, trunks, &cfg.Calls)
	if c.numbers.present {
		d.errorf(c.numbers.key, "numbers", "numbers are routed by the dialplan now: move them to dialplan.yaml "+
			"(a number that rings an extension is `\"+351...\": {action: extension 1001}`) and name it with dialplan: dialplan.yaml")
	}
	d.buildRoutes(c, trunks, &cfg.Calls)
	if v := c.calls.wrapUp; v.set {
		if v.v < 0 {
			d.errorf(v.at, "calls.wrap_up", "must not be negative, got %s", fmtDuration(v.v))
		} else {
			cfg.WrapUp = v.v
		}
	}
	d.buildDialplan(c, baseDir, country, agents, cfg)
	d.buildHelpdesk(c, info, agents, country, cfg)
	return cfg
}

func (d *decoder) buildSIP(c *rawConfig, baseDir string, out *sip.Config) sipInfo {
	s := &c.sip
	info := sipInfo{offersMD5: true, algorithmsListed: s.digestAlgorithms.present}
	listeners := d.buildListen(c)
	info.listeners = listeners
	for _, l := range listeners {
		out.Listen = append(out.Listen, l.l)
	}
	d.buildTLS(s, listeners, baseDir, out)

	if v := s.publicAddress; v.set {
		if err := checkHostPort(v.v); err != nil {
			d.errorf(v.at, "sip.public_address", "%v", err)
		} else {
			out.PublicAddress = v.v
		}
	}
	if v := s.realm; v.set {
		if v.v == "" {
			d.errorf(v.at, "sip.realm", "must not be empty (remove the key for the default %q)", sip.DefaultRealm)
		} else if err := checkRealm(v.v); err != nil {
			d.errorf(v.at, "sip.realm", "%v", err)
		} else {
			out.Realm = v.v
		}
	}
	if v := s.userAgent; v.set {
		switch {
		case v.v == "":
			d.errorf(v.at, "sip.user_agent", "must not be empty (remove the key for the default %q)", sip.DefaultUserAgent)
		case !printable(v.v):
			d.errorf(v.at, "sip.user_agent", "%q contains a non-printable character", clip(v.v))
		default:
			out.UserAgent = v.v
		}
	}
	algs, ok := d.buildAlgorithms(s)
	out.DigestAlgorithms = algs
	switch {
	case !ok:
		info.offersSHA256 = true // do not pile on
	case len(algs) > 0:
		info.offersMD5 = slices.Contains(algs, sip.AlgorithmMD5)
		info.offersSHA256 = slices.Contains(algs, sip.AlgorithmSHA256)
	}
	d.buildRegistration(&s.registration, out)
	if v, ok := d.positive(s.nonceTTL, "sip.nonce_ttl", time.Second); ok {
		out.NonceTTL = v
	}
	if s.trace.set {
		out.Trace = s.trace.v
	}
	return info
}

// checkRealm checks a digest realm: it goes between quotes in SIP headers.
func checkRealm(s string) error {
	switch {
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return fmt.Errorf("%q contains whitespace", clip(s))
	case strings.ContainsAny(s, `"'\`):
		return fmt.Errorf("%q contains a quote or backslash", clip(s))
	case !printable(s):
		return fmt.Errorf("%q contains a non-printable character", clip(s))
	}
	return nil
}

// buildListen parses sip.listen, which needs at least one entry, each once.
func (d *decoder) buildListen(c *rawConfig) []listener {
	s := &c.sip
	const hint = `at least one listener is required, for example "udp://127.0.0.1:5060"`
	switch {
	case !s.listen.present && s.present:
		d.errorf(s.key, "sip.listen", hint)
	case !s.listen.present:
		d.errorf(c.top, "sip.listen", hint)
	case s.listen.set && len(s.listen.v) == 0:
		d.errorf(s.listen.at, "sip.listen", hint)
	}
	var out []listener
	seen := make(map[string]listener)
	for i, e := range s.listen.v {
		if !e.set {
			continue
		}
		path := fmt.Sprintf("sip.listen[%d]", i)
		l, err := sip.ParseListen(e.v)
		if err != nil {
			d.errorf(e.at, path, "%v", err)
			continue
		}
		if first, dup := seen[l.String()]; dup {
			d.errorf(e.at, path, "%s is listed twice (first at line %d)", l, first.at.line)
			continue
		}
		this := listener{l: l, at: e.at, path: path}
		seen[l.String()] = this
		// tcp and tls cannot bind the same address and port.
		if l.Network != "udp" && l.Addr.Port() != 0 {
			other := "tcp"
			if l.Network == "tcp" {
				other = "tls"
			}
			twin := sip.Listen{Network: other, Addr: l.Addr}
			if first, clash := seen[twin.String()]; clash {
				d.errorf(e.at, path, "%s and %s (line %d) cannot share TCP port %d", l, twin, first.at.line, l.Addr.Port())
				continue
			}
		}
		out = append(out, this)
	}
	return out
}

// buildTLS checks sip.tls: cert and key come together, are needed by a tls
// listener, and must load as a pair.
func (d *decoder) buildTLS(s *rawSIP, listeners []listener, baseDir string, out *sip.Config) {
	t := &s.tls
	hasCert := t.cert.set && t.cert.v != ""
	hasKey := t.key.set && t.key.v != ""
	certGiven := t.cert.present && (!t.cert.set || t.cert.v != "")
	keyGiven := t.key.present && (!t.key.set || t.key.v != "")
	switch {
	case certGiven && !keyGiven:
		d.errorf(t.key.orKey(t.section), "sip.tls", "a cert needs a key")
	case keyGiven && !certGiven:
		d.errorf(t.cert.orKey(t.section), "sip.tls", "a key needs a cert")
	case !certGiven && !keyGiven:
		for _, l := range listeners {
			if l.l.Network == "tls" {
				d.errorf(l.at, l.path, "%s needs sip.tls.cert and sip.tls.key", l.l)
			}
		}
	}
	var certPEM, keyPEM []byte
	if hasCert {
		p, err := d.abs(baseDir, t.cert, "sip.tls.cert")
		if err == nil {
			if certPEM, err = readPEM(p); err != nil {
				d.errorf(t.cert.at, "sip.tls.cert", "cannot read certificate %q: %v", t.cert.v, err)
			}
			out.TLSCertFile = p
		}
	}
	if hasKey {
		p, err := d.abs(baseDir, t.key, "sip.tls.key")
		if err == nil {
			if keyPEM, err = readPEM(p); err != nil {
				d.errorf(t.key.at, "sip.tls.key", "cannot read private key %q: %v", t.key.v, err)
			}
			out.TLSKeyFile = p
		}
	}
	if certPEM != nil && keyPEM != nil {
		if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			d.errorf(t.cert.at, "sip.tls.cert", "cannot load certificate %q with key %q: %v", t.cert.v, t.key.v, err)
		}
	}
}

// orKey locates v, or the section when v is absent.
func (v val[T]) orKey(s section) pos {
	if v.present {
		return v.at
	}
	return s.key
}

// abs resolves the path in v against baseDir.
func (d *decoder) abs(baseDir string, v val[string], path string) (string, error) {
	p := v.v
	if !filepath.IsAbs(p) {
		p = filepath.Join(baseDir, p)
	}
	p, err := filepath.Abs(p)
	if err != nil {
		d.errorf(v.at, path, "cannot resolve %q: %v", v.v, err)
	}
	return p, err
}

// readPEM reads a certificate or key file (see readFile).
func readPEM(path string) ([]byte, error) { return readFile(path, maxPEMSize) }

// readFile reads a file the config names, refusing anything but a regular
// file of at most limit bytes (a path such as /dev/stdin must not hang the
// check, nor /dev/zero fill the memory). Errors leave out the path, which
// the caller quotes as written.
func readFile(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path) //nolint:gosec // the admin names the file on purpose
	if err != nil {
		return nil, pathless(err)
	}
	if st.IsDir() {
		return nil, errors.New("is a directory")
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(path) //nolint:gosec // the admin names the file on purpose
	if err != nil {
		return nil, pathless(err)
	}
	defer func() { _ = f.Close() }() // read-only: Close has nothing to report
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, pathless(err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// pathless strips the operation and path from a *fs.PathError.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkHostPort accepts an IP address, a host name, or either with a port.
func checkHostPort(s string) error {
	bad := fmt.Errorf("%q is not an IP address, host name or host:port", clip(s))
	if s == "" {
		return nil
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return checkAdvertised(ip)
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(s, ":") || !validHostname(s) {
			return bad
		}
		return nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > maxPort || !isDigits(port) {
		return fmt.Errorf("port %q in %q is not between 1 and %d", clip(port), clip(s), maxPort)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return checkAdvertised(ip)
	}
	if !validHostname(host) {
		return bad
	}
	return nil
}

// checkAdvertised rejects addresses that a peer cannot send to.
func checkAdvertised(ip netip.Addr) error {
	if ip.IsUnspecified() {
		return fmt.Errorf("%s cannot be advertised; give the address peers should use", ip)
	}
	return nil
}

// validHostname checks the letters-digits-hyphen syntax of RFC 1123.
func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	// A numeric last label is a mistyped IP address, not a top-level domain.
	if isDigits(h[strings.LastIndexByte(h, '.')+1:]) {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' {
				return false
			}
		}
	}
	return true
}

// buildAlgorithms checks sip.digest_algorithms; the names are matched
// without regard to case and returned as the sip package spells them. It
// reports whether the list is free of problems.
func (d *decoder) buildAlgorithms(s *rawSIP) ([]string, bool) {
	v := s.digestAlgorithms
	if !v.set {
		return nil, !v.present
	}
	if len(v.v) == 0 {
		d.errorf(v.at, "sip.digest_algorithms", "at least one of %s, %s is required", sip.AlgorithmMD5, sip.AlgorithmSHA256)
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
		path := fmt.Sprintf("sip.digest_algorithms[%d]", i)
		var name string
		switch {
		case strings.EqualFold(e.v, sip.AlgorithmMD5):
			name = sip.AlgorithmMD5
		case strings.EqualFold(e.v, sip.AlgorithmSHA256):
			name = sip.AlgorithmSHA256
		default:
			d.errorf(e.at, path, "%q is not %s or %s", clip(e.v), sip.AlgorithmMD5, sip.AlgorithmSHA256)
			ok = false
			continue
		}
		if first, dup := seen[name]; dup {
			d.errorf(e.at, path, "%s is listed twice (first at line %d)", name, first.line)
			ok = false
			continue
		}
		seen[name] = e.at
		out = append(out, name)
	}
	return out, ok
}

// buildRegistration checks that each interval is positive, in whole seconds
// (the Expires header counts seconds), and that min <= default <= max, counting
// the sip package's defaults for the ones left out.
func (d *decoder) buildRegistration(r *rawRegistration, out *sip.Config) {
	type interval struct {
		name string
		v    *val[time.Duration]
		def  time.Duration
		dst  *time.Duration
		eff  time.Duration
	}
	ivs := []*interval{
		{name: "min_expires", v: &r.minExpires, def: sip.DefaultMinExpires, dst: &out.MinExpires},
		{name: "max_expires", v: &r.maxExpires, def: sip.DefaultMaxExpires, dst: &out.MaxExpires},
		{name: "default_expires", v: &r.defaultExpires, def: sip.DefaultDefaultExpires, dst: &out.DefaultExpires},
	}
	ok := true
	for _, iv := range ivs {
		iv.eff = iv.def
		path := "sip.registration." + iv.name
		if iv.v.present && !iv.v.set {
			ok = false
			continue
		}
		v, good := d.positive(*iv.v, path, time.Second)
		if good && v%time.Second != 0 {
			d.errorf(iv.v.at, path, "%s is not a whole number of seconds", fmtDuration(v))
			good = false
		}
		if !good {
			ok = false
			continue
		}
		if iv.v.set {
			*iv.dst, iv.eff = v, v
		}
	}
	if !ok {
		return
	}
	lo, hi, def := ivs[0], ivs[1], ivs[2]
	show := func(iv *interval) string {
		if iv.v.set {
			return iv.name + " " + fmtDuration(iv.eff)
		}
		return fmt.Sprintf("%s %s (the default)", iv.name, fmtDuration(iv.eff))
	}
	// at prefers the first interval that is written in the file.
	at := func(ivs ...*interval) pos {
		for _, iv := range ivs {
			if iv.v.set {
				return iv.v.at
			}
		}
		return r.key
	}
	switch {
	case lo.eff > hi.eff:
		d.errorf(at(hi, lo), "sip.registration", "%s is below %s", show(hi), show(lo))
	case def.eff < lo.eff:
		d.errorf(at(def, lo), "sip.registration", "%s is below %s", show(def), show(lo))
	case def.eff > hi.eff:
		d.errorf(at(def, hi), "sip.registration", "%s is above %s", show(def), show(hi))
	}
}

// positive checks an optional duration: when given it must be at least
// atLeast. It reports the value and whether it is usable (true when absent).
func (d *decoder) positive(v val[time.Duration], path string, atLeast time.Duration) (time.Duration, bool) {
	if !v.set {
		return 0, !v.present
	}
	switch {
	case v.v <= 0:
		d.errorf(v.at, path, "must be positive, got %s (remove the key for the default)", fmtDuration(v.v))
		return 0, false
	case v.v < atLeast:
		d.errorf(v.at, path, "must be at least %s, got %s", fmtDuration(atLeast), fmtDuration(v.v))
		return 0, false
	}
	return v.v, true
}

// fmtDuration prints 1h rather than 1h0m0s.
func fmtDuration(v time.Duration) string {
	s := v.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func (d *decoder) buildMedia(c *rawConfig, listeners []listener, out *media.Config) {
	r := &c.rtp
	if v := r.address; v.set {
		if ip, err := netip.ParseAddr(v.v); err != nil {
			d.errorf(v.at, "rtp.address", "%q is not an IP address", clip(v.v))
		} else {
			out.Address = ip
		}
	}
	if v := r.publicAddress; v.set && v.v != "" {
		ip, err := netip.ParseAddr(v.v)
		if err != nil {
			d.errorf(v.at, "rtp.public_address", "%q is not an IP address", clip(v.v))
		} else if err := checkAdvertised(ip); err != nil {
			d.errorf(v.at, "rtp.public_address", "%v", err)
		} else {
			out.PublicAddress = ip
		}
	}
	if v := r.ports; v.set {
		if lo, hi, err := parsePorts(v.v); err != nil {
			d.errorf(v.at, "rtp.ports", "%v", err)
		} else {
			out.PortMin, out.PortMax = lo, hi
			d.checkPortClash(v, lo, hi, out.Address, listeners)
		}
	}
	if v := r.quarantine; v.set {
		if v.v < 0 {
			d.errorf(v.at, "rtp.quarantine", "must not be negative, got %s", fmtDuration(v.v))
		} else {
			out.Quarantine = v.v
		}
	}
}

// parsePorts parses "LOW-HIGH" and checks that the range holds enough RTP
// ports: an even port for RTP with the odd port above it for RTCP (RFC 3550
// section 11).
func parsePorts(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if !ok || !isDigits(a) || !isDigits(b) {
		return 0, 0, fmt.Errorf("want LOW-HIGH, for example 10000-20000, got %q", clip(s))
	}
	for _, p := range []string{a, b} {
		n, err := strconv.Atoi(p)
		if err != nil || n < minPort || n > maxPort {
			return 0, 0, fmt.Errorf("port %s is not between %d and %d", clip(p), minPort, maxPort)
		}
	}
	lo, _ = strconv.Atoi(a)
	hi, _ = strconv.Atoi(b)
	if lo > hi {
		return 0, 0, fmt.Errorf("low port %d is above high port %d", lo, hi)
	}
	if n := rtpPorts(lo, hi); n < minRTPPorts {
		holds := "no RTP port"
		if n == 1 {
			holds = "only 1 RTP port"
		}
		return 0, 0, fmt.Errorf("%d-%d holds %s, at least %d are needed: each call leg takes an even port for RTP and the odd port above it for RTCP", lo, hi, holds, minRTPPorts)
	}
	return lo, hi, nil
}

// rtpPorts counts the even ports in lo..hi whose odd neighbor is in range too.
func rtpPorts(lo, hi int) int {
	if lo%2 == 1 {
		lo++
	}
	if hi < lo+1 {
		return 0
	}
	return (hi-1-lo)/2 + 1
}

// checkPortClash reports a UDP SIP listener whose port lies in the RTP range
// on an overlapping address.
func (d *decoder) checkPortClash(v val[string], lo, hi int, rtpAddr netip.Addr, listeners []listener) {
	for _, l := range listeners {
		port := int(l.l.Addr.Port())
		if l.l.Network != "udp" || port < lo || port > hi {
			continue
		}
		a := l.l.Addr.Addr()
		if rtpAddr.IsValid() && !rtpAddr.IsUnspecified() && !a.IsUnspecified() && a != rtpAddr {
			continue
		}
		d.errorf(v.at, "rtp.ports", "%d-%d includes the SIP port of %s (line %d)", lo, hi, l.l, l.at.line)
	}
}

func (d *decoder) buildCalls(c *rawConfig, baseDir, dataDir string, out *calls.Config) {
	cc := &c.calls
	if v := cc.tones; v.set {
		if _, err := tone.Ringback(v.v); err != nil {
			d.errorf(v.at, "calls.tones", "%q is not a tone region (us, uk or eu)", v.v)
		} else {
			out.Tones = v.v
		}
	}
	if v := cc.inbandDTMF; v.set {
		switch v.v {
		case calls.InbandAuto, calls.InbandAlways, calls.InbandNever:
			out.InbandDTMF = v.v
		default:
			d.errorf(v.at, "calls.inband_dtmf", "%q is not auto, always or never", v.v)
		}
	}
	if v := cc.record; v.set {
		out.Record = v.v
	}
	d.buildHoldMusic(cc.holdMusic, baseDir, dataDir, out)
	if v, ok := d.positive(c.calls.ringTimeout, "calls.ring_timeout", time.Second); ok {
		out.RingTimeout = v
	}
	if v, ok := d.positive(c.calls.shutdownGrace, "calls.shutdown_grace", 0); ok {
		out.ShutdownGrace = v
	}
	if v, ok := d.positive(c.rtp.mediaTimeout, "rtp.media_timeout", time.Second); ok {
		out.MediaTimeout = v
	}
}

// buildHoldMusic loads calls.hold_music, a file or an http(s) URL (A41:
// fetched as the dialplan's audio is, cached in dataDir); left out,
// HoldMusic stays empty and the server plays the built-in music (see
// BuiltinHoldMusic).
func (d *decoder) buildHoldMusic(v val[string], baseDir, dataDir string, out *calls.Config) {
	if !v.set {
		return
	}
	if v.v == "" {
		d.errorf(v.at, "calls.hold_music", "must not be empty (remove the key for the built-in music)")
		return
	}
	if l := strings.ToLower(v.v); strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
		if u, err := url.Parse(v.v); err != nil || u.Host == "" || u.User != nil {
			d.errorf(v.at, "calls.hold_music", "not an http(s) URL of an audio file (a host, no user name or password)")
			return
		}
		cache := ""
		if dataDir != "" {
			cache = filepath.Join(dataDir, AudioCacheDir)
		}
		pcm, err := audioFetcher(cache)(v.v)
		if err != nil {
			d.errorf(v.at, "calls.hold_music", "cannot fetch audio from %q: %v", clip(v.v), err)
			return
		}
		out.HoldMusic = pcm
		return
	}
	p, err := d.abs(baseDir, v, "calls.hold_music")
	if err != nil {
		return
	}
	pcm, err := media.LoadAudio(p)
	if err != nil {
		d.errorf(v.at, "calls.hold_music", "%q: %v", v.v, pathless(err))
		return
	}
	out.HoldMusic = pcm
}

func (d *decoder) buildDataDir(c *rawConfig, baseDir string) string {
	v := c.dataDir
	if !v.present {
		v.v, v.set = DefaultDataDir, true
	}
	if !v.set {
		return ""
	}
	if v.v == "" {
		d.errorf(v.at, "data_dir", "must not be empty (remove the key for the default %q)", DefaultDataDir)
		return ""
	}
	p, err := d.abs(baseDir, v, "data_dir")
	if err != nil {
		return ""
	}
	return p
}

// buildAgents checks the agents and composes a sip.User, calls.Extension
// and Agent for each one without problems. It returns every agent written,
// id -> extension (the first agent of an id), those with problems too, so
// that the dialplan is checked against them without blaming it for their
// problems.
func (d *decoder) buildAgents(c *rawConfig, info sipInfo, cfg *Config) map[string]string {
	type first struct {
		at pos
		id string
	}
	ids := make(map[string]pos)
	exts := make(map[string]first)
	written := make(map[string]string)
	for i := range c.agents {
		a := &c.agents[i]
		if _, dup := written[a.id.v]; a.id.set && !dup {
			written[a.id.v] = a.extension.v
		}
		ok := true
		switch {
		case !a.id.present:
			d.errorf(a.at, a.path, "id is required")
			ok = false
		case !a.id.set:
			ok = false
		case !validID(a.id.v):
			d.errorf(a.id.at, a.path+".id", "%q must start with a lowercase letter or digit and hold only a-z, 0-9, '.', '_' and '-'", clip(a.id.v))
			ok = false
		default:
			if at, dup := ids[a.id.v]; dup {
				d.errorf(a.id.at, a.path+".id", "%q is already the id of the agent at line %d", a.id.v, at.line)
				ok = false
			} else {
				ids[a.id.v] = a.id.at
			}
		}
		switch {
		case !a.extension.present:
			d.errorf(a.at, a.path, "extension is required")
			ok = false
		case !a.extension.set:
			ok = false
		case !isDigits(a.extension.v) || len(a.extension.v) < minExtensionLen || len(a.extension.v) > maxExtensionLen:
			d.errorf(a.extension.at, a.path+".extension", "%q is not %d to %d digits", clip(a.extension.v), minExtensionLen, maxExtensionLen)
			ok = false
		default:
			if f, dup := exts[a.extension.v]; dup {
				d.errorf(a.extension.at, a.path+".extension", "%q is already the extension of agent %q (line %d)", a.extension.v, f.id, f.at.line)
				ok = false
			} else {
				exts[a.extension.v] = first{at: a.extension.at, id: a.id.v}
			}
		}
		if a.name.set && !printable(a.name.v) {
			d.errorf(a.name.at, a.path+".name", "%q contains a non-printable character", clip(a.name.v))
			ok = false
		}
		if !d.checkCredentials(a, info) {
			ok = false
		}
		if !d.checkWebHash(a) {
			ok = false
		}
		if !ok {
			continue
		}
		cfg.Agents = append(cfg.Agents, Agent{
			ID:              a.id.v,
			Name:            a.name.v,
			Extension:       a.extension.v,
			WebPasswordHash: a.webHash.v,
			Admin:           a.admin.v,
		})
		cfg.SIP.Users = append(cfg.SIP.Users, sip.User{
			Name:      a.extension.v,
			Password:  a.password.v,
			HA1:       strings.ToLower(a.ha1.v),
			HA1SHA256: strings.ToLower(a.ha1SHA256.v),
		})
		cfg.Calls.Extensions = append(cfg.Calls.Extensions, calls.Extension{
			Number:  a.extension.v,
			Name:    a.name.v,
			AgentID: a.id.v,
		})
	}
	return written
}

// checkCredentials checks that an agent has exactly one of sip_password and
// sip_ha1 (sip_ha1_sha256 may join sip_ha1 or stand alone), that the digests
// are hex of the right length, and that the configured digest algorithms
// leave the agent a way to authenticate. Secrets are never quoted.
func (d *decoder) checkCredentials(a *rawAgent, info sipInfo) bool {
	pw, h1, h2 := a.password.present, a.ha1.present, a.ha1SHA256.present
	switch {
	case pw && h1:
		d.errorf(a.ha1.key, a.path, "sip_password and sip_ha1 exclude each other; keep one")
		return false
	case pw && h2:
		d.errorf(a.ha1SHA256.key, a.path, "sip_password and sip_ha1_sha256 exclude each other; keep one")
		return false
	case !pw && !h1 && !h2:
		d.errorf(a.at, a.path, "a credential is required: sip_password, or sip_ha1 and/or sip_ha1_sha256")
		return false
	}
	ok := a.password.set || a.ha1.set || a.ha1SHA256.set
	if v := a.password; v.set {
		switch {
		case v.v == "":
			d.errorf(v.at, a.path+".sip_password", "must not be empty")
			ok = false
		case !printable(v.v):
			d.errorf(v.at, a.path+".sip_password", "contains a non-printable character")
			ok = false
		}
	}
	if v := a.ha1; v.set {
		if err := checkHex(v.v, ha1Len, "MD5 of extension:realm:password"); err != nil {
			d.errorf(v.at, a.path+".sip_ha1", "%v", err)
			ok = false
		}
	}
	if v := a.ha1SHA256; v.set {
		if err := checkHex(v.v, ha1SHA256Len, "SHA-256 of extension:realm:password"); err != nil {
			d.errorf(v.at, a.path+".sip_ha1_sha256", "%v", err)
			ok = false
		}
	}
	if !ok || pw {
		return ok
	}
	switch {
	case h1 && !h2 && !info.offersMD5:
		d.errorf(a.ha1.at, a.path+".sip_ha1", "this agent can only use MD5, which sip.digest_algorithms does not offer; add sip_ha1_sha256 or use sip_password")
		return false
	case h2 && !h1 && !info.offersSHA256 && info.algorithmsListed:
		d.errorf(a.ha1SHA256.at, a.path+".sip_ha1_sha256", "this agent can only use SHA-256, which sip.digest_algorithms does not offer; add sip_ha1 or use sip_password")
		return false
	case h2 && !h1 && !info.offersSHA256:
		d.errorf(a.ha1SHA256.at, a.path+".sip_ha1_sha256", "this agent can only use SHA-256; list it in sip.digest_algorithms, add sip_ha1, or use sip_password")
		return false
	}
	return true
}

// checkHex checks that s is the n hex digits of a hash, described by what
// ("MD5 of extension:realm:password"). The message never quotes s, which is
// a secret.
func checkHex(s string, n int, what string) error {
	want := fmt.Sprintf("want %d hex digits (%s)", n, what)
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return fmt.Errorf("%s, found a character that is not a hex digit", want)
		}
	}
	if len(s) != n {
		return fmt.Errorf("%s, got %d characters", want, len(s))
	}
	return nil
}

// validID matches ^[a-z0-9][a-z0-9._-]*$.
func validID(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// printable reports whether s holds only printable characters (spaces are).
func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
