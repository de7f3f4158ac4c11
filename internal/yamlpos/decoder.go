package yamlpos

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Pos is a 1-based line and column (in characters) in a YAML file.
type Pos struct{ Line, Col int }

// Val is one decoded value and where it came from.
type Val[T any] struct {
	V       T
	Present bool // the key appears in the file
	Set     bool // ... and its value decoded into V
	Key     Pos  // where the key is
	At      Pos  // where the value is; Key when there is no value
}

// Section is a mapping-valued key, such as sip or sip.tls.
type Section struct {
	Present bool
	Key     Pos
}

// Decoder collects problems while it walks a YAML AST. The zero value
// collects them for Errors; set File to name the file in them.
type Decoder struct {
	// File is the name of the file, in every Error.
	File string
	// Report, when set, receives every problem instead of the Decoder's
	// list; path is the key path the problem concerns ("" for the file).
	Report func(e Error, path string)

	errs Errors
}

// Errorf records a problem at p; a non-empty path prefixes the message.
func (d *Decoder) Errorf(p Pos, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	d.Add(p, path, msg)
}

// Add records the problem msg, as it is, at p, concerning path.
func (d *Decoder) Add(p Pos, path, msg string) {
	e := Error{File: d.File, Line: p.Line, Col: p.Col, Msg: msg}
	if d.Report != nil {
		d.Report(e, path)
		return
	}
	d.errs = append(d.errs, e)
}

// Errors returns the problems recorded so far (without Report), sorted by
// position; nil when there are none.
func (d *Decoder) Errors() Errors {
	if len(d.errs) == 0 {
		return nil
	}
	errs := slices.Clone(d.errs)
	errs.Sort()
	return errs
}

// Limits on the token stream. The parser recurses, and slows down
// quadratically, on nesting; no config comes near these.
const (
	maxNesting   = 64 // flow collections inside each other, or "- - -" and "!!tag" on one line
	maxDocuments = 8  // "---" markers
)

// Parse parses data into an AST, turning a syntax error into a problem; it
// returns nil after a problem.
func (d *Decoder) Parse(data []byte) *ast.File {
	tokens := lexer.Tokenize(string(data))
	if tk, msg := unreasonable(tokens); tk != nil {
		d.Errorf(TokenPos(tk), "", "yaml: %s", msg)
		return nil
	}
	// Duplicate keys are reported by Keys, which, unlike the parser,
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
		d.Errorf(Pos{1, 1}, "", "yaml: %v", err)
		return nil
	}
	p := TokenPos(perr.GetToken())
	msg := perr.GetMessage()
	if isTab(data, p) {
		msg = "tab characters cannot indent YAML; use spaces"
	}
	d.Errorf(p, "", "yaml: %s", msg)
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
func isTab(data []byte, p Pos) bool {
	line := 1
	for line < p.Line {
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
		if col == p.Col {
			return r == '\t'
		}
		data = data[n:]
	}
	return false
}

// Document returns the body of the single document of f, beneath any
// anchor or tag (which are reported). It reports an empty file with the
// message empty, and every document after the first; it returns false when
// there is nothing to decode.
func (d *Decoder) Document(f *ast.File, empty string) (ast.Node, bool) {
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
		d.Errorf(Pos{1, 1}, "", "%s", empty)
		return nil, false
	}
	for _, doc := range docs[1:] {
		p := NodePos(doc.Body)
		if doc.Start != nil {
			p = TokenPos(doc.Start)
		}
		d.Errorf(p, "", "a second YAML document is not supported; remove the \"---\" line and what follows")
	}
	return d.Unwrap(docs[0].Body, "")
}

// Unwrap reports anchors, aliases and tags, which a config does not need,
// and returns the node beneath anchors and tags so that it is checked too.
// It reports false for an alias, whose value is elsewhere.
func (d *Decoder) Unwrap(n ast.Node, path string) (ast.Node, bool) {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			if v == nil {
				return nil, true
			}
			d.Errorf(NodePos(v), path, "anchors (&name) are not supported; write the value out")
			n = v.Value
		case *ast.AliasNode:
			if v == nil {
				return nil, true
			}
			d.Errorf(NodePos(v), path, "aliases (*name) are not supported; write the value out")
			return nil, false
		case *ast.TagNode:
			if v == nil {
				return nil, true
			}
			d.Errorf(NodePos(v), path, "tags (%s) are not supported; remove the tag", Clip(tokenValue(v.Start)))
			n = v.Value
		default:
			return n, true
		}
	}
}
