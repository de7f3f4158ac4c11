package configs

import (
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/ringdesk/ringdesk/internal/yamlpos"
)

// This file turns the YAML AST into the raw* structs below, keeping the
// position of every key and value. goccy/go-yaml's Unmarshal stops at the
// first problem; walking the AST ourselves lets one run report them all.

// pos is a 1-based line and column (in characters) in the config file.
type pos struct{ line, col int }

// val is one decoded value and where it came from.
type val[T any] struct {
	v       T
	present bool // the key appears in the file
	set     bool // ... and its value decoded into v
	key     pos  // where the key is
	at      pos  // where the value is; key when there is no value
}

// section is a mapping-valued key such as sip or sip.tls.
type section struct {
	present bool
	key     pos
}

type rawConfig struct {
	top      pos // where the top-level mapping starts
	sip      rawSIP
	rtp      rawRTP
	calls    rawCalls
	dataDir  val[string]
	agents   []rawAgent
	trunks   []rawTrunk
	dialing  rawDialing
	routes   []rawRoute
	dialplan val[string]
	// numbers: the key of old configs; numbers are in the dialplan now
	numbers     section
	http        rawHTTP
	departments []rawDepartment
	tickets     rawTickets
	webhooks    []rawWebhook
}

type rawSIP struct {
	section
	listen           val[[]val[string]]
	publicAddress    val[string]
	realm            val[string]
	tls              rawTLS
	userAgent        val[string]
	digestAlgorithms val[[]val[string]]
	registration     rawRegistration
	nonceTTL         val[time.Duration]
	trace            val[bool]
}

type rawTLS struct {
	section
	cert val[string]
	key  val[string]
}

type rawRegistration struct {
	section
	minExpires     val[time.Duration]
	maxExpires     val[time.Duration]
	defaultExpires val[time.Duration]
}

type rawRTP struct {
	section
	address       val[string]
	publicAddress val[string]
	ports         val[string]
	quarantine    val[time.Duration]
	mediaTimeout  val[time.Duration]
}

type rawCalls struct {
	section
	ringTimeout   val[time.Duration]
	shutdownGrace val[time.Duration]
	holdMusic     val[string]
	tones         val[string]
	inbandDTMF    val[string]
	record        val[bool]
	wrapUp        val[time.Duration]
}

type rawAgent struct {
	path      string // agents[i]
	at        pos    // where the agent's entry starts
	id        val[string]
	name      val[string]
	extension val[string]
	password  val[string]
	ha1       val[string]
	ha1SHA256 val[string]
	webHash   val[string] // web_password_hash
	admin     val[bool]
}

type rawTrunk struct {
	path           string // trunks[i]
	at             pos    // where the trunk's entry starts
	name           val[string]
	host           val[string]
	port           val[int]
	transport      val[string]
	username       val[string]
	authUsername   val[string]
	password       val[string]
	ha1            val[string]
	realm          val[string]
	register       val[bool]
	registerUser   val[string]
	expiry         val[time.Duration]
	networks       val[[]val[string]]
	keepalive      val[time.Duration]
	caFile         val[string]
	country        val[string]
	numberFormat   val[string]
	techPrefix     val[string]
	callerID       val[string]
	callerName     val[string]
	assertIdentity val[bool]
	srtp           val[bool]
	maxCalls       val[int]
}

type rawDialing struct {
	section
	country       val[string]
	outsidePrefix val[string]
}

type rawRoute struct {
	path   string // routes[i]
	at     pos    // where the route's entry starts
	prefix val[string]
	trunks val[[]val[string]]
}

type rawHTTP struct {
	section
	listen     val[string]
	sessionTTL val[time.Duration]
}

type rawDepartment struct {
	path   string // departments[i]
	at     pos    // where the department's entry starts
	name   val[string]
	agents val[[]val[string]]
}

type rawTickets struct {
	section
	sameTicket        val[bool]
	missedCalls       val[bool]
	voicemailAssignee val[string]
	language          val[string]
	outcomes          val[[]val[string]]
	outboundNewTicket val[bool]
	outboundNoTicket  val[bool]
	callbackWindow    val[time.Duration]
	shortCall         val[time.Duration]
}

