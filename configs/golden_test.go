package configs

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestGolden parses each broken testdata/NAME.yaml and compares every
// reported problem with testdata/NAME.golden, one per line.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.yaml")
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(name, data, "testdata")
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse: got %v, want Errors", err)
			}
			for _, e := range errs {
				checkMessage(t, e)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if werr := os.WriteFile(golden, []byte(got), 0o644); werr != nil {
					t.Fatal(werr)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./configs -update)", err)
			}
			if got != string(want) {
				t.Errorf("problems differ from %s\ngot:\n%swant:\n%s", golden, got, want)
			}
		})
	}
}

// checkMessage checks the shape every Error must have.
func checkMessage(t *testing.T, e Error) {
	t.Helper()
	if e.Line < 1 || e.Col < 1 {
		t.Errorf("%v: position must be 1-based", e)
	}
	if e.Msg == "" || strings.Contains(e.Msg, "\n") {
		t.Errorf("%q: want one non-empty line", e.Msg)
	}
	if strings.HasSuffix(e.Msg, ".") || strings.HasSuffix(e.Msg, "!") {
		t.Errorf("%q: no trailing punctuation", e.Msg)
	}
}
