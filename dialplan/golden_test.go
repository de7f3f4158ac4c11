package dialplan

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestGolden compiles each testdata/NAME.yaml and compares the result with
// testdata/NAME.golden: Describe's tree for a valid file (named ok-*), every
// problem, one per line, for a broken one. Files named *no-tts* compile
// without text-to-speech.
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
			opts := testOptions("testdata")
			if strings.Contains(name, "no-tts") {
				opts.Speak = nil
			}
			got := compileText(t, name, data, opts, strings.HasPrefix(name, "ok-"))
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", got)
		})
	}
}

// compileText compiles data and returns Describe's output when valid is
// set, the problems otherwise.
func compileText(t *testing.T, name string, data []byte, opts Options, valid bool) string {
	t.Helper()
	p, err := Parse(name, data, opts)
	if valid {
		if err != nil {
			t.Fatalf("Parse:\n%v", err)
		}
		var b strings.Builder
		if err := p.Describe(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse: got %v, want Errors", err)
	}
	for _, e := range errs {
		checkMessage(t, e)
	}
	return err.Error() + "\n"
}

// checkGolden compares got with the golden file, or rewrites it with
// -update.
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./dialplan -update)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s\ngot:\n%swant:\n%s", golden, got, want)
	}
}