type rawWebhook struct {
	path   string // webhooks[i]
	at     pos    // where the webhook's entry starts
	url    val[string]
	secret val[string]
}

// decodeFunc decodes the value of one key; path is the key's full path,
// for example "sip.realm".
type decodeFunc = yamlpos.DecodeFunc

// field is one known key of a mapping.
type field = yamlpos.Field

// decoder collects problems while it walks. The walking itself is
// yamlpos's; decoder adapts it to the raw* structs and files each problem
// under the config sections it concerns.
type decoder struct {
	file   string
	sample bool // the embedded sample: its dialplan and sounds are embedded too
	errs   []problem
	yp     *yamlpos.Decoder // made on first use; reports through report
}

// problem is an Error plus the config sections it makes suspect, so that the
// package Validate checks can be matched against our own (see parse).
type problem struct {
	Error
	sections []string
}

// Sections a problem can belong to. Agents and trunks feed both sip and
// calls; numbers, dialing and routes only calls.
const (
	sectionAll   = "*"
	sectionSIP   = "sip"
	sectionMedia = "rtp"
	sectionCalls = "calls"
)

// sectionsOf returns the package Config sections that a problem at path makes
// suspect.
func sectionsOf(path string) []string {
	head := path
	if i := strings.IndexAny(head, ".["); i >= 0 {
		head = head[:i]
	}
	switch {
	case head == "":
		return []string{sectionAll}
	case path == "rtp.media_timeout":
		return []string{sectionCalls}
	case head == "agents", head == "trunks":
		return []string{sectionSIP, sectionCalls}
	case head == "numbers", head == "dialing", head == "routes", head == "dialplan":
		return []string{sectionCalls}
	}
	return []string{head}
}

// y returns the yamlpos decoder that walks for d.
func (d *decoder) y() *yamlpos.Decoder {
	if d.yp == nil {
		d.yp = &yamlpos.Decoder{File: d.file, Report: d.report}
	}
	return d.yp
}

// report records a problem found while walking.
func (d *decoder) report(e Error, path string) {
	d.errs = append(d.errs, problem{Error: e, sections: sectionsOf(path)})
}

// errorf records a problem at p; a non-empty path prefixes the message.
func (d *decoder) errorf(p pos, path, format string, args ...any) {
	d.y().Errorf(p.yaml(), path, format, args...)
}

// yaml converts p for yamlpos.
func (p pos) yaml() yamlpos.Pos { return yamlpos.Pos{Line: p.line, Col: p.col} }

// posOf converts a yamlpos position.
func posOf(p yamlpos.Pos) pos { return pos{p.Line, p.Col} }

// parseYAML parses data into an AST, turning a syntax error into a problem.
func (d *decoder) parseYAML(data []byte) *ast.File {
	return d.y().Parse(data)
}

// decodeFile maps the single document of f onto a rawConfig.
func (d *decoder) decodeFile(f *ast.File) *rawConfig {
	body, ok := d.y().Document(f, "the file is empty; at least sip.listen is required")
	if !ok {
		return nil
	}
	c := &rawConfig{top: posOf(yamlpos.NodePos(body))}
	if _, ok := body.(*ast.MappingNode); !ok {
		d.errorf(c.top, "", "want a mapping of sections (sip, rtp, calls, data_dir, agents, trunks, dialing, routes, dialplan, http, departments, tickets, webhooks), got %s", yamlpos.Describe(body))
		return nil
	}
	top := withoutNumbers(body.(*ast.MappingNode), &c.numbers)
	if len(top.Values) == 0 {
		return c // only numbers, which build reports
	}
	d.y().Mapping(top, "", []field{
		{Name: "sip", Decode: d.section(&c.sip.section, c.sip.fields(d))},
		{Name: "rtp", Decode: d.section(&c.rtp.section, c.rtp.fields(d))},
		{Name: "calls", Decode: d.section(&c.calls.section, c.calls.fields(d))},
		{Name: "data_dir", Decode: d.text(&c.dataDir)},
		{Name: "agents", Decode: d.agents(&c.agents)},
		{Name: "trunks", Decode: d.trunks(&c.trunks)},
		{Name: "dialing", Decode: d.section(&c.dialing.section, c.dialing.fields(d))},
		{Name: "routes", Decode: d.routes(&c.routes)},
		{Name: "dialplan", Decode: d.text(&c.dialplan)},
		{Name: "http", Decode: d.section(&c.http.section, c.http.fields(d))},
		{Name: "departments", Decode: d.departments(&c.departments)},
		{Name: "tickets", Decode: d.section(&c.tickets.section, c.tickets.fields(d))},
		{Name: "webhooks", Decode: d.webhooks(&c.webhooks)},
	})
	return c
}

