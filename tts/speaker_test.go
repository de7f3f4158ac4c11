package tts_test

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/media/wav"
	"github.com/ringdesk/ringdesk/tts"
)

// espeak returns the path of the real espeak-ng. It skips the test when
// espeak-ng is missing, except under CI=true, where that is a failure.
func espeak(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath(tts.Command)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("espeak-ng is required under CI: %v", err)
		}
		t.Skipf("espeak-ng not installed: %v", err)
	}
	return path
}

// script writes an executable shell script into a new directory and
// returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "espeak-ng")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

// counting returns a wrapper around the real espeak-ng that notes each run
// (but not --version) in a file, and a function that counts the runs.
func counting(t *testing.T) (path string, runs func() int) {
	t.Helper()
	real := espeak(t)
	log := filepath.Join(t.TempDir(), "runs")
	path = script(t, `case "$1" in --version) ;; *) echo run >>'`+log+`' ;; esac
exec '`+real+`' "$@"
`)
	return path, func() int {
		b, err := os.ReadFile(log)
		if errors.Is(err, os.ErrNotExist) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b), "run\n")
	}
}

func newSpeaker(t *testing.T, dir string, opts ...tts.Option) *tts.Speaker {
	t.Helper()
	s, err := tts.New(dir, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkSpeech checks that pcm sounds like a few spoken words.
func checkSpeech(t *testing.T, pcm []int16, minDur, maxDur time.Duration) {
	t.Helper()
	d := time.Duration(len(pcm)) * time.Second / tts.Rate
	if d < minDur || d > maxDur {
		t.Errorf("%v of audio, want %v to %v", d, minDur, maxDur)
	}
	rms := 20 * math.Log10(mediatest.RMS(pcm))
	top := 0
	for _, v := range pcm {
		top = max(top, int(math.Abs(float64(v))))
	}
	if rms < -35 {
		t.Errorf("RMS %.1f dBFS: no real speech", rms)
	}
	if top < 16000 || top > 16500 {
		t.Errorf("peak %d, want about 16423 (-6 dBFS)", top)
	}
	t.Logf("%v, RMS %.1f dBFS, peak %d", d, rms, top)
}

func TestSpeak(t *testing.T) {
	espeak(t)
	s := newSpeaker(t, t.TempDir())
	if !strings.Contains(s.Engine(), "1.") {
		t.Errorf("Engine() = %q, want a version", s.Engine())
	}
	pcm, err := s.Speak(t.Context(), "one two three", "en-us")
	if err != nil {
		t.Fatal(err)
	}
	checkSpeech(t, pcm, 500*time.Millisecond, 5*time.Second)
	// Speech has its energy in the voice band, not at one frequency.
	if share := mediatest.ToneShare(pcm, tts.Rate, 1000, 50); share > 0.2 {
		t.Errorf("%.2f of the energy near 1 kHz: not speech", share)
	}
}

func TestSpeakDefaultVoiceAndOthers(t *testing.T) {
	espeak(t)
	s := newSpeaker(t, "") // no cache
	for _, voice := range []string{"", "en-gb", "en-us+f3", "pt", "gmw/en-US"} {
		t.Run(voice, func(t *testing.T) {
			pcm, err := s.Speak(t.Context(), "Hello, thank you for calling.", voice)
			if err != nil {
				t.Fatal(err)
			}
			checkSpeech(t, pcm, 500*time.Millisecond, 5*time.Second)
		})
	}
}

func TestCache(t *testing.T) {
	cmd, runs := counting(t)
	dir := t.TempDir()
	s := newSpeaker(t, dir, tts.WithCommand(cmd))
	first, err := s.Speak(t.Context(), "one two three", "en-us")
	if err != nil {
		t.Fatal(err)
	}
	if n := runs(); n != 1 {
		t.Fatalf("espeak-ng ran %d times, want 1", n)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 || !strings.HasSuffix(files[0], ".wav") || len(filepath.Base(files[0])) != 64+4 {
		t.Fatalf("cache holds %q, want one SHA256.wav", files)
	}
	a, err := wav.ReadFile(files[0])
	if err != nil || a.Rate != 8000 || len(a.Channels) != 1 {
		t.Fatalf("cache file: %v, %+v", err, a)
	}

	second, err := s.Speak(t.Context(), "one two three", "en-us")
	if err != nil {
		t.Fatal(err)
	}
	if n := runs(); n != 1 {
		t.Errorf("espeak-ng ran %d times, want 1: the second call should read the cache", n)
	}
	if !slices.Equal(first, second) {
		t.Error("the cached audio differs from the rendered audio")
	}

	// A new Speaker (a restart) on the same directory reads it too.
	again, err := newSpeaker(t, dir, tts.WithCommand(cmd)).Speak(t.Context(), "one two three", "en-us")
	if err != nil || !slices.Equal(again, first) || runs() != 1 {
		t.Errorf("after a restart: err %v, same audio %v, %d runs; want the cache", err, slices.Equal(again, first), runs())
	}

	// Another voice or text is another file.
	if _, err := s.Speak(t.Context(), "one two three", "en-gb"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Speak(t.Context(), "one two three.", "en-us"); err != nil {
		t.Fatal(err)
	}
	if n := runs(); n != 3 {
		t.Errorf("espeak-ng ran %d times, want 3", n)
	}

	// A damaged cache file is rendered again and replaced.
	if err := os.WriteFile(files[0], []byte("RIFF junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	fixed, err := s.Speak(t.Context(), "one two three", "en-us")
	if err != nil || !slices.Equal(fixed, first) {
		t.Fatalf("after damage: err %v, same audio %v", err, slices.Equal(fixed, first))
	}
	if n := runs(); n != 4 {
		t.Errorf("espeak-ng ran %d times, want 4", n)
	}
	if _, err := wav.ReadFile(files[0]); err != nil {
		t.Errorf("cache file not repaired: %v", err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmp) != 0 {
		t.Errorf("temporary files left: %q", tmp)
	}
}

func TestConcurrentSpeak(t *testing.T) {
	cmd, runs := counting(t)
	s := newSpeaker(t, t.TempDir(), tts.WithCommand(cmd))
	const n = 8
	results := make([][]int16, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = s.Speak(t.Context(), "Please hold the line.", "en-us") })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Speak %d: %v", i, errs[i])
		}
		if !slices.Equal(results[i], results[0]) {
			t.Errorf("Speak %d returned other audio", i)
		}
	}
	if got := runs(); got != 1 {
		t.Errorf("espeak-ng ran %d times for %d concurrent calls, want 1", got, n)
	}
}

func TestBadVoice(t *testing.T) {
	cmd, runs := counting(t)
	s := newSpeaker(t, t.TempDir(), tts.WithCommand(cmd))
	for _, voice := range []string{
		"-v", "en us", "en;rm", "../../etc/passwd", "/etc/passwd", "en-us\n", "$(id)", "ü",
		strings.Repeat("a", tts.MaxVoice+1),
	} {
		if _, err := s.Speak(t.Context(), "hello", voice); !errors.Is(err, tts.ErrBadVoice) {
			t.Errorf("voice %q: %v, want ErrBadVoice", voice, err)
		}
	}
	if n := runs(); n != 0 {
		t.Errorf("espeak-ng ran %d times for invalid voices", n)
	}
	_, err := s.Speak(t.Context(), "hello", "xx-nosuchvoice")
	if !errors.Is(err, tts.ErrUnknownVoice) {
		t.Errorf("unknown voice: %v, want ErrUnknownVoice", err)
	}
	t.Log(err)
	if files, _ := filepath.Glob(filepath.Join(t.TempDir(), "*")); len(files) != 0 {
		t.Errorf("cache holds %q after a failure", files)
	}
}

func TestBadText(t *testing.T) {
	cmd, runs := counting(t)
	s := newSpeaker(t, t.TempDir(), tts.WithCommand(cmd))
	for name, text := range map[string]string{
		"empty":      "",
		"spaces":     " \n\t ",
		"too long":   strings.Repeat("a", tts.MaxText+1),
		"NUL":        "hello\x00world",
		"escape":     "hello \x1b[31m",
		"bell":       "\a",
		"not UTF-8":  "caf\xe9",
		"DEL":        "a\x7fb",
		"C1 control": "a\u0085b",
	} {
		if _, err := s.Speak(t.Context(), text, ""); !errors.Is(err, tts.ErrBadText) {
			t.Errorf("%s: %v, want ErrBadText", name, err)
		}
	}
	if n := runs(); n != 0 {
		t.Errorf("espeak-ng ran %d times for invalid texts", n)
	}
	// Tabs, line breaks and non-ASCII are fine.
	if _, err := s.Speak(t.Context(), "Olá,\tça va?\r\nBem, obrigado.\n", "pt"); err != nil {
		t.Errorf("text with tabs, line breaks and accents: %v", err)
	}
}

// wavHeader is the header espeak-ng writes on a pipe: 22.05 kHz mono 16-bit,
// sizes left at a placeholder; a printf format.
const wavHeader = `RIFF\044\360\377\177WAVEfmt \020\0\0\0\001\0\001\0\042\126\0\0\104\254\0\0\002\0\020\0data\0\360\377\177`

func TestTextLimit(t *testing.T) {
	// A stand-in engine: 0.1 s of noise for any text.
	s := newSpeaker(t, "", tts.WithCommand(fake(t, "cat >/dev/null; printf '"+wavHeader+"'; head -c 4410 /dev/urandom\n")))
	for _, text := range []string{
		strings.Repeat("a", tts.MaxText),
		strings.Repeat("é", tts.MaxText), // characters, not bytes
		strings.Repeat("ab\tc\r\n", tts.MaxText/6),
	} {
		pcm, err := s.Speak(t.Context(), text, "en")
		if err != nil || len(pcm) != 800 {
			t.Errorf("text of %d characters: %d samples, %v; want 800 samples", len([]rune(text)), len(pcm), err)
		}
	}
	if _, err := s.Speak(t.Context(), strings.Repeat("é", tts.MaxText+1), "en"); !errors.Is(err, tts.ErrBadText) {
		t.Errorf("MaxText+1 characters: %v, want ErrBadText", err)
	}
}

// TestShellMetacharacters: the text reaches espeak-ng on stdin, byte for
// byte, never through a shell or the command line, and is spoken.
func TestShellMetacharacters(t *testing.T) {
	real := espeak(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	text := "Press $(touch " + marker + ") `touch " + marker + "`; touch " + marker + " && echo | cat > " + marker + " 'quote' \"dq\" * ~ \\ %s %n"
	cmd := script(t, `case "$1" in --version) exec '`+real+`' "$@" ;; esac
printf '%s\n' "$@" >'`+dir+`/args'
cat >'`+dir+`/stdin'
exec '`+real+`' "$@" <'`+dir+`/stdin'
`)
	s := newSpeaker(t, "", tts.WithCommand(cmd))
	pcm, err := s.Speak(t.Context(), text, "en-us")
	if err != nil {
		t.Fatal(err)
	}
	checkSpeech(t, pcm, 2*time.Second, 2*time.Minute) // it reads out the temporary paths
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a shell ran the text: %s exists", marker)
	}
	stdin, _ := os.ReadFile(filepath.Join(dir, "stdin"))
	if string(stdin) != text {
		t.Errorf("espeak-ng read %q on stdin, want %q", stdin, text)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if want := "-v\nen-us\n-s\n150\n--stdout\n"; string(args) != want {
		t.Errorf("espeak-ng args %q, want %q", args, want)
	}
}

func TestNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := tts.New(t.TempDir(), nil)
	if !errors.Is(err, tts.ErrNotInstalled) {
		t.Errorf("no espeak-ng on PATH: %v, want ErrNotInstalled", err)
	}
	_, err = tts.New(t.TempDir(), nil, tts.WithCommand(filepath.Join(t.TempDir(), "espeak-ng")))
	if !errors.Is(err, tts.ErrNotInstalled) {
		t.Errorf("missing command: %v, want ErrNotInstalled", err)
	}
	broken := script(t, "echo 'broken' >&2; exit 3\n")
	_, err = tts.New(t.TempDir(), nil, tts.WithCommand(broken))
	if !errors.Is(err, tts.ErrNotInstalled) || !strings.Contains(err.Error(), "broken") {
		t.Errorf("failing --version: %v, want ErrNotInstalled with its stderr", err)
	}
}

// fake returns a stand-in for espeak-ng that answers --version and runs
// body otherwise.
func fake(t *testing.T, body string) string {
	t.Helper()
	return script(t, `if [ "$1" = --version ]; then echo 'eSpeak NG text-to-speech: 0.0-fake'; exit 0; fi
`+body)
}

func TestMisbehavingEngine(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"no output", "cat >/dev/null\n", tts.ErrNoAudio},
		{"silence", "cat >/dev/null; printf '" + wavHeader + "'; head -c 4410 /dev/zero\n", tts.ErrNoAudio},
		{"not a WAV", "cat >/dev/null; echo hello\n", wav.ErrFormat},
		{"too much", "cat >/dev/null; exec head -c 17000000 /dev/zero\n", tts.ErrTooLarge},
		{"endless", "cat >/dev/null; exec cat /dev/zero\n", tts.ErrTooLarge},
		{"failure", "cat >/dev/null; echo 'Error: something broke' >&2; exit 1\n", nil},
		{"unknown voice", "echo 'Error: The specified espeak-ng voice does not exist.' >&2; exit 1\n", tts.ErrUnknownVoice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpeaker(t, t.TempDir(), tts.WithCommand(fake(t, tt.body)))
			pcm, err := s.Speak(t.Context(), "hello", "en")
			if err == nil {
				t.Fatalf("got %d samples, want an error", len(pcm))
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("%v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
}

func TestCancel(t *testing.T) {
	s := newSpeaker(t, t.TempDir(), tts.WithCommand(fake(t, "exec sleep 30\n")))
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Speak(ctx, "hello", "en")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Speak took %v after its context ended", took)
	}

	// A cancelled context runs nothing.
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if _, err := s.Speak(ctx, "hello", "en"); !errors.Is(err, context.Canceled) {
		t.Errorf("%v, want context.Canceled", err)
	}
}

func TestFunc(t *testing.T) {
	espeak(t)
	s := newSpeaker(t, t.TempDir())
	speak := s.Func(t.Context())
	pcm, err := speak("two", "")
	if err != nil {
		t.Fatal(err)
	}
	checkSpeech(t, pcm, 200*time.Millisecond, 3*time.Second)
	if _, err := speak("two", "bad voice"); !errors.Is(err, tts.ErrBadVoice) {
		t.Errorf("%v, want ErrBadVoice", err)
	}
}
