package yamlpos

import (
	"fmt"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// IsNull reports whether n is absent or null (~, null, or nothing after
// the colon).
func IsNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// ScalarText returns a scalar's value: the decoded string for strings, and
// the text as written for numbers and booleans.
func ScalarText(n ast.Node) (string, bool) {
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

// KeyText returns the name of a plain mapping key.
func KeyText(n ast.Node) (string, bool) {
	switch n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return ScalarText(n)
	case *ast.NullNode:
		return tokenValue(n.GetToken()), true
	}
	return "", false
}

// Describe names what n is, for "want X, got Y" messages.
func Describe(n ast.Node) string {
	switch n.(type) {
	case nil, *ast.NullNode:
		return "null"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		s, _ := ScalarText(n)
		return fmt.Sprintf("the string %q", Clip(s))
	case *ast.IntegerNode:
		return "the integer " + Clip(tokenValue(n.GetToken()))
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "the number " + Clip(tokenValue(n.GetToken()))
	case *ast.BoolNode:
		return Clip(tokenValue(n.GetToken()))
	case *ast.MappingKeyNode:
		return "a complex key"
	}
	return "a " + n.Type().YAMLName()
}

// Clip shortens s for quoting in a message.
func Clip(s string) string {
	const maxLen = 40
	if utf8.RuneCountInString(s) <= maxLen {
		return s
	}
	r := []rune(s)
	return string(r[:maxLen]) + "..."
}

func tokenValue(tk *token.Token) string {
	if tk == nil {
		return ""
	}
	return tk.Value
}

// TokenPos returns where tk is; 1:1 when it does not say.
func TokenPos(tk *token.Token) Pos {
	if tk == nil || tk.Position == nil {
		return Pos{1, 1}
	}
	return Pos{max(tk.Position.Line, 1), max(tk.Position.Column, 1)}
}

// NodePos returns where n starts in the file.
func NodePos(n ast.Node) Pos {
	switch v := n.(type) {
	case nil:
		return Pos{1, 1}
	case *ast.MappingNode:
		if v == nil {
			return Pos{1, 1}
		}
		// A block mapping's token is its first ':'; point at its first key.
		if !v.IsFlowStyle && len(v.Values) > 0 && v.Values[0] != nil {
			return NodePos(v.Values[0].Key)
		}
		return TokenPos(v.Start)
	case *ast.MappingValueNode:
		if v == nil {
			return Pos{1, 1}
		}
		return NodePos(v.Key)
	case *ast.LiteralNode:
		if v == nil {
			return Pos{1, 1}
		}
		return TokenPos(v.Start)
	}
	return TokenPos(n.GetToken())
}
