package configs

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
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
	top     pos // where the top-level mapping starts
	sip     rawSIP
	rtp     rawRTP
	calls   rawCalls
	dataDir val[string]
	agents  []rawAgent
	trunks  []rawTrunk
	numbers rawNumbers
	dialing rawDialing
	routes  []rawRoute
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

// rawNumbers is the numbers mapping: number as written -> extension.
type rawNumbers struct {
	section
	entries []rawNumber
}

type rawNumber struct {
	path      string // numbers["+351210000000"]
	number    string // the key as written
	at        pos    // where the key is
	extension val[string]
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

// decodeFunc decodes the value of one key; path is the key's full path,
// for example "sip.realm".
type decodeFunc func(path string, key, value ast.Node)

// field is one known key of a mapping.
type field struct {
	name   string
	decode decodeFunc
}

// decoder collects problems while it walks.
type decoder struct {
	file string
	errs []problem
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
	case head == "numbers", head == "dialing", head == "routes":
		return []string{sectionCalls}
	}
	return []string{head}
}

// errorf records a problem at p; a non-empty path prefixes the message.
func (d *decoder) errorf(p pos, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	d.add(p, path, msg)
}

// add records the problem msg at p, concerning path.
func (d *decoder) add(p pos, path, msg string) {
	d.errs = append(d.errs, problem{
		Error:    Error{File: d.file, Line: p.line, Col: p.col, Msg: msg},
		sections: sectionsOf(path),
	})
}

// Limits on the token stream. The parser recurses, and slows down
// quadratically, on nesting; no config comes near these.
const (
	maxNesting   = 64 // flow collections inside each other, or "- - -" and "!!tag" on one line
	maxDocuments = 8  // "---" markers
)

// parseYAML parses data into an AST, turning a syntax error into a problem.
func (d *decoder) parseYAML(data []byte) *ast.File {
	tokens := lexer.Tokenize(string(data))
	if tk, msg := unreasonable(tokens); tk != nil {
		d.errorf(tokenPos(tk), "", "yaml: %s", msg)
		return nil
	}
	// Duplicate keys are reported by the decoder, which, unlike the parser,
	// carries on after them.
	f, err := parser.Parse(tokens, 0, parser.AllowDuplicateMapKey())
	if err == nil {
		return f
	}
	var perr interface {
		GetToken() *token.Token
		GetMessage() string
	}
	if !errors.As(err, &perr) {
		d.errorf(pos{1, 1}, "", "yaml: %v", err)
		return nil
	}
	p := tokenPos(perr.GetToken())
	msg := perr.GetMessage()
	if isTab(data, p) {
		msg = "tab characters cannot indent YAML; use spaces"
	}
	d.errorf(p, "", "yaml: %s", msg)
	return nil
}

// unreasonable returns the token where tokens exceed maxNesting or
// maxDocuments, and why.
func unreasonable(tokens token.Tokens) (*token.Token, string) {
	flow, docs, line, onLine := 0, 0, 0, 0
	for _, tk := range tokens {
		if tk == nil {
			continue
		}
		if tk.Position != nil && tk.Position.Line != line {
			line, onLine = tk.Position.Line, 0
		}
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			flow = max(flow-1, 0)
		case token.SequenceEntryType, token.MappingKeyType, token.TagType, token.AnchorType:
			onLine++
		case token.DocumentHeaderType:
			docs++
		default:
		}
		switch {
		case flow > maxNesting || onLine > maxNesting:
			return tk, fmt.Sprintf("nested more than %d levels deep", maxNesting)
		case docs > maxDocuments:
			return tk, fmt.Sprintf("more than %d \"---\" document markers", maxDocuments)
		}
	}
	return nil, ""
}

// isTab reports whether the character at p in data is a tab.
func isTab(data []byte, p pos) bool {
	line := 1
	for line < p.line {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return false
		}
		data = data[i+1:]
		line++
	}
	for col := 1; len(data) > 0; col++ {
		r, n := utf8.DecodeRune(data)
		if r == '\n' {
			return false
		}
		if col == p.col {
			return r == '\t'
		}
		data = data[n:]
	}
	return false
}

