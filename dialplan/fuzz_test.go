package dialplan

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse checks that no input makes Parse panic, that every problem has
// a 1-based position, and that whatever Parse accepts, Describe renders and
// Route routes.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	files = append(files, filepath.Join("..", "configs", "dialplan.yaml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	opts := testOptions("testdata")
	// No I/O: the fuzzer may name any path, /dev/zero included.
	opts.LoadAudio = func(string) ([]int16, error) { return make([]int16, 8), nil }
	now := time.Date(2026, time.May, 4, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data, opts)
		var errs Errors
		switch {
		case err == nil && p == nil:
			t.Fatal("no plan and no error")
		case err != nil && !errors.As(err, &errs):
			t.Fatalf("error is not Errors: %v", err)
		case err != nil && len(errs) == 0:
			t.Fatal("empty Errors")
		}
		for _, e := range errs {
			if e.Line < 1 || e.Col < 1 {
				t.Errorf("%v: position must be 1-based", e)
			}
		}
		if p == nil {
			return
		}
		if err := p.Describe(io.Discard); err != nil {
			t.Errorf("Describe: %v", err)
		}
		for _, n := range p.Numbers() {
			if r, ok := p.Route(n.Number, now); !ok || r.Number != n {
				t.Errorf("number %q does not route to itself", n.Number)
			}
		}
	})
}
