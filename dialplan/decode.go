package dialplan

import (
	"fmt"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/ringdesk/ringdesk/internal/yamlpos"
)

// This file turns the YAML AST into the raw* structs below, keeping the
// position of every key and value, through yamlpos; compile.go checks them
// and builds the Plan.

type (
	pos         = yamlpos.Pos
	val[T any]  = yamlpos.Val[T]
	field       = yamlpos.Field
	decodeFunc  = yamlpos.DecodeFunc
	textList    = val[[]val[string]]
	durationVal = val[time.Duration]
)

type rawPlan struct {
	top        pos // where the top-level mapping starts
	messages   rawMessages
	hours      []*rawHours
	numbers    yamlpos.Section
	numberList []*rawNumber
	menus      []*rawMenu
	ringGroups []*rawRingGroup
	queues     []*rawQueue
	voicemail  []*rawVoicemail
}

// rawMessages is a messages block: the plan's defaults, or a number's
// overrides.
type rawMessages struct {
	yamlpos.Section
	path             string
	voice            val[string]
	welcome          rawMessage
	onHold           rawMessage
	allBusy          rawMessage
	agentUnavailable rawMessage
	afterHours       rawMessage
}

// rawMessage is one message as written: text (a plain string, or
// {text, voice}), a file ({file}), or none ("" or null).
type rawMessage struct {
	path    string
	present bool // the key appears in the file
	ok      bool // ... and its value is a message (or none)
	none    bool // "" or null
	key, at pos
	text    val[string]
	voice   val[string]
	file    val[string]
}

// entry is what every named entry of a section (an hours, a menu...) has.
type entry struct {
	id   string // its key
	path string // menus.main
	at   pos    // where its key is
}

type rawHours struct {
	entry
	timeZone val[string]
	open     yamlpos.Section
	days     []rawDays
	holidays textList
	closed   textList
}

// rawDays is one entry of open: days -> time ranges.
type rawDays struct {
	days   string
	at     pos
	ranges []val[string]
}

type rawNumber struct {
	path        string // numbers["+351 21 000 0000"]
	written     string // the key as written
	at          pos
	description val[string]
	department  val[string]
	hours       val[string]
	messages    rawMessages
	action      val[string]
	afterHours  val[string]
}

type rawMenu struct {
	entry
	name       val[string]
	intro      rawMessage
	readOut    val[string]
	prompt     rawMessage
	timeout    durationVal
	retries    val[int]
	invalid    rawMessage
	noInput    val[string]
	onInvalid  val[string]
	department val[string]
	options    yamlpos.Section
	optionList []*rawOption
}

type rawOption struct {
	digit      byte
	path       string
	at         pos
	name       val[string]
	action     val[string]
	department val[string]
}

type rawRingGroup struct {
	entry
	agents       textList
	strategy     val[string]
	ringInterval durationVal
	cycles       val[int]
	retries      val[int] // another name for cycles
	noAnswer     val[string]
	department   val[string]
}

type rawQueue struct {
	entry
	agents           textList
	ringGroup        val[string]
	strategy         val[string]
	ringInterval     durationVal
	maxCallers       val[int]
	holdMusic        val[string]
	announceEvery    durationVal
	announcePosition val[bool]
	positionMessage  val[string]
	voice            val[string]
	maxWait          durationVal
	fallback         val[string]
	department       val[string]
}

type rawVoicemail struct {
	entry
	greeting   rawMessage
	maxLength  durationVal
	department val[string]
}

// decoder walks the AST; problems go to its yamlpos.Decoder.
type decoder struct {
	*yamlpos.Decoder
}

// sectionNames lists the top-level keys, for messages.
const sectionNames = "messages, hours, numbers, menus, ring_groups, queues, voicemail"

