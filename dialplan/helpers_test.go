package dialplan

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// testAgents are the agents of the tests: ID -> extension.
func testAgents() map[string]string {
	return map[string]string{"alice": "1001", "bob": "1002", "carol": "1003"}
}

// testOptions returns Options with fakes for every dependency: WAV files
// read from disk (fakeLoadAudio), speech that is silence (fakeSpeak), and
// Portuguese numbering (fakeNormalize).
func testOptions(baseDir string) Options {
	return Options{
		BaseDir:   baseDir,
		Agents:    testAgents(),
		Normalize: fakeNormalize,
		LoadAudio: fakeLoadAudio,
		Speak:     fakeSpeak,
	}
}

// fakeLoadAudio reads the file and wants a RIFF/WAVE header; the samples
// are the bytes after the 44-byte header, as silence.
func fakeLoadAudio(path string) ([]int16, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < 44 || !bytes.HasPrefix(data, []byte("RIFF")) || string(data[8:12]) != "WAVE" {
		return nil, errors.New("not a WAV file")
	}
	return make([]int16, (len(data)-44)/2), nil
}

// fakeSpeak returns 80 samples (10 ms) of silence per character.
func fakeSpeak(text, voice string) ([]int16, error) {
	if voice == "" {
		return nil, errors.New("no voice")
	}
	return make([]int16, len(text)*80), nil
}

// fakeNormalize reads numbers as e164 would in PT: + and 8 to 15 digits,
// or 9 national digits.
func fakeNormalize(s string) (string, error) {
	n := strings.Join(strings.Fields(s), "")
	digits := strings.TrimPrefix(n, "+")
	if !isDigits(digits) {
		return "", fmt.Errorf("%q is not a phone number", s)
	}
	switch {
	case strings.HasPrefix(n, "+") && len(digits) >= 8 && len(digits) <= 15:
		return n, nil
	case !strings.HasPrefix(n, "+") && len(digits) == 9:
		return "+351" + digits, nil
	}
	return "", fmt.Errorf("%q is not a valid number in PT", s)
}

// mustParse compiles src with testOptions("testdata").
func mustParse(t testing.TB, src string) *Plan {
	t.Helper()
	p, err := Parse("test.yaml", []byte(src), testOptions("testdata"))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return p
}

// parseErrors compiles src, which must fail, and returns its problems.
func parseErrors(t testing.TB, src string, opts Options) Errors {
	t.Helper()
	_, err := Parse("test.yaml", []byte(src), opts)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse: got %v, want Errors", err)
	}
	return errs
}

// checkMessage checks the shape every Error must have.
func checkMessage(t testing.TB, e Error) {
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
