package dialplan

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ringdesk/ringdesk/internal/yamlpos"
)

// Describe writes each number's flow as a tree, numbers in file order, for
// `ringdesk routes`: its hours and messages, then what callers get while
// open and while closed, menus expanded into their options. Within one
// number a menu, ring group or queue is expanded the first time it appears;
// later it reads "(see above)".
func (p *Plan) Describe(w io.Writer) error {
	var b strings.Builder
	for i, n := range p.list {
		if i > 0 {
			b.WriteByte('\n')
		}
		p.describeNumber(n).render(&b)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("describe dialplan: %w", err)
	}
	return nil
}

// node is one line of the tree and the lines beneath it.
type node struct {
	text string
	kids []*node
}

func (n *node) add(text string, kids ...*node) *node {
	k := &node{text: text, kids: kids}
	n.kids = append(n.kids, k)
	return k
}

// render writes n and its kids, drawn as a tree.
func (n *node) render(b *strings.Builder) {
	b.WriteString(n.text)
	b.WriteByte('\n')
	renderKids(b, n.kids, "")
}

func renderKids(b *strings.Builder, kids []*node, prefix string) {
	for i, k := range kids {
		branch, more := "├─ ", "│  "
		if i == len(kids)-1 {
			branch, more = "└─ ", "   "
		}
		b.WriteString(prefix + branch + k.text + "\n")
		renderKids(b, k.kids, prefix+more)
	}
}

// describer describes one number's flow, expanding each menu, ring group
// and queue once.
type describer struct {
	p    *Plan
	seen map[any]bool
}

func (p *Plan) describeNumber(n *Number) *node {
	d := &describer{p: p, seen: make(map[any]bool)}
	head := n.Number
	if n.Written != n.Number {
		head += fmt.Sprintf(" (written %q)", n.Written)
	}
	if n.Description != "" {
		head += "  " + n.Description
	}
	if n.Department != "" {
		head += " " + dept(n.Department)
	}
	root := &node{text: head}
	if h := n.Hours; h != nil {
		line := fmt.Sprintf("hours %s (%s): %s", h.ID, h.Location, h.weekly())
		if closed := append(append([]string(nil), h.holidays...), h.closed...); len(closed) > 0 {
			line += "; closed " + strings.Join(closed, ", ")
		}
		root.add(line)
	}
	var msgs []string
	for _, m := range []struct {
		name string
		msg  *Message
	}{
		{"on hold", n.Messages.OnHold},
		{"all busy", n.Messages.AllBusy},
		{"agent unavailable", n.Messages.AgentUnavailable},
	} {
		if m.msg != nil {
			msgs = append(msgs, m.name+" "+d.message(m.msg))
		}
	}
	if len(msgs) > 0 {
		root.add("messages: " + strings.Join(msgs, "; "))
	}
	label := "open: "
	if n.Hours == nil {
		label = "always open: "
	}
	d.step(root, label, n.Messages.Welcome, n.Open)
	if n.Hours != nil {
		d.step(root, "closed: ", n.Messages.AfterHours, n.Closed)
	}
	return root
}

// step adds the line "label message, then action" to parent.
func (d *describer) step(parent *node, label string, m *Message, a Action) {
	text, kids := d.action(a)
	if m != nil {
		text = d.message(m) + ", then " + text
	}
	parent.add(label+text, kids...)
}

// message describes a message: play FILE, or say "TEXT".
func (d *describer) message(m *Message) string {
	if m.Text == "" {
		name := m.name
		if name == "" {
			name = m.File
		}
		return "play " + name
	}
	s := "say " + strconv.Quote(m.Text)
	if m.Voice != d.p.voice {
		s += " (" + m.Voice + ")"
	}
	return s
}

// action describes a, and returns the lines beneath it.
func (d *describer) action(a Action) (string, []*node) {
	switch a.Kind {
	case GoMenu:
		return d.menu(a.Menu)
	case RingGroupAction:
		return d.ringGroup(a.RingGroup)
	case QueueAction:
		return d.queue(a.Queue)
	case VoicemailAction:
		return d.voicemail(a.Voicemail), nil
	case ExtensionAction:
		if id := d.p.extensions[a.Target]; id != "" {
			return fmt.Sprintf("extension %s (%s)", a.Target, id), nil
		}
	default:
	}
	return a.String(), nil
}