// decodeFile maps the single document of f onto a rawPlan.
func (d decoder) decodeFile(f *ast.File) *rawPlan {
	body, ok := d.Document(f, "the file is empty; at least one number is required under numbers")
	if !ok {
		return nil
	}
	p := &rawPlan{top: yamlpos.NodePos(body)}
	if _, ok := body.(*ast.MappingNode); !ok {
		d.Errorf(p.top, "", "want a mapping of sections (%s), got %s", sectionNames, yamlpos.Describe(body))
		return nil
	}
	p.messages.path = "messages"
	d.Mapping(body, "", []field{
		{Name: "messages", Decode: d.Section(&p.messages.Section, p.messages.fields(d))},
		{Name: "hours", Decode: named(d, "hours", "a mapping of names to hours", &p.hours, (*rawHours).fields)},
		{Name: "numbers", Decode: d.numbers(p)},
		{Name: "menus", Decode: named(d, "menus", "a mapping of names to menus", &p.menus, (*rawMenu).fields)},
		{Name: "ring_groups", Decode: named(d, "ring groups", "a mapping of names to ring groups", &p.ringGroups, (*rawRingGroup).fields)},
		{Name: "queues", Decode: named(d, "queues", "a mapping of names to queues", &p.queues, (*rawQueue).fields)},
		{Name: "voicemail", Decode: named(d, "voicemail", "a mapping of names to voicemail boxes", &p.voicemail, (*rawVoicemail).fields)},
	})
	return p
}

// named decodes a section of named entries (hours, menus, ring_groups,
// queues, voicemail): each key is a name, each value a mapping decoded
// with the fields of a new T.
func named[T any, PT interface {
	*T
	setEntry(entry)
}](d decoder, what, want string, dst *[]PT, fields func(PT, decoder) []field) decodeFunc {
	return func(path string, key, value ast.Node) {
		d.Entries(value, path, want, func(name string, kp pos, _, v ast.Node) {
			p := yamlpos.Join(path, name)
			if !validName(name) {
				// Kept, so that references to it are not reported too.
				d.Errorf(kp, path, "%q is not a valid name: use letters, digits, '.', '_' and '-' (actions refer to %s by name)", yamlpos.Clip(name), what)
			}
			if _, alias := v.(*ast.AliasNode); alias {
				d.Unwrap(v, p) // reports it; what it stands for is not checked
				return
			}
			e := PT(new(T))
			e.setEntry(entry{id: name, path: p, at: kp})
			d.Mapping(v, p, fields(e, d)) // null: every setting left out
			*dst = append(*dst, e)
		})
	}
}

func (e *entry) setEntry(v entry) { *e = v }

// validName reports whether s can name a menu, queue...: actions refer to
// it as one word.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

func (m *rawMessages) fields(d decoder) []field {
	return []field{
		{Name: "voice", Decode: d.Text(&m.voice)},
		{Name: "welcome", Decode: d.message(&m.welcome)},
		{Name: "on_hold", Decode: d.message(&m.onHold)},
		{Name: "all_busy", Decode: d.message(&m.allBusy)},
		{Name: "agent_unavailable", Decode: d.message(&m.agentUnavailable)},
		{Name: "after_hours", Decode: d.message(&m.afterHours)},
	}
}

func (h *rawHours) fields(d decoder) []field {
	return []field{
		{Name: "time_zone", Decode: d.Text(&h.timeZone)},
		{Name: "open", Decode: d.days(h)},
		{Name: "holidays", Decode: d.TextList(&h.holidays)},
		{Name: "closed", Decode: d.TextList(&h.closed)},
	}
}

func (n *rawNumber) fields(d decoder) []field {
	return []field{
		{Name: "description", Decode: d.Text(&n.description)},
		{Name: "department", Decode: d.Text(&n.department)},
		{Name: "hours", Decode: d.Text(&n.hours)},
		{Name: "messages", Decode: d.Section(&n.messages.Section, n.messages.fields(d))},
		{Name: "action", Decode: d.Text(&n.action)},
		{Name: "after_hours", Decode: d.Text(&n.afterHours)},
	}
}

