package yamlpos

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem at a position in a YAML file.
type Error struct {
	// File is the name the file was loaded under.
	File string
	// Line and Col are 1-based; Col counts characters, not bytes.
	Line, Col int
	// Msg says what is wrong, starting with the key path, for example
	// `rtp.ports: low port 20000 is above high port 10000`.
	Msg string
}

// Error formats e as "FILE:LINE:COL: MSG", the form editors and CI jump to.
func (e Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors is every problem found, sorted by line and column.
type Errors []Error

// Error returns one problem per line.
func (e Errors) Error() string {
	var b strings.Builder
	for i, err := range e {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

// Sort sorts e by line and column, keeping the order of problems at the
// same position.
func (e Errors) Sort() {
	slices.SortStableFunc(e, func(a, b Error) int {
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Col, b.Col)
	})
}