// again reports whether v was described before, and marks it.
func (d *describer) again(v any) bool {
	if d.seen[v] {
		return true
	}
	d.seen[v] = true
	return false
}

func (d *describer) menu(m *Menu) (string, []*node) {
	if m == nil {
		return "menu ?", nil
	}
	text := "menu " + m.ID
	if m.Name != m.ID {
		text += fmt.Sprintf(" %q", m.Name)
	}
	if d.again(m) {
		return text + " (see above)", nil
	}
	text += fmt.Sprintf(" (%s timeout, %s)%s", yamlpos.FormatDuration(m.Timeout), plural(m.Retries, "retry", "retries"), dept(m.Department))
	n := &node{}
	switch {
	case m.readOut != "":
		prompt := "say " + strconv.Quote(m.readOut)
		if m.intro != nil {
			prompt = d.message(m.intro) + ", then " + prompt
		}
		n.add("prompt: " + prompt)
	case m.Prompt != nil:
		n.add("prompt: " + d.message(m.Prompt))
	default:
		n.add("prompt: none")
	}
	if m.InvalidMessage != nil {
		n.add("after an invalid digit: " + d.message(m.InvalidMessage))
	}
	for _, o := range m.order {
		label := string(o.Digit)
		if o.Name != "" {
			label += " " + o.Name
		}
		d.step(n, label+dept(o.Department)+": ", nil, o.Action)
	}
	d.step(n, "no input: ", nil, m.NoInput)
	d.step(n, "invalid: ", nil, m.Invalid)
	return text, n.kids
}

func (d *describer) ringGroup(g *RingGroup) (string, []*node) {
	if g == nil {
		return "ring ?", nil
	}
	text := "ring group " + g.ID
	if d.again(g) {
		return text + " (see above)", nil
	}
	text += fmt.Sprintf(" (%s: %s; %s", strategyText(g.Strategy), strings.Join(g.Agents, ", "), yamlpos.FormatDuration(g.RingInterval))
	if g.Strategy == Sequential {
		text += " each"
	}
	if g.Cycles > 1 {
		text += fmt.Sprintf(", %d cycles", g.Cycles)
	}
	text += ")" + dept(g.Department)
	next, kids := d.action(g.NoAnswer)
	return text + " → no answer: " + next, kids
}

func (d *describer) queue(q *Queue) (string, []*node) {
	if q == nil {
		return "queue ?", nil
	}
	text := "queue " + q.ID
	if d.again(q) {
		return text + " (see above)", nil
	}
	agents := strings.Join(q.Agents, ", ")
	if q.ringGroup != nil {
		agents += " from ring group " + q.ringGroup.ID
	}
	text += fmt.Sprintf(" (%s: %s; %s each; at most %d callers", strategyText(q.Strategy), agents, yamlpos.FormatDuration(q.RingInterval), q.MaxCallers)
	if q.MaxWait > 0 {
		text += ", wait up to " + yamlpos.FormatDuration(q.MaxWait)
	}
	if q.holdMusicName != "" {
		text += "; music " + q.holdMusicName
	}
	if q.AnnounceEvery > 0 {
		text += "; on hold message every " + yamlpos.FormatDuration(q.AnnounceEvery)
		if q.AnnouncePosition {
			text += " with the position"
		}
	}
	text += ")" + dept(q.Department)
	next, kids := d.action(q.Fallback)
	return text + " → full or waited too long: " + next, kids
}

func (d *describer) voicemail(v *Voicemail) string {
	if v == nil {
		return "voicemail ?"
	}
	text := "voicemail " + v.ID + " ("
	if v.Greeting != nil {
		text += d.message(v.Greeting) + ", "
	}
	return text + "record up to " + yamlpos.FormatDuration(v.MaxLength) + ")" + dept(v.Department)
}

// dept is " [dept NAME]", or nothing without a department.
func dept(name string) string {
	if name == "" {
		return ""
	}
	return " [dept " + name + "]"
}

// plural is "1 retry" or "2 retries".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// strategyText names s for people: "longest idle".
func strategyText(s Strategy) string {
	return strings.ReplaceAll(s.String(), "_", " ")
}

// String names the strategy as the dialplan writes it.
func (s Strategy) String() string {
	switch s {
	case Sequential:
		return "sequential"
	case Simultaneous:
		return "simultaneous"
	case LongestIdle:
		return "longest_idle"
	}
	return "Strategy(" + strconv.Itoa(int(s)) + ")"
}