func (m *rawMenu) fields(d decoder) []field {
	return []field{
		{Name: "name", Decode: d.Text(&m.name)},
		{Name: "intro", Decode: d.message(&m.intro)},
		{Name: "read_out", Decode: d.Text(&m.readOut)},
		{Name: "prompt", Decode: d.message(&m.prompt)},
		{Name: "timeout", Decode: d.Duration(&m.timeout)},
		{Name: "retries", Decode: d.Integer(&m.retries)},
		{Name: "invalid", Decode: d.message(&m.invalid)},
		{Name: "no_input", Decode: d.Text(&m.noInput)},
		{Name: "on_invalid", Decode: d.Text(&m.onInvalid)},
		{Name: "department", Decode: d.Text(&m.department)},
		{Name: "options", Decode: d.options(m)},
	}
}

func (o *rawOption) fields(d decoder) []field {
	return []field{
		{Name: "name", Decode: d.Text(&o.name)},
		{Name: "action", Decode: d.Text(&o.action)},
		{Name: "department", Decode: d.Text(&o.department)},
	}
}

func (g *rawRingGroup) fields(d decoder) []field {
	return []field{
		{Name: "agents", Decode: d.TextList(&g.agents)},
		{Name: "strategy", Decode: d.Text(&g.strategy)},
		{Name: "ring_interval", Decode: d.Duration(&g.ringInterval)},
		{Name: "cycles", Decode: d.Integer(&g.cycles)},
		{Name: "retries", Decode: d.Integer(&g.retries)},
		{Name: "no_answer", Decode: d.Text(&g.noAnswer)},
		{Name: "department", Decode: d.Text(&g.department)},
	}
}

func (q *rawQueue) fields(d decoder) []field {
	return []field{
		{Name: "agents", Decode: d.TextList(&q.agents)},
		{Name: "ring_group", Decode: d.Text(&q.ringGroup)},
		{Name: "strategy", Decode: d.Text(&q.strategy)},
		{Name: "ring_interval", Decode: d.Duration(&q.ringInterval)},
		{Name: "max_callers", Decode: d.Integer(&q.maxCallers)},
		{Name: "hold_music", Decode: d.Text(&q.holdMusic)},
		{Name: "announce_every", Decode: d.Duration(&q.announceEvery)},
		{Name: "announce_position", Decode: d.Boolean(&q.announcePosition)},
		{Name: "position_message", Decode: d.Text(&q.positionMessage)},
		{Name: "voice", Decode: d.Text(&q.voice)},
		{Name: "max_wait", Decode: d.Duration(&q.maxWait)},
		{Name: "fallback", Decode: d.Text(&q.fallback)},
		{Name: "department", Decode: d.Text(&q.department)},
	}
}

func (v *rawVoicemail) fields(d decoder) []field {
	return []field{
		{Name: "greeting", Decode: d.message(&v.greeting)},
		{Name: "max_length", Decode: d.Duration(&v.maxLength)},
		{Name: "department", Decode: d.Text(&v.department)},
	}
}

// numbers decodes the numbers section: number as written -> settings.
func (d decoder) numbers(p *rawPlan) decodeFunc {
	return func(path string, key, value ast.Node) {
		p.numbers.Present, p.numbers.Key = true, yamlpos.NodePos(key)
		d.Entries(value, path, "a mapping of numbers to their settings", func(number string, kp pos, _, v ast.Node) {
			n := &rawNumber{path: fmt.Sprintf("%s[%q]", path, yamlpos.Clip(number)), written: number, at: kp}
			n.messages.path = n.path + ".messages"
			d.Mapping(v, n.path, n.fields(d))
			p.numberList = append(p.numberList, n)
		})
	}
}

// options decodes a menu's options: digit -> option.
func (d decoder) options(m *rawMenu) decodeFunc {
	return func(path string, key, value ast.Node) {
		m.options.Present, m.options.Key = true, yamlpos.NodePos(key)
		d.Entries(value, path, "a mapping of digits to options", func(digit string, kp pos, _, v ast.Node) {
			p := yamlpos.Join(path, digit)
			if len(digit) != 1 || !strings.Contains(digitOrder, digit) {
				d.Errorf(kp, path, "%q is not a key callers can press: use one of 0-9, * and # (quote \"*\" and \"#\")", yamlpos.Clip(digit))
				return
			}
			o := &rawOption{digit: digit[0], path: p, at: kp}
			d.Mapping(v, p, o.fields(d))
			m.optionList = append(m.optionList, o)
		})
	}
}