// decodeFile maps the single document of f onto a rawConfig.
func (d *decoder) decodeFile(f *ast.File) *rawConfig {
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if _, ok := doc.Body.(*ast.DirectiveNode); ok {
			continue
		}
		docs = append(docs, doc)
	}
	if len(docs) == 0 {
		d.errorf(pos{1, 1}, "", "the file is empty; at least sip.listen is required")
		return nil
	}
	for _, doc := range docs[1:] {
		p := nodePos(doc.Body)
		if doc.Start != nil {
			p = tokenPos(doc.Start)
		}
		d.errorf(p, "", "a second YAML document is not supported; remove the \"---\" line and what follows")
	}
	body, ok := d.unwrap(docs[0].Body, "")
	if !ok {
		return nil
	}
	c := &rawConfig{top: nodePos(body)}
	if _, ok := body.(*ast.MappingNode); !ok {
		d.errorf(c.top, "", "want a mapping of sections (sip, rtp, calls, data_dir, agents, trunks, numbers, dialing, routes), got %s", describe(body))
		return nil
	}
	d.mapping(body, "", []field{
		{"sip", d.section(&c.sip.section, c.sip.fields(d))},
		{"rtp", d.section(&c.rtp.section, c.rtp.fields(d))},
		{"calls", d.section(&c.calls.section, c.calls.fields(d))},
		{"data_dir", d.text(&c.dataDir)},
		{"agents", d.agents(&c.agents)},
		{"trunks", d.trunks(&c.trunks)},
		{"numbers", d.numbers(&c.numbers)},
		{"dialing", d.section(&c.dialing.section, c.dialing.fields(d))},
		{"routes", d.routes(&c.routes)},
	})
	return c
}

func (s *rawSIP) fields(d *decoder) []field {
	return []field{
		{"listen", d.textList(&s.listen)},
		{"public_address", d.text(&s.publicAddress)},
		{"realm", d.text(&s.realm)},
		{"tls", d.section(&s.tls.section, []field{
			{"cert", d.text(&s.tls.cert)},
			{"key", d.text(&s.tls.key)},
		})},
		{"user_agent", d.text(&s.userAgent)},
		{"digest_algorithms", d.textList(&s.digestAlgorithms)},
		{"registration", d.section(&s.registration.section, []field{
			{"min_expires", d.duration(&s.registration.minExpires)},
			{"max_expires", d.duration(&s.registration.maxExpires)},
			{"default_expires", d.duration(&s.registration.defaultExpires)},
		})},
		{"nonce_ttl", d.duration(&s.nonceTTL)},
		{"trace", d.boolean(&s.trace)},
	}
}

func (r *rawRTP) fields(d *decoder) []field {
	return []field{
		{"address", d.text(&r.address)},
		{"public_address", d.text(&r.publicAddress)},
		{"ports", d.text(&r.ports)},
		{"quarantine", d.duration(&r.quarantine)},
		{"media_timeout", d.duration(&r.mediaTimeout)},
	}
}

func (c *rawCalls) fields(d *decoder) []field {
	return []field{
		{"ring_timeout", d.duration(&c.ringTimeout)},
		{"shutdown_grace", d.duration(&c.shutdownGrace)},
		{"hold_music", d.text(&c.holdMusic)},
		{"tones", d.text(&c.tones)},
		{"inband_dtmf", d.text(&c.inbandDTMF)},
		{"record", d.boolean(&c.record)},
	}
}

func (a *rawAgent) fields(d *decoder) []field {
	return []field{
		{"id", d.text(&a.id)},
		{"name", d.text(&a.name)},
		{"extension", d.text(&a.extension)},
		{"sip_password", d.text(&a.password)},
		{"sip_ha1", d.text(&a.ha1)},
		{"sip_ha1_sha256", d.text(&a.ha1SHA256)},
	}
}

