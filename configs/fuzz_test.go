package configs

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, that every problem has a
// 1-based position, and that the packages' Validate methods never find what
// our own checks missed.
func FuzzParse(f *testing.F) {
	f.Add(SampleYAML())
	for _, file := range testdataConfigs(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	base := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		r := parse("fuzz.yaml", data, base)
		for _, p := range r.missed() {
			t.Errorf("package Validate found what our checks missed: %v", p.Error)
		}
		cfg, err := Parse("fuzz.yaml", data, base)
		var errs Errors
		switch {
		case err == nil && cfg == nil:
			t.Fatal("no config and no error")
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
	})
}
