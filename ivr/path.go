package ivr

import (
	"slices"
	"strings"
)

// Path is the caller's way through nested menus: the names of the options
// chosen, outermost first, such as Path{"Support", "Billing"}. Call
// records and tickets show it as its String.
//
// A Path is a slice: Push and Pop change it in place. Clone it before
// handing it to another goroutine or keeping it while it changes.
type Path []string

// pathSep separates the steps of a Path in its String.
const pathSep = " > "

// String returns the steps joined by " > ": "Support > Billing"; "" for
// an empty Path.
func (p Path) String() string { return strings.Join(p, pathSep) }

// Push adds a step at the end: the caller chose option name.
func (p *Path) Push(name string) { *p = append(*p, name) }

// Pop removes the last step and returns it, as when the caller goes back a
// menu; "" when the Path is empty.
func (p *Path) Pop() string {
	n := len(*p)
	if n == 0 {
		return ""
	}
	last := (*p)[n-1]
	*p = (*p)[:n-1]
	return last
}

// Clone returns a copy of p that shares nothing with it (nil for nil).
func (p Path) Clone() Path { return slices.Clone(p) }