func (t *rawTrunk) fields(d *decoder) []field {
	return []field{
		{"name", d.text(&t.name)},
		{"host", d.text(&t.host)},
		{"port", d.integer(&t.port)},
		{"transport", d.text(&t.transport)},
		{"username", d.text(&t.username)},
		{"auth_username", d.text(&t.authUsername)},
		{"password", d.text(&t.password)},
		{"ha1", d.text(&t.ha1)},
		{"realm", d.text(&t.realm)},
		{"register", d.boolean(&t.register)},
		{"register_user", d.text(&t.registerUser)},
		{"expiry", d.duration(&t.expiry)},
		{"networks", d.textList(&t.networks)},
		{"keepalive", d.duration(&t.keepalive)},
		{"ca_file", d.text(&t.caFile)},
		{"country", d.text(&t.country)},
		{"number_format", d.text(&t.numberFormat)},
		{"tech_prefix", d.text(&t.techPrefix)},
		{"caller_id", d.text(&t.callerID)},
		{"caller_name", d.text(&t.callerName)},
		{"assert_identity", d.boolean(&t.assertIdentity)},
		{"max_calls", d.integer(&t.maxCalls)},
		{"srtp", d.boolean(&t.srtp)},
	}
}

func (g *rawDialing) fields(d *decoder) []field {
	return []field{
		{"country", d.text(&g.country)},
		{"outside_prefix", d.text(&g.outsidePrefix)},
	}
}

func (r *rawRoute) fields(d *decoder) []field {
	return []field{
		{"prefix", d.text(&r.prefix)},
		{"trunks", d.textList(&r.trunks)},
	}
}

// mapping decodes the mapping n at path with fields, reporting unknown and
// duplicate keys. null is an empty mapping.
func (d *decoder) mapping(n ast.Node, path string, fields []field) {
	n, ok := d.unwrap(n, path)
	if !ok || isNull(n) {
		return
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.errorf(nodePos(n), path, "want a mapping, got %s", describe(n))
		return
	}
	d.keys(m, path, func(name string, kp pos, keyNode, value ast.Node) {
		f, known := lookup(fields, name)
		if !known {
			d.add(kp, path, fmt.Sprintf("unknown key %q %s (known: %s)", clip(name), where(path), fieldNames(fields)))
			return
		}
		f.decode(join(path, name), keyNode, value)
	})
}

// keys calls each for every plain key of m, once: it reports anchors,
// aliases and tags on keys, keys that are not plain scalars, and duplicates.
func (d *decoder) keys(m *ast.MappingNode, path string, each func(name string, kp pos, keyNode, value ast.Node)) {
	seen := make(map[string]pos, len(m.Values))
	for _, kv := range m.Values {
		if kv == nil {
			continue
		}
		keyNode, ok := d.unwrap(kv.Key, path)
		if !ok {
			continue
		}
		name, ok := keyText(keyNode)
		if !ok {
			if _, merge := keyNode.(*ast.MergeKeyNode); merge {
				d.errorf(nodePos(keyNode), path, "merge keys (<<) are not supported; write the keys out")
			} else {
				d.errorf(nodePos(keyNode), path, "want a plain key, got %s", describe(keyNode))
			}
			continue
		}
		kp := nodePos(keyNode)
		if first, dup := seen[name]; dup {
			d.add(kp, path, fmt.Sprintf("duplicate key %q %s (first at line %d)", clip(name), where(path), first.line))
			continue
		}
		seen[name] = kp
		each(name, kp, keyNode, kv.Value)
	}
}

// where says where a mapping at path is, for messages about its keys.
func where(path string) string {
	if path == "" {
		return "at the top level"
	}
	return "in " + path
}