// days decodes hours.open: a mapping of days to one time range or a list
// of them.
func (d decoder) days(h *rawHours) decodeFunc {
	return func(path string, key, value ast.Node) {
		h.open.Present, h.open.Key = true, yamlpos.NodePos(key)
		d.Entries(value, path, "a mapping of days to hours, such as mon-fri: 09:00-18:00", func(days string, kp pos, _, v ast.Node) {
			p := yamlpos.Join(path, days)
			e := rawDays{days: days, at: kp}
			n, ok := d.Unwrap(v, p)
			if !ok {
				return
			}
			if seq, isSeq := n.(*ast.SequenceNode); isSeq {
				if len(seq.Values) == 0 {
					d.Errorf(kp, p, "want at least one time range, such as 09:00-18:00")
					return
				}
				for i, v := range seq.Values {
					e.ranges = append(e.ranges, d.timeRange(v, yamlpos.EntryPos(seq, i), fmt.Sprintf("%s[%d]", p, i), "a time range such as 09:00-18:00"))
				}
			} else {
				e.ranges = []val[string]{d.timeRange(n, kp, p, "a time range such as 09:00-18:00, or a list of them")}
			}
			h.days = append(h.days, e)
		})
	}
}

// timeRange decodes one time range of hours.open; at locates a null n.
func (d decoder) timeRange(n ast.Node, at pos, path, want string) val[string] {
	r := val[string]{Present: true, Key: at}
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		// Inside { }, YAML reads 10:00-13:00 as a key and its value.
		d.Errorf(yamlpos.NodePos(n), path, "want %s, got a mapping; inside { } quote the range: \"10:00-13:00\"", want)
		return r
	}
	r.V, r.At, r.Set = d.Scalar(n, at, path, want)
	return r
}

// message decodes a message: a plain string (text, spoken in the default
// voice), {text, voice}, {file}, or "" or null for none.
func (d decoder) message(dst *rawMessage) decodeFunc {
	return func(path string, key, value ast.Node) {
		dst.path, dst.present = path, true
		dst.key, dst.at = yamlpos.NodePos(key), yamlpos.NodePos(key)
		n, ok := d.Unwrap(value, path)
		if !ok {
			return
		}
		if yamlpos.IsNull(n) {
			dst.none, dst.ok = true, true
			return
		}
		dst.at = yamlpos.NodePos(n)
		if s, isText := yamlpos.ScalarText(n); isText {
			dst.ok = true
			if strings.TrimSpace(s) == "" {
				dst.none = true
				return
			}
			dst.text = val[string]{V: s, Present: true, Set: true, Key: dst.key, At: dst.at}
			return
		}
		if _, isMap := n.(*ast.MappingNode); !isMap {
			d.Errorf(dst.at, path, "want a message: text to speak, {text, voice} or {file}, got %s", yamlpos.Describe(n))
			return
		}
		d.Mapping(n, path, []field{
			{Name: "text", Decode: d.Text(&dst.text)},
			{Name: "voice", Decode: d.Text(&dst.voice)},
			{Name: "file", Decode: d.Text(&dst.file)},
		})
		switch {
		case dst.text.Present && dst.file.Present:
			d.Errorf(dst.file.Key, path, "text and file exclude each other; keep one")
		case !dst.text.Present && !dst.file.Present:
			d.Errorf(dst.at, path, "want text or file (or \"\" for no message)")
		case dst.voice.Present && dst.file.Present:
			d.Errorf(dst.voice.Key, path, "voice is for text; an audio file is played as it is")
		case dst.text.Set && strings.TrimSpace(dst.text.V) == "":
			d.Errorf(dst.text.At, path+".text", "must not be empty (write \"\" instead of the mapping for no message)")
		case dst.file.Set && strings.TrimSpace(dst.file.V) == "":
			d.Errorf(dst.file.At, path+".file", "must not be empty (write \"\" instead of the mapping for no message)")
		default:
			dst.ok = dst.text.Set || dst.file.Set
		}
	}
}