// withoutNumbers returns the top-level mapping m without the numbers key
// of old configs, recording where it is in numbers: build says where
// numbers went, and the known keys listed for an unknown key leave it out.
func withoutNumbers(m *ast.MappingNode, numbers *section) *ast.MappingNode {
	out := *m
	out.Values = make([]*ast.MappingValueNode, 0, len(m.Values))
	for _, kv := range m.Values {
		if kv != nil {
			if name, ok := yamlpos.KeyText(kv.Key); ok && name == "numbers" {
				if !numbers.present {
					*numbers = section{present: true, key: posOf(yamlpos.NodePos(kv.Key))}
				}
				continue
			}
		}
		out.Values = append(out.Values, kv)
	}
	return &out
}

func (s *rawSIP) fields(d *decoder) []field {
	return []field{
		{Name: "listen", Decode: d.textList(&s.listen)},
		{Name: "public_address", Decode: d.text(&s.publicAddress)},
		{Name: "realm", Decode: d.text(&s.realm)},
		{Name: "tls", Decode: d.section(&s.tls.section, []field{
			{Name: "cert", Decode: d.text(&s.tls.cert)},
			{Name: "key", Decode: d.text(&s.tls.key)},
		})},
		{Name: "user_agent", Decode: d.text(&s.userAgent)},
		{Name: "digest_algorithms", Decode: d.textList(&s.digestAlgorithms)},
		{Name: "registration", Decode: d.section(&s.registration.section, []field{
			{Name: "min_expires", Decode: d.duration(&s.registration.minExpires)},
			{Name: "max_expires", Decode: d.duration(&s.registration.maxExpires)},
			{Name: "default_expires", Decode: d.duration(&s.registration.defaultExpires)},
		})},
		{Name: "nonce_ttl", Decode: d.duration(&s.nonceTTL)},
		{Name: "trace", Decode: d.boolean(&s.trace)},
	}
}

func (r *rawRTP) fields(d *decoder) []field {
	return []field{
		{Name: "address", Decode: d.text(&r.address)},
		{Name: "public_address", Decode: d.text(&r.publicAddress)},
		{Name: "ports", Decode: d.text(&r.ports)},
		{Name: "quarantine", Decode: d.duration(&r.quarantine)},
		{Name: "media_timeout", Decode: d.duration(&r.mediaTimeout)},
	}
}

func (c *rawCalls) fields(d *decoder) []field {
	return []field{
		{Name: "ring_timeout", Decode: d.duration(&c.ringTimeout)},
		{Name: "shutdown_grace", Decode: d.duration(&c.shutdownGrace)},
		{Name: "hold_music", Decode: d.text(&c.holdMusic)},
		{Name: "tones", Decode: d.text(&c.tones)},
		{Name: "inband_dtmf", Decode: d.text(&c.inbandDTMF)},
		{Name: "record", Decode: d.boolean(&c.record)},
		{Name: "wrap_up", Decode: d.duration(&c.wrapUp)},
	}
}

func (a *rawAgent) fields(d *decoder) []field {
	return []field{
		{Name: "id", Decode: d.text(&a.id)},
		{Name: "name", Decode: d.text(&a.name)},
		{Name: "extension", Decode: d.text(&a.extension)},
		{Name: "sip_password", Decode: d.text(&a.password)},
		{Name: "sip_ha1", Decode: d.text(&a.ha1)},
		{Name: "sip_ha1_sha256", Decode: d.text(&a.ha1SHA256)},
		{Name: "web_password_hash", Decode: d.text(&a.webHash)},
		{Name: "admin", Decode: d.boolean(&a.admin)},
	}
}