func lookup(fields []field, name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

func fieldNames(fields []field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// section decodes a nested mapping such as sip or sip.tls.
func (d *decoder) section(s *section, fields []field) decodeFunc {
	return func(path string, key, value ast.Node) {
		s.present, s.key = true, nodePos(key)
		d.mapping(value, path, fields)
	}
}

// text decodes a scalar as a string. Plain scalars that YAML would read as
// numbers or booleans (extension: 1001, sip_password: 12345) are taken as
// written.
func (d *decoder) text(dst *val[string]) decodeFunc {
	return func(path string, key, value ast.Node) {
		dst.present, dst.key, dst.at = true, nodePos(key), nodePos(key)
		dst.v, dst.at, dst.set = d.scalar(value, dst.key, path, "a string")
	}
}

// scalar returns the text of the scalar n; at locates n when it is null.
func (d *decoder) scalar(n ast.Node, at pos, path, want string) (string, pos, bool) {
	n, ok := d.unwrap(n, path)
	if !ok {
		return "", at, false
	}
	if isNull(n) {
		d.errorf(at, path, "missing value")
		return "", at, false
	}
	s, ok := scalarText(n)
	if !ok {
		d.errorf(nodePos(n), path, "want %s, got %s", want, describe(n))
		return "", at, false
	}
	return s, nodePos(n), true
}

// textList decodes a list of scalars; null is an empty list.
func (d *decoder) textList(dst *val[[]val[string]]) decodeFunc {
	return func(path string, key, value ast.Node) {
		dst.present, dst.key, dst.at = true, nodePos(key), nodePos(key)
		n, ok := d.unwrap(value, path)
		if !ok {
			return
		}
		if isNull(n) {
			dst.set = true
			return
		}
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			d.errorf(nodePos(n), path, "want a list of strings, got %s", describe(n))
			return
		}
		dst.at, dst.set = nodePos(seq), true
		for i, e := range seq.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			var item val[string]
			item.present, item.key = true, entryPos(seq, i)
			item.v, item.at, item.set = d.scalar(e, item.key, p, "a string")
			dst.v = append(dst.v, item)
		}
	}
}

// agents decodes the agents list; null is an empty list.
func (d *decoder) agents(dst *[]rawAgent) decodeFunc {
	return func(path string, key, value ast.Node) {
		d.list(path, value, "agents", "an agent (id, name, extension, sip_password)", func(p string, at pos, e ast.Node) {
			a := rawAgent{path: p, at: at}
			d.mapping(e, p, a.fields(d))
			*dst = append(*dst, a)
		})
	}
}

// trunks decodes the trunks list; null is an empty list.
func (d *decoder) trunks(dst *[]rawTrunk) decodeFunc {
	return func(path string, key, value ast.Node) {
		d.list(path, value, "trunks", "a trunk (name, host, country, ...)", func(p string, at pos, e ast.Node) {
			t := rawTrunk{path: p, at: at}
			d.mapping(e, p, t.fields(d))
			*dst = append(*dst, t)
		})
	}
}

// routes decodes the routes list; null is an empty list.
func (d *decoder) routes(dst *[]rawRoute) decodeFunc {
	return func(path string, key, value ast.Node) {
		d.list(path, value, "routes", "a route (prefix, trunks)", func(p string, at pos, e ast.Node) {
			r := rawRoute{path: p, at: at}
			d.mapping(e, p, r.fields(d))
			*dst = append(*dst, r)
		})
	}
}

// list decodes a list of mappings at path, calling each with the path and
// position of every entry that is a mapping; null is an empty list. plural
// names the list and one an entry, in messages.
func (d *decoder) list(path string, value ast.Node, plural, one string, each func(path string, at pos, entry ast.Node)) {
	n, ok := d.unwrap(value, path)
	if !ok || isNull(n) {
		return
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.errorf(nodePos(n), path, "want a list of %s, got %s", plural, describe(n))
		return
	}
	for i, entry := range seq.Values {
		p, at := fmt.Sprintf("%s[%d]", path, i), entryPos(seq, i)
		e, ok := d.unwrap(entry, p)
		if !ok {
			continue
		}
		if _, isMap := e.(*ast.MappingNode); !isMap {
			if isNull(e) {
				d.errorf(at, p, "want %s, got nothing", one)
			} else {
				d.errorf(nodePos(e), p, "want %s, got %s", one, describe(e))
			}
			continue
		}
		each(p, nodePos(e), e)
	}
}

