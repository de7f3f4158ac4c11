package dialplan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ringdesk/ringdesk/internal/yamlpos"
)

// actionGrammar is the action grammar, for messages.
const actionGrammar = "menu NAME, ring NAME, queue NAME, voicemail NAME, extension NUMBER, outside NUMBER, repeat, back or hangup"

// verbs maps each action verb to its kind.
func verb(s string) (ActionKind, bool) {
	switch s {
	case "menu":
		return GoMenu, true
	case "ring":
		return RingGroupAction, true
	case "queue":
		return QueueAction, true
	case "voicemail":
		return VoicemailAction, true
	case "extension":
		return ExtensionAction, true
	case "outside":
		return OutsideAction, true
	case "repeat":
		return Repeat, true
	case "back":
		return Back, true
	case "hangup":
		return Hangup, true
	}
	return 0, false
}

// String returns the action as the dialplan writes it: "queue support",
// "extension 1001", "hangup".
func (a Action) String() string {
	switch a.Kind {
	case Hangup:
		return "hangup"
	case GoMenu:
		return "menu " + idOf(a.Menu)
	case RingGroupAction:
		return "ring " + idOf(a.RingGroup)
	case QueueAction:
		return "queue " + idOf(a.Queue)
	case VoicemailAction:
		return "voicemail " + idOf(a.Voicemail)
	case ExtensionAction:
		return "extension " + a.Target
	case OutsideAction:
		return "outside " + a.Target
	case Repeat:
		return "repeat"
	case Back:
		return "back"
	}
	return fmt.Sprintf("ActionKind(%d)", int(a.Kind))
}

// String names the kind as the action grammar does.
func (k ActionKind) String() string {
	switch k {
	case Hangup:
		return "hangup"
	case GoMenu:
		return "menu"
	case RingGroupAction:
		return "ring"
	case QueueAction:
		return "queue"
	case VoicemailAction:
		return "voicemail"
	case ExtensionAction:
		return "extension"
	case OutsideAction:
		return "outside"
	case Repeat:
		return "repeat"
	case Back:
		return "back"
	}
	return fmt.Sprintf("ActionKind(%d)", int(k))
}

// identified is what every named part of a plan has.
type identified interface {
	*Menu | *RingGroup | *Queue | *Voicemail
}

// idOf returns the ID of a named part, "?" when nil.
func idOf[T identified](v T) string {
	if v == nil {
		return "?"
	}
	switch x := any(v).(type) {
	case *Menu:
		return x.ID
	case *RingGroup:
		return x.ID
	case *Queue:
		return x.ID
	case *Voicemail:
		return x.ID
	}
	return "?"
}

// place says where an action is written, which decides the verbs allowed.
type place int

const (
	inNumber   place = iota // a number's action or after_hours
	inMenu                  // a menu's option, no_input or on_invalid
	inNoAnswer              // a ring group's no_answer
	inFallback              // a queue's fallback
)

// placed is a compiled action and where it is written.
type placed struct {
	Action
	at   pos
	path string
}

// action compiles the action v at path, written in place p; an absent v is
// hang up. It reports problems and returns false after one.
func (c *compiler) action(v val[string], path string, p place) (placed, bool) {
	out := placed{at: v.At, path: path}
	if !v.Present {
		return out, true
	}
	if !v.Set {
		return out, false
	}
	words := strings.Fields(v.V)
	if len(words) == 0 {
		c.d.Errorf(v.At, path, "empty action; want %s", actionGrammar)
		return out, false
	}
	kind, ok := verb(words[0])
	if !ok {
		c.d.Errorf(v.At, path, "unknown action %q; want %s", yamlpos.Clip(v.V), actionGrammar)
		return out, false
	}
	out.Kind = kind
	if !c.allowed(v, path, p, kind) {
		return out, false
	}
	switch kind {
	case Hangup, Repeat, Back:
		if len(words) > 1 {
			c.d.Errorf(v.At, path, "%q: %s takes nothing after it", yamlpos.Clip(v.V), words[0])
			return out, false
		}
		return out, true
	default:
	}
	arg := strings.Join(words[1:], " ")
	switch {
	case len(words) == 1:
		c.d.Errorf(v.At, path, "%q needs %s after it", words[0], argument(kind))
		return out, false
	case len(words) > 2 && kind != OutsideAction:
		c.d.Errorf(v.At, path, "%q: %s takes one name, got %q", yamlpos.Clip(v.V), words[0], yamlpos.Clip(arg))
		return out, false
	}
	switch kind {
	case GoMenu:
		out.Menu, ok = lookup(c, v, path, "menu", c.menus, arg)
	case RingGroupAction:
		out.RingGroup, ok = lookup(c, v, path, "ring group", c.ringGroups, arg)
	case QueueAction:
		out.Queue, ok = lookup(c, v, path, "queue", c.queues, arg)
	case VoicemailAction:
		out.Voicemail, ok = lookup(c, v, path, "voicemail box", c.voicemail, arg)
	case ExtensionAction:
		out.Target, ok = c.extension(v, path, arg)
	case OutsideAction:
		out.Target, ok = c.outside(v, path, arg)
	default:
	}
	return out, ok
}

