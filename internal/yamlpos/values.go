package yamlpos

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// Text decodes a scalar as a string. Plain scalars that YAML would read as
// numbers or booleans (extension: 1001, sip_password: 12345) are taken as
// written.
func (d *Decoder) Text(dst *Val[string]) DecodeFunc {
	return func(path string, key, value ast.Node) {
		dst.Present, dst.Key, dst.At = true, NodePos(key), NodePos(key)
		dst.V, dst.At, dst.Set = d.Scalar(value, dst.Key, path, "a string")
	}
}

// Scalar returns the text of the scalar n and where it is; at locates n
// when it is null. Anything but a scalar is reported as not want.
func (d *Decoder) Scalar(n ast.Node, at Pos, path, want string) (string, Pos, bool) {
	n, ok := d.Unwrap(n, path)
	if !ok {
		return "", at, false
	}
	if IsNull(n) {
		d.Errorf(at, path, "missing value")
		return "", at, false
	}
	s, ok := ScalarText(n)
	if !ok {
		d.Errorf(NodePos(n), path, "want %s, got %s", want, Describe(n))
		return "", at, false
	}
	return s, NodePos(n), true
}

// TextList decodes a list of scalars; null is an empty list.
func (d *Decoder) TextList(dst *Val[[]Val[string]]) DecodeFunc {
	return func(path string, key, value ast.Node) {
		dst.Present, dst.Key, dst.At = true, NodePos(key), NodePos(key)
		n, ok := d.Unwrap(value, path)
		if !ok {
			return
		}
		if IsNull(n) {
			dst.Set = true
			return
		}
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			d.Errorf(NodePos(n), path, "want a list of strings, got %s", Describe(n))
			return
		}
		dst.At, dst.Set = NodePos(seq), true
		for i, e := range seq.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			var item Val[string]
			item.Present, item.Key = true, EntryPos(seq, i)
			item.V, item.At, item.Set = d.Scalar(e, item.Key, p, "a string")
			dst.V = append(dst.V, item)
		}
	}
}

// DurationHint says how to write a duration, for messages.
const DurationHint = `a duration such as "30s" or "1m30s", or a whole number of seconds`

// Duration decodes a Go duration string or an integer number of seconds.
func (d *Decoder) Duration(dst *Val[time.Duration]) DecodeFunc {
	return func(path string, key, value ast.Node) {
		dst.Present, dst.Key, dst.At = true, NodePos(key), NodePos(key)
		s, at, ok := d.number(value, dst.Key, path, DurationHint)
		if !ok {
			return
		}
		dst.At = at
		v, err := ParseDuration(s)
		if err != nil {
			d.Errorf(dst.At, path, "%v", err)
			return
		}
		dst.V, dst.Set = v, true
	}
}

// number returns the text of a number written plainly or quoted (the
// value of a duration or integer key), and where it is; at locates a null
// value. Anything else is reported as not want.
func (d *Decoder) number(n ast.Node, at Pos, path, want string) (string, Pos, bool) {
	n, ok := d.Unwrap(n, path)
	if !ok {
		return "", at, false
	}
	if IsNull(n) {
		d.Errorf(at, path, "missing value")
		return "", at, false
	}
	switch n.(type) {
	case *ast.StringNode, *ast.IntegerNode:
	default:
		d.Errorf(NodePos(n), path, "want %s, got %s", want, Describe(n))
		return "", at, false
	}
	s, _ := ScalarText(n)
	return s, NodePos(n), true
}

// ParseDuration parses "1m30s" or a whole number of seconds.
func ParseDuration(s string) (time.Duration, error) {
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
		return 0, fmt.Errorf("want %s, got %q", DurationHint, Clip(s))
	}
	return v, nil
}

// FormatDuration prints 1h rather than 1h0m0s, and 2m rather than 2m0s.
func FormatDuration(v time.Duration) string {
	s := v.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Integer decodes a whole number, written plainly or quoted.
func (d *Decoder) Integer(dst *Val[int]) DecodeFunc {
	return func(path string, key, value ast.Node) {
		dst.Present, dst.Key, dst.At = true, NodePos(key), NodePos(key)
		s, at, ok := d.number(value, dst.Key, path, "a whole number")
		if !ok {
			return
		}
		dst.At = at
		v, err := strconv.Atoi(strings.TrimSpace(s))
		switch {
		case errors.Is(err, strconv.ErrRange):
			d.Errorf(dst.At, path, "%s is out of range", Clip(s))
			return
		case err != nil:
			d.Errorf(dst.At, path, "want a whole number, got %q", Clip(s))
			return
		}
		dst.V, dst.Set = v, true
	}
}

// Boolean decodes true or false.
func (d *Decoder) Boolean(dst *Val[bool]) DecodeFunc {
	return func(path string, key, value ast.Node) {
		dst.Present, dst.Key, dst.At = true, NodePos(key), NodePos(key)
		n, ok := d.Unwrap(value, path)
		if !ok {
			return
		}
		if IsNull(n) {
			d.Errorf(dst.Key, path, "missing value")
			return
		}
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.Errorf(NodePos(n), path, "want true or false, got %s", Describe(n))
			return
		}
		dst.V, dst.At, dst.Set = b.Value, NodePos(n), true
	}
}