// numbers decodes the numbers mapping, whose keys are phone numbers as
// written and whose values are extensions; null is an empty mapping.
func (d *decoder) numbers(dst *rawNumbers) decodeFunc {
	return func(path string, key, value ast.Node) {
		dst.present, dst.key = true, nodePos(key)
		n, ok := d.unwrap(value, path)
		if !ok || isNull(n) {
			return
		}
		m, ok := n.(*ast.MappingNode)
		if !ok {
			d.errorf(nodePos(n), path, "want a mapping of numbers to extensions, got %s", describe(n))
			return
		}
		d.keys(m, path, func(number string, kp pos, _, value ast.Node) {
			e := rawNumber{path: fmt.Sprintf("%s[%q]", path, clip(number)), number: number, at: kp}
			e.extension.present, e.extension.key = true, kp
			e.extension.v, e.extension.at, e.extension.set = d.scalar(value, kp, e.path, "an extension")
			dst.entries = append(dst.entries, e)
		})
	}
}

// entryPos locates entry i of seq, falling back to the entry's value.
func entryPos(seq *ast.SequenceNode, i int) pos {
	if i < len(seq.Entries) && seq.Entries[i] != nil && seq.Entries[i].Start != nil {
		return tokenPos(seq.Entries[i].Start)
	}
	if v := seq.Values[i]; v != nil && !isNull(v) {
		return nodePos(v)
	}
	return nodePos(seq)
}

const durationHint = `a duration such as "30s" or "1m30s", or a whole number of seconds`

// duration decodes a Go duration string or an integer number of seconds.
func (d *decoder) duration(dst *val[time.Duration]) decodeFunc {
	return func(path string, key, value ast.Node) {
		dst.present, dst.key, dst.at = true, nodePos(key), nodePos(key)
		s, at, ok := d.number(value, dst.key, path, durationHint)
		if !ok {
			return
		}
		dst.at = at
		v, err := parseDuration(s)
		if err != nil {
			d.errorf(dst.at, path, "%v", err)
			return
		}
		dst.v, dst.set = v, true
	}
}

// number returns the text of a number written plainly or quoted (the
// value of a duration or integer key), and where it is; at locates a null
// value. Anything else is reported as not want.
func (d *decoder) number(n ast.Node, at pos, path, want string) (string, pos, bool) {
	n, ok := d.unwrap(n, path)
	if !ok {
		return "", at, false
	}
	if isNull(n) {
		d.errorf(at, path, "missing value")
		return "", at, false
	}
	switch n.(type) {
	case *ast.StringNode, *ast.IntegerNode:
	default:
		d.errorf(nodePos(n), path, "want %s, got %s", want, describe(n))
		return "", at, false
	}
	s, _ := scalarText(n)
	return s, nodePos(n), true
}

// parseDuration parses "1m30s" or a whole number of seconds.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, fmt.Errorf("%s seconds is too long", s)
		}
		return time.Duration(n) * time.Second, nil
	} else if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%s seconds is too long", s)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want %s, got %q", durationHint, clip(s))
	}
	return v, nil
}

// integer decodes a whole number, written plainly or quoted.
func (d *decoder) integer(dst *val[int]) decodeFunc {
	return func(path string, key, value ast.Node) {
		dst.present, dst.key, dst.at = true, nodePos(key), nodePos(key)
		s, at, ok := d.number(value, dst.key, path, "a whole number")
		if !ok {
			return
		}
		dst.at = at
		v, err := strconv.Atoi(strings.TrimSpace(s))
		switch {
		case errors.Is(err, strconv.ErrRange):
			d.errorf(dst.at, path, "%s is out of range", clip(s))
			return
		case err != nil:
			d.errorf(dst.at, path, "want a whole number, got %q", clip(s))
			return
		}
		dst.v, dst.set = v, true
	}
}

