package yamlpos

import (
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// decode parses src and decodes its top-level mapping with fields,
// returning the problems as text.
func decode(t *testing.T, src string, fields func(d *Decoder) []Field) string {
	t.Helper()
	d := &Decoder{File: "t.yaml"}
	if f := d.Parse([]byte(src)); f != nil {
		if body, ok := d.Document(f, "empty"); ok {
			d.Mapping(body, "", fields(d))
		}
	}
	if errs := d.Errors(); errs != nil {
		return errs.Error()
	}
	return ""
}

func TestValues(t *testing.T) {
	var (
		name  Val[string]
		n     Val[int]
		dur   Val[time.Duration]
		on    Val[bool]
		list  Val[[]Val[string]]
		inner Section
		deep  Val[string]
	)
	src := "name: 1001\nn: \"42\"\ndur: 90\non: true\nlist: [a, 2]\ninner:\n  deep: x\n"
	got := decode(t, src, func(d *Decoder) []Field {
		return []Field{
			{Name: "name", Decode: d.Text(&name)},
			{Name: "n", Decode: d.Integer(&n)},
			{Name: "dur", Decode: d.Duration(&dur)},
			{Name: "on", Decode: d.Boolean(&on)},
			{Name: "list", Decode: d.TextList(&list)},
			{Name: "inner", Decode: d.Section(&inner, []Field{{Name: "deep", Decode: d.Text(&deep)}})},
		}
	})
	if got != "" {
		t.Fatal(got)
	}
	if name.V != "1001" || name.Key != (Pos{1, 1}) || name.At != (Pos{1, 7}) || !name.Set {
		t.Errorf("name %+v", name)
	}
	if n.V != 42 || dur.V != 90*time.Second || !on.V {
		t.Errorf("n %v, dur %v, on %v", n.V, dur.V, on.V)
	}
	if len(list.V) != 2 || list.V[1].V != "2" || list.V[1].At != (Pos{5, 11}) {
		t.Errorf("list %+v", list.V)
	}
	if !inner.Present || inner.Key != (Pos{6, 1}) || deep.V != "x" || deep.At != (Pos{7, 9}) {
		t.Errorf("inner %+v, deep %+v", inner, deep)
	}
}

func TestProblems(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{
			"unknown and duplicate keys", "a: 1\nz: 2\na: 3\n",
			"t.yaml:2:1: unknown key \"z\" at the top level (known: a, d, i, b)\nt.yaml:3:1: duplicate key \"a\" at the top level (first at line 1)",
		},
		{"wrong types", "a: [1]\n", "t.yaml:1:4: a: want a string, got a list"},
		{"missing value", "a:\n", "t.yaml:1:1: a: missing value"},
		{"bad duration", "d: soon\n", "t.yaml:1:4: d: want a duration such as \"30s\" or \"1m30s\", or a whole number of seconds, got \"soon\""},
		{"bad integer", "i: 1.5\n", "t.yaml:1:4: i: want a whole number, got the number 1.5"},
		{"bad boolean", "b: yes please\n", "t.yaml:1:4: b: want true or false, got the string \"yes please\""},
		{
			"anchor and alias", "a: &x 1\nb: *x\n",
			"t.yaml:1:4: a: anchors (&name) are not supported; write the value out\nt.yaml:2:4: b: aliases (*name) are not supported; write the value out",
		},
		{"tab", "a:\n\tb: 1\n", "t.yaml:2:1: yaml: tab characters cannot indent YAML; use spaces"},
		{"second document", "a: x\n---\na: y\n", "t.yaml:2:1: a second YAML document is not supported; remove the \"---\" line and what follows"},
		{"empty", "# nothing\n", "t.yaml:1:1: empty"},
		{"too deep", strings.Repeat("[", 70) + strings.Repeat("]", 70) + "\n", "t.yaml:1:65: yaml: nested more than 64 levels deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Val[string]
			var d2 Val[time.Duration]
			var i Val[int]
			var b Val[bool]
			got := decode(t, tt.src, func(d *Decoder) []Field {
				return []Field{
					{Name: "a", Decode: d.Text(&s)},
					{Name: "d", Decode: d.Duration(&d2)},
					{Name: "i", Decode: d.Integer(&i)},
					{Name: "b", Decode: d.Boolean(&b)},
				}
			})
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestEntriesAndList(t *testing.T) {
	d := &Decoder{File: "t.yaml"}
	f := d.Parse([]byte("m:\n  x: 1\n  y: 2\nl:\n  - {k: v}\n  - 3\n"))
	body, _ := d.Document(f, "empty")
	var names, entries []string
	d.Mapping(body, "", []Field{
		{Name: "m", Decode: func(path string, _, value ast.Node) {
			d.Entries(value, path, "a mapping", func(name string, kp Pos, _, _ ast.Node) {
				names = append(names, name)
			})
		}},
		{Name: "l", Decode: func(path string, _, value ast.Node) {
			d.List(path, value, "things", "a thing", func(p string, at Pos, _ ast.Node) {
				entries = append(entries, p)
			})
		}},
	})
	if strings.Join(names, ",") != "x,y" || strings.Join(entries, ",") != "l[0]" {
		t.Errorf("names %v, entries %v", names, entries)
	}
	if got := d.Errors().Error(); got != "t.yaml:6:5: l[1]: want a thing, got the integer 3" {
		t.Errorf("got %s", got)
	}
}

func TestReport(t *testing.T) {
	var paths []string
	d := &Decoder{File: "t.yaml", Report: func(e Error, path string) { paths = append(paths, path+"|"+e.Error()) }}
	d.Errorf(Pos{2, 3}, "sip.realm", "bad %s", "realm")
	d.Add(Pos{1, 1}, "", "raw")
	if d.Errors() != nil {
		t.Error("Report set, yet the Decoder kept problems")
	}
	want := "sip.realm|t.yaml:2:3: sip.realm: bad realm,|t.yaml:1:1: raw"
	if strings.Join(paths, ",") != want {
		t.Errorf("got %q", paths)
	}
}

func TestErrorsSort(t *testing.T) {
	errs := Errors{{Line: 2, Col: 1, Msg: "c"}, {Line: 1, Col: 5, Msg: "b"}, {Line: 1, Col: 5, Msg: "b2"}, {Line: 1, Col: 1, Msg: "a"}}
	errs.Sort()
	var got []string
	for _, e := range errs {
		got = append(got, e.Msg)
	}
	if strings.Join(got, " ") != "a b b2 c" {
		t.Errorf("got %v", got)
	}
}

func TestHelpers(t *testing.T) {
	if got := Clip(strings.Repeat("é", 45)); got != strings.Repeat("é", 40)+"..." {
		t.Errorf("Clip: %q", got)
	}
	for in, want := range map[string]string{"90s": "1m30s", "2m": "2m", "1h": "1h", "90m": "1h30m"} {
		v, err := ParseDuration(in)
		if err != nil || FormatDuration(v) != want {
			t.Errorf("%s: %v %v, want %s", in, FormatDuration(v), err, want)
		}
	}
	if _, err := ParseDuration("99999999999999999999"); err == nil {
		t.Error("overflow accepted")
	}
	if Join("", "a") != "a" || Join("a", "b") != "a.b" || Where("") != "at the top level" || Where("x") != "in x" {
		t.Error("Join or Where")
	}
}