// argument says what follows verb kind, for messages.
func argument(kind ActionKind) string {
	switch kind {
	case GoMenu:
		return "a menu name"
	case RingGroupAction:
		return "a ring group name"
	case QueueAction:
		return "a queue name"
	case VoicemailAction:
		return "a voicemail box name"
	case ExtensionAction:
		return "an extension"
	case OutsideAction:
		return "a phone number"
	default:
		return "nothing"
	}
}

// allowed reports whether kind may be written in place p.
func (c *compiler) allowed(v val[string], path string, p place, kind ActionKind) bool {
	switch {
	case p == inFallback && kind != VoicemailAction && kind != QueueAction && kind != Hangup:
		c.d.Errorf(v.At, path, "a queue falls back to voicemail NAME, queue NAME or hangup; got %q", yamlpos.Clip(v.V))
		return false
	case p != inMenu && (kind == Repeat || kind == Back):
		c.d.Errorf(v.At, path, "%s only works in a menu (its options, no_input and on_invalid)", kind)
		return false
	}
	return true
}

// lookup finds the part named name among known, reporting an unknown name
// with the names there are.
func lookup[T any](c *compiler, v val[string], path, what string, known map[string]T, name string) (T, bool) {
	if t, ok := known[name]; ok {
		return t, true
	}
	var zero T
	c.d.Errorf(v.At, path, "no %s named %q (%s)", what, yamlpos.Clip(name), knownNames(what, slices.Collect(maps.Keys(known))))
	return zero, false
}

// knownNames lists names for "no X named Y (known: ...)" messages.
func knownNames(what string, names []string) string {
	if len(names) == 0 {
		return "there are none: define one under " + sectionOf(what)
	}
	slices.Sort(names)
	const most = 12
	if len(names) > most {
		return fmt.Sprintf("known: %s, and %d more", strings.Join(names[:most], ", "), len(names)-most)
	}
	return "known: " + strings.Join(names, ", ")
}

// sectionOf is the section that defines what.
func sectionOf(what string) string {
	switch what {
	case "menu":
		return "menus"
	case "ring group":
		return "ring_groups"
	case "queue":
		return "queues"
	case "voicemail box":
		return "voicemail"
	case "hours":
		return "hours"
	}
	return what
}

// extension checks that s is an agent's extension.
func (c *compiler) extension(v val[string], path, s string) (string, bool) {
	if _, ok := c.extensions[s]; ok {
		return s, true
	}
	c.d.Errorf(v.At, path, "no agent has extension %q (%s)", yamlpos.Clip(s), c.extensionList())
	return "", false
}

// extensionList lists the agents' extensions for messages.
func (c *compiler) extensionList() string {
	if len(c.extensions) == 0 {
		return "there are no agents"
	}
	exts := slices.Sorted(maps.Keys(c.extensions))
	return "extensions: " + strings.Join(exts, ", ")
}

// outside normalises an outside number to E.164.
func (c *compiler) outside(v val[string], path, s string) (string, bool) {
	n, err := c.normalize(s)
	if err != nil {
		c.d.Errorf(v.At, path, "outside number %q: %v", yamlpos.Clip(s), err)
		return "", false
	}
	return n, true
}