func (t *rawTrunk) fields(d *decoder) []field {
	return []field{
		{Name: "name", Decode: d.text(&t.name)},
		{Name: "host", Decode: d.text(&t.host)},
		{Name: "port", Decode: d.integer(&t.port)},
		{Name: "transport", Decode: d.text(&t.transport)},
		{Name: "username", Decode: d.text(&t.username)},
		{Name: "auth_username", Decode: d.text(&t.authUsername)},
		{Name: "password", Decode: d.text(&t.password)},
		{Name: "ha1", Decode: d.text(&t.ha1)},
		{Name: "realm", Decode: d.text(&t.realm)},
		{Name: "register", Decode: d.boolean(&t.register)},
		{Name: "register_user", Decode: d.text(&t.registerUser)},
		{Name: "expiry", Decode: d.duration(&t.expiry)},
		{Name: "networks", Decode: d.textList(&t.networks)},
		{Name: "keepalive", Decode: d.duration(&t.keepalive)},
		{Name: "ca_file", Decode: d.text(&t.caFile)},
		{Name: "country", Decode: d.text(&t.country)},
		{Name: "number_format", Decode: d.text(&t.numberFormat)},
		{Name: "tech_prefix", Decode: d.text(&t.techPrefix)},
		{Name: "caller_id", Decode: d.text(&t.callerID)},
		{Name: "caller_name", Decode: d.text(&t.callerName)},
		{Name: "assert_identity", Decode: d.boolean(&t.assertIdentity)},
		{Name: "max_calls", Decode: d.integer(&t.maxCalls)},
		{Name: "srtp", Decode: d.boolean(&t.srtp)},
	}
}

func (g *rawDialing) fields(d *decoder) []field {
	return []field{
		{Name: "country", Decode: d.text(&g.country)},
		{Name: "outside_prefix", Decode: d.text(&g.outsidePrefix)},
	}
}

func (r *rawRoute) fields(d *decoder) []field {
	return []field{
		{Name: "prefix", Decode: d.text(&r.prefix)},
		{Name: "trunks", Decode: d.textList(&r.trunks)},
	}
}

func (h *rawHTTP) fields(d *decoder) []field {
	return []field{
		{Name: "listen", Decode: d.text(&h.listen)},
		{Name: "session_ttl", Decode: d.duration(&h.sessionTTL)},
	}
}

func (g *rawDepartment) fields(d *decoder) []field {
	return []field{
		{Name: "name", Decode: d.text(&g.name)},
		{Name: "agents", Decode: d.textList(&g.agents)},
	}
}

func (t *rawTickets) fields(d *decoder) []field {
	return []field{
		{Name: "same_ticket", Decode: d.boolean(&t.sameTicket)},
		{Name: "missed_calls", Decode: d.boolean(&t.missedCalls)},
		{Name: "voicemail_assignee", Decode: d.text(&t.voicemailAssignee)},
		{Name: "language", Decode: d.text(&t.language)},
		{Name: "outcomes", Decode: d.textList(&t.outcomes)},
		{Name: "outbound_new_ticket", Decode: d.boolean(&t.outboundNewTicket)},
		{Name: "outbound_no_ticket", Decode: d.boolean(&t.outboundNoTicket)},
		{Name: "callback_window", Decode: d.duration(&t.callbackWindow)},
		{Name: "short_call", Decode: d.duration(&t.shortCall)},
	}
}

func (w *rawWebhook) fields(d *decoder) []field {
	return []field{
		{Name: "url", Decode: d.text(&w.url)},
		{Name: "secret", Decode: d.text(&w.secret)},
	}
}

// section decodes a nested mapping such as sip or sip.tls.
func (d *decoder) section(s *section, fields []field) decodeFunc {
	var ys yamlpos.Section
	decode := d.y().Section(&ys, fields)
	return func(path string, key, value ast.Node) {
		decode(path, key, value)
		s.present, s.key = ys.Present, posOf(ys.Key)
	}
}

// from copies a value decoded by yamlpos into v.
func (v *val[T]) from(y yamlpos.Val[T]) {
	*v = val[T]{v: y.V, present: y.Present, set: y.Set, key: posOf(y.Key), at: posOf(y.At)}
}

