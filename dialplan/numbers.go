package dialplan

import (
	"errors"
	"strings"

	"github.com/ringdesk/ringdesk/internal/yamlpos"
)

// compileNumbers compiles the numbers into p, in file order.
func (c *compiler) compileNumbers(raw *rawPlan, defaults Messages, p *Plan) {
	if len(raw.numberList) == 0 {
		at := raw.top
		if raw.numbers.Present {
			at = raw.numbers.Key
		}
		c.d.Errorf(at, "numbers", "at least one number is required: a DID such as \"+351 21 000 0000\" or an internal number such as \"500\"")
	}
	first := make(map[string]*rawNumber, len(raw.numberList))
	for _, r := range raw.numberList {
		n := &Number{Written: r.written}
		key, ok := c.numberKey(r)
		if ok {
			switch f, dup := first[key]; {
			case dup && key == r.written:
				c.d.Errorf(r.at, "numbers", "%q is already listed as %q (line %d)", key, yamlpos.Clip(f.written), f.at.Line)
			case dup:
				c.d.Errorf(r.at, "numbers", "%q is %s, which is already listed as %q (line %d)", yamlpos.Clip(r.written), key, yamlpos.Clip(f.written), f.at.Line)
			default:
				first[key] = r
				n.Number = key
				p.numbers[key] = n
				p.list = append(p.list, n)
			}
		}
		n.Description = c.text(r.description, r.path, "description")
		n.Department = c.text(r.department, r.path, "department")
		if v := r.hours; v.Set {
			n.Hours, _ = lookup(c, v, r.path+".hours", "hours", c.hours, strings.TrimSpace(v.V))
		}
		voice := c.voice
		if v := r.messages.voice; v.Set {
			voice = c.checkVoice(v, r.messages.path+".voice")
		}
		n.Messages = c.messages(&r.messages, defaults, voice)
		if !r.action.Present {
			c.d.Errorf(r.at, r.path, "action is required: what callers get, such as \"menu main\" or \"queue support\"")
		}
		open, _ := c.action(r.action, r.path+".action", inNumber)
		closed, _ := c.action(r.afterHours, r.path+".after_hours", inNumber)
		n.Open, n.Closed = open.Action, closed.Action
		c.roots = append(c.roots, open, closed)
	}
}

// numberKey returns the number routed on for a key of numbers: an internal
// number (up to MaxInternalDigits digits) as written, anything else
// normalised to E.164.
func (c *compiler) numberKey(r *rawNumber) (string, bool) {
	s := r.written
	if isDigits(s) && len(s) <= MaxInternalDigits {
		if id, ok := c.extensions[s]; ok {
			c.d.Errorf(r.at, "numbers", "%q is the extension of agent %s; an internal number must not be an extension", s, id)
			return "", false
		}
		return s, true
	}
	n, err := c.normalize(s)
	if err != nil {
		c.d.Errorf(r.at, "numbers", "%q: %v", yamlpos.Clip(s), err)
		return "", false
	}
	return n, true
}

// normalize turns a phone number as written into E.164 with
// Options.Normalize; without it, it removes spaces and wants digits after
// an optional +.
func (c *compiler) normalize(s string) (string, error) {
	if c.opts.Normalize != nil {
		n, err := c.opts.Normalize(s)
		if err != nil {
			return "", err
		}
		if n == "" {
			return "", errors.New("not a phone number")
		}
		return n, nil
	}
	n := strings.Join(strings.Fields(s), "")
	if !isDigits(strings.TrimPrefix(n, "+")) || len(n) > 16 {
		return "", errors.New("not a phone number: want digits, optionally after a +")
	}
	return n, nil
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
