package yamlpos

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// DecodeFunc decodes the value of one key; path is the key's full path,
// for example "sip.realm".
type DecodeFunc func(path string, key, value ast.Node)

// Field is one known key of a mapping.
type Field struct {
	Name   string
	Decode DecodeFunc
}

// Mapping decodes the mapping n at path with fields, reporting unknown and
// duplicate keys. null is an empty mapping.
func (d *Decoder) Mapping(n ast.Node, path string, fields []Field) {
	n, ok := d.Unwrap(n, path)
	if !ok || IsNull(n) {
		return
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.Errorf(NodePos(n), path, "want a mapping, got %s", Describe(n))
		return
	}
	d.Keys(m, path, func(name string, kp Pos, keyNode, value ast.Node) {
		f, known := lookup(fields, name)
		if !known {
			d.Add(kp, path, fmt.Sprintf("unknown key %q %s (known: %s)", Clip(name), Where(path), fieldNames(fields)))
			return
		}
		f.Decode(Join(path, name), keyNode, value)
	})
}

// Keys calls each for every plain key of m, once: it reports anchors,
// aliases and tags on keys, keys that are not plain scalars, and duplicates.
func (d *Decoder) Keys(m *ast.MappingNode, path string, each func(name string, kp Pos, keyNode, value ast.Node)) {
	seen := make(map[string]Pos, len(m.Values))
	for _, kv := range m.Values {
		if kv == nil {
			continue
		}
		keyNode, ok := d.Unwrap(kv.Key, path)
		if !ok {
			continue
		}
		name, ok := KeyText(keyNode)
		if !ok {
			if _, merge := keyNode.(*ast.MergeKeyNode); merge {
				d.Errorf(NodePos(keyNode), path, "merge keys (<<) are not supported; write the keys out")
			} else {
				d.Errorf(NodePos(keyNode), path, "want a plain key, got %s", Describe(keyNode))
			}
			continue
		}
		kp := NodePos(keyNode)
		if first, dup := seen[name]; dup {
			d.Add(kp, path, fmt.Sprintf("duplicate key %q %s (first at line %d)", Clip(name), Where(path), first.Line))
			continue
		}
		seen[name] = kp
		each(name, kp, keyNode, kv.Value)
	}
}

// Entries decodes a mapping whose keys are names the file chooses (numbers,
// menus...), calling each for every key once; null is an empty mapping.
// want describes the mapping in the message when the value is something
// else, as in "a mapping of numbers to extensions".
func (d *Decoder) Entries(value ast.Node, path, want string, each func(name string, kp Pos, keyNode, value ast.Node)) {
	n, ok := d.Unwrap(value, path)
	if !ok || IsNull(n) {
		return
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.Errorf(NodePos(n), path, "want %s, got %s", want, Describe(n))
		return
	}
	d.Keys(m, path, each)
}

// Where says where a mapping at path is, for messages about its keys.
func Where(path string) string {
	if path == "" {
		return "at the top level"
	}
	return "in " + path
}

func lookup(fields []Field, name string) (Field, bool) {
	for _, f := range fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

func fieldNames(fields []Field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// Join returns the path of key name in the mapping at path.
func Join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Section decodes a nested mapping such as sip or sip.tls, recording in s
// that it is present and where its key is.
func (d *Decoder) Section(s *Section, fields []Field) DecodeFunc {
	return func(path string, key, value ast.Node) {
		s.Present, s.Key = true, NodePos(key)
		d.Mapping(value, path, fields)
	}
}

// List decodes a list of mappings at path, calling each with the path and
// position of every entry that is a mapping; null is an empty list. plural
// names the list and one an entry, in messages.
func (d *Decoder) List(path string, value ast.Node, plural, one string, each func(path string, at Pos, entry ast.Node)) {
	n, ok := d.Unwrap(value, path)
	if !ok || IsNull(n) {
		return
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.Errorf(NodePos(n), path, "want a list of %s, got %s", plural, Describe(n))
		return
	}
	for i, entry := range seq.Values {
		p, at := fmt.Sprintf("%s[%d]", path, i), EntryPos(seq, i)
		e, ok := d.Unwrap(entry, p)
		if !ok {
			continue
		}
		if _, isMap := e.(*ast.MappingNode); !isMap {
			if IsNull(e) {
				d.Errorf(at, p, "want %s, got nothing", one)
			} else {
				d.Errorf(NodePos(e), p, "want %s, got %s", one, Describe(e))
			}
			continue
		}
		each(p, NodePos(e), e)
	}
}

// EntryPos locates entry i of seq, falling back to the entry's value.
func EntryPos(seq *ast.SequenceNode, i int) Pos {
	if i < len(seq.Entries) && seq.Entries[i] != nil && seq.Entries[i].Start != nil {
		return TokenPos(seq.Entries[i].Start)
	}
	if v := seq.Values[i]; v != nil && !IsNull(v) {
		return NodePos(v)
	}
	return NodePos(seq)
}