// boolean decodes true or false.
func (d *decoder) boolean(dst *val[bool]) decodeFunc {
	return func(path string, key, value ast.Node) {
		dst.present, dst.key, dst.at = true, nodePos(key), nodePos(key)
		n, ok := d.unwrap(value, path)
		if !ok {
			return
		}
		if isNull(n) {
			d.errorf(dst.key, path, "missing value")
			return
		}
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.errorf(nodePos(n), path, "want true or false, got %s", describe(n))
			return
		}
		dst.v, dst.at, dst.set = b.Value, nodePos(n), true
	}
}

// unwrap reports anchors, aliases and tags, which a config does not need,
// and returns the node beneath anchors and tags so that it is checked too.
// It reports false for an alias, whose value is elsewhere.
func (d *decoder) unwrap(n ast.Node, path string) (ast.Node, bool) {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			if v == nil {
				return nil, true
			}
			d.errorf(nodePos(v), path, "anchors (&name) are not supported; write the value out")
			n = v.Value
		case *ast.AliasNode:
			if v == nil {
				return nil, true
			}
			d.errorf(nodePos(v), path, "aliases (*name) are not supported; write the value out")
			return nil, false
		case *ast.TagNode:
			if v == nil {
				return nil, true
			}
			d.errorf(nodePos(v), path, "tags (%s) are not supported; remove the tag", clip(tokenValue(v.Start)))
			n = v.Value
		default:
			return n, true
		}
	}
}

// isNull reports whether n is absent or null (~, null, or nothing after the colon).
func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// scalarText returns a scalar's value: the decoded string for strings, and
// the text as written for numbers and booleans.
func scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		if v == nil {
			return "", false
		}
		return v.Value, true
	case *ast.LiteralNode:
		if v == nil || v.Value == nil {
			return "", false
		}
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return tokenValue(v.GetToken()), true
	}
	return "", false
}

// keyText returns the name of a plain mapping key.
func keyText(n ast.Node) (string, bool) {
	switch n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return scalarText(n)
	case *ast.NullNode:
		return tokenValue(n.GetToken()), true
	}
	return "", false
}

// describe names what n is, for "want X, got Y" messages.
func describe(n ast.Node) string {
	switch n.(type) {
	case nil, *ast.NullNode:
		return "null"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		s, _ := scalarText(n)
		return fmt.Sprintf("the string %q", clip(s))
	case *ast.IntegerNode:
		return "the integer " + clip(tokenValue(n.GetToken()))
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + clip(tokenValue(n.GetToken()))
	case *ast.BoolNode:
		return clip(tokenValue(n.GetToken()))
	case *ast.MappingKeyNode:
		return "a complex key"
	}
	return "a " + n.Type().YAMLName()
}

// clip shortens s for quoting in a message.
func clip(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "..."
}

func tokenValue(tk *token.Token) string {
	if tk == nil {
		return ""
	}
	return tk.Value
}

func tokenPos(tk *token.Token) pos {
	if tk == nil || tk.Position == nil {
		return pos{1, 1}
	}
	return pos{max(tk.Position.Line, 1), max(tk.Position.Column, 1)}
}

// nodePos returns where n starts in the file.
func nodePos(n ast.Node) pos {
	switch v := n.(type) {
	case nil:
		return pos{1, 1}
	case *ast.MappingNode:
		if v == nil {
			return pos{1, 1}
		}
		// A block mapping's token is its first ':'; point at its first key.
		if !v.IsFlowStyle && len(v.Values) > 0 && v.Values[0] != nil {
			return nodePos(v.Values[0].Key)
		}
		return tokenPos(v.Start)
	case *ast.MappingValueNode:
		if v == nil {
			return pos{1, 1}
		}
		return nodePos(v.Key)
	case *ast.LiteralNode:
		if v == nil {
			return pos{1, 1}
		}
		return tokenPos(v.Start)
	}
	return tokenPos(n.GetToken())
}