// adapt turns a yamlpos decoder of a yamlpos.Val into one of dst.
func adapt[T any](dst *val[T], decoder func(*yamlpos.Val[T]) decodeFunc) decodeFunc {
	var y yamlpos.Val[T]
	decode := decoder(&y)
	return func(path string, key, value ast.Node) {
		decode(path, key, value)
		dst.from(y)
	}
}

// text decodes a scalar as a string. Plain scalars that YAML would read as
// numbers or booleans (extension: 1001, sip_password: 12345) are taken as
// written.
func (d *decoder) text(dst *val[string]) decodeFunc { return adapt(dst, d.y().Text) }

// duration decodes a Go duration string or an integer number of seconds.
func (d *decoder) duration(dst *val[time.Duration]) decodeFunc { return adapt(dst, d.y().Duration) }

// integer decodes a whole number, written plainly or quoted.
func (d *decoder) integer(dst *val[int]) decodeFunc { return adapt(dst, d.y().Integer) }

// boolean decodes true or false.
func (d *decoder) boolean(dst *val[bool]) decodeFunc { return adapt(dst, d.y().Boolean) }

// textList decodes a list of scalars; null is an empty list.
func (d *decoder) textList(dst *val[[]val[string]]) decodeFunc {
	var y yamlpos.Val[[]yamlpos.Val[string]]
	decode := d.y().TextList(&y)
	return func(path string, key, value ast.Node) {
		decode(path, key, value)
		*dst = val[[]val[string]]{present: y.Present, set: y.Set, key: posOf(y.Key), at: posOf(y.At)}
		for _, item := range y.V {
			var v val[string]
			v.from(item)
			dst.v = append(dst.v, v)
		}
	}
}

// agents decodes the agents list; null is an empty list.
func (d *decoder) agents(dst *[]rawAgent) decodeFunc {
	return func(path string, key, value ast.Node) {
		d.y().List(path, value, "agents", "an agent (id, name, extension, sip_password)", func(p string, at yamlpos.Pos, e ast.Node) {
			a := rawAgent{path: p, at: posOf(at)}
			d.y().Mapping(e, p, a.fields(d))
			*dst = append(*dst, a)
		})
	}
}

// trunks decodes the trunks list; null is an empty list.
func (d *decoder) trunks(dst *[]rawTrunk) decodeFunc {
	return func(path string, key, value ast.Node) {
		d.y().List(path, value, "trunks", "a trunk (name, host, country, ...)", func(p string, at yamlpos.Pos, e ast.Node) {
			t := rawTrunk{path: p, at: posOf(at)}
			d.y().Mapping(e, p, t.fields(d))
			*dst = append(*dst, t)
		})
	}
}

// routes decodes the routes list; null is an empty list.
func (d *decoder) routes(dst *[]rawRoute) decodeFunc {
	return func(path string, key, value ast.Node) {
		d.y().List(path, value, "routes", "a route (prefix, trunks)", func(p string, at yamlpos.Pos, e ast.Node) {
			r := rawRoute{path: p, at: posOf(at)}
			d.y().Mapping(e, p, r.fields(d))
			*dst = append(*dst, r)
		})
	}
}

// departments decodes the departments list; null is an empty list.
func (d *decoder) departments(dst *[]rawDepartment) decodeFunc {
	return func(path string, key, value ast.Node) {
		d.y().List(path, value, "departments", "a department (name, agents)", func(p string, at yamlpos.Pos, e ast.Node) {
			g := rawDepartment{path: p, at: posOf(at)}
			d.y().Mapping(e, p, g.fields(d))
			*dst = append(*dst, g)
		})
	}
}

// webhooks decodes the webhooks list; null is an empty list.
func (d *decoder) webhooks(dst *[]rawWebhook) decodeFunc {
	return func(path string, key, value ast.Node) {
		d.y().List(path, value, "webhooks", "a webhook (url, secret)", func(p string, at yamlpos.Pos, e ast.Node) {
			w := rawWebhook{path: p, at: posOf(at)}
			d.y().Mapping(e, p, w.fields(d))
			*dst = append(*dst, w)
		})
	}
}

// clip shortens s for quoting in a message.
func clip(s string) string { return yamlpos.Clip(s) }
