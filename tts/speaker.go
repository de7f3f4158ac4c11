package tts

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ringdesk/ringdesk/media/wav"
)

// Limits and settings of a Speaker.
const (
	// Command is the program a Speaker runs, looked up on the PATH.
	Command = "espeak-ng"
	// DefaultVoice is the voice Speak uses when none is given.
	DefaultVoice = "en-us"
	// WordsPerMinute is the speed of speech: a little slower than
	// espeak-ng's 175, for the telephone (configs/sounds/make.sh uses the
	// same).
	WordsPerMinute = 150
	// MaxText is the longest text Speak accepts, in characters (runes):
	// about two minutes of speech.
	MaxText = 2000
	// MaxVoice is the longest voice name Speak accepts.
	MaxVoice = 40
	// Timeout bounds one run of espeak-ng, on top of the caller's context.
	Timeout = 30 * time.Second
	// MaxOutput bounds what one run of espeak-ng may write to its stdout:
	// 16 MiB, about 6 minutes of its 22.05 kHz 16-bit audio. That is far
	// more than a prompt needs (MaxText characters of prose take 2 to 5
	// minutes), but not every text of MaxText characters fits: numbers read
	// one by one, or symbols read by their names ("¿" is "inverted question
	// mark"), can take 20 minutes. espeak-ng is killed at the limit and
	// Speak fails with ErrTooLarge.
	MaxOutput = 16 << 20

	// Rate is the sample rate of the audio Speak returns: 8 kHz.
	Rate = 8000
	// peak is the level Speak sets: the highest sample at -6 dBFS.
	peak = 16423 // 32768 · 10^(-6/20)

	// maxStderr is how much of espeak-ng's stderr is kept for an error.
	maxStderr = 4 << 10
	// versionTimeout bounds espeak-ng --version in New.
	versionTimeout = 10 * time.Second
	// waitDelay is how long a killed espeak-ng may keep its pipes open.
	waitDelay = 2 * time.Second
	// cacheFormat is part of every cache key: change it when what Speak
	// makes of espeak-ng's output changes (speed, level, resampling), so
	// that old files are not used.
	cacheFormat = "ringdesk-tts-1"
	// dirPerm is the mode of a cache directory New makes.
	dirPerm = 0o750
)

// Speaker renders text to speech with espeak-ng and caches the result.
// It is safe for concurrent use; concurrent Speak calls for the same text
// and voice run espeak-ng once.
type Speaker struct {
	cmd     string // path of espeak-ng
	engine  string // its --version line
	dir     string // cache directory, "" for none
	log     *slog.Logger
	mu      sync.Mutex
	working map[string]chan struct{} // cache keys being rendered; closed when done
}

// Option changes how New makes a Speaker.
type Option func(*Speaker) error

// WithCommand runs the espeak-ng at path (or, for a bare name, the one
// found on the PATH) instead of Command.
func WithCommand(path string) Option {
	return func(s *Speaker) error {
		if path == "" {
			return fmt.Errorf("%w: empty command path", ErrNotInstalled)
		}
		s.cmd = path
		return nil
	}
}

// New returns a Speaker that keeps what it renders in cacheDir (made, mode
// 0750, if missing; "" keeps nothing, every Speak runs espeak-ng). It finds
// espeak-ng on the PATH (exec.LookPath), or fails with an error wrapping
// ErrNotInstalled, and runs espeak-ng --version to learn the engine
// version, which is part of every cache key: upgrading espeak-ng renders
// everything again. A nil log discards.
func New(cacheDir string, log *slog.Logger, opts ...Option) (*Speaker, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Speaker{cmd: Command, dir: cacheDir, log: log, working: make(map[string]chan struct{})}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, fmt.Errorf("tts: %w", err)
		}
	}
	path, err := exec.LookPath(s.cmd)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotInstalled, err)
	}
	s.cmd = path
	if s.engine, err = version(path); err != nil {
		return nil, err
	}
	if s.dir != "" {
		if err := os.MkdirAll(s.dir, dirPerm); err != nil {
			return nil, fmt.Errorf("tts: cache: %w", err)
		}
	}
	return s, nil
}

// version runs espeak-ng --version and returns its first line, such as
// "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/.../espeak-ng-data".
func version(path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), versionTimeout)
	defer cancel()
	var out, errOut capped
	out.max, errOut.max = maxStderr, maxStderr
	cmd := exec.CommandContext(ctx, path, "--version") //nolint:gosec // G204: path is the configured espeak-ng, found by exec.LookPath
	cmd.Stdout, cmd.Stderr, cmd.WaitDelay = &out, &errOut, waitDelay
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s --version: %w%s", ErrNotInstalled, path, err, errOut.suffix())
	}
	line, _, _ := strings.Cut(strings.TrimSpace(out.buf.String()), "\n")
	if line == "" {
		return "", fmt.Errorf("%w: %s --version printed nothing", ErrNotInstalled, path)
	}
	return line, nil
}

// Engine returns the version line of the espeak-ng the Speaker runs.
func (s *Speaker) Engine() string { return s.engine }

// Speak returns text spoken by voice ("" for DefaultVoice) as 8 kHz mono
// 16-bit PCM, with its peak at -6 dBFS. It reads the cache when it holds
// the text, and otherwise runs espeak-ng and adds the result to the cache
// (a cache that cannot be written is logged and skipped).
//
// The voice is an espeak-ng voice name (espeak-ng --voices), such as
// "en-us", "en-gb", "pt", "de" or "gmw/en-US", optionally with a variant,
// "en-us+f3": at most MaxVoice characters, starting with a letter or digit,
// of letters, digits, '-', '+', '_' and '/'; otherwise ErrBadVoice. A voice
// espeak-ng does not know gives ErrUnknownVoice (espeak-ng ignores an
// unknown variant and speaks the voice without it).
//
// The text is at most MaxText characters of printable UTF-8 (tabs and line
// breaks allowed), not all space; otherwise ErrBadText. It is spoken as it
// is, shell metacharacters and all, except that espeak-ng reads [[...]] as
// its phoneme mnemonics, which lets an admin fix a pronunciation.
//
// espeak-ng runs for at most Timeout and writes at most MaxOutput bytes;
// cancelling ctx kills it. Speak returns an error wrapping ctx's when ctx
// ends first.
func (s *Speaker) Speak(ctx context.Context, text, voice string) ([]int16, error) {
	if voice == "" {
		voice = DefaultVoice
	}
	if err := checkVoice(voice); err != nil {
		return nil, err
	}
	if err := checkText(text); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tts: %w", err)
	}
	if s.dir == "" {
		return s.render(ctx, text, voice)
	}
	key := s.key(text, voice)
	release, err := s.claim(ctx, key)
	if err != nil {
		return nil, err
	}
	defer release()
	path := filepath.Join(s.dir, key+".wav")
	cached, cerr := readCache(path)
	if cerr == nil {
		return cached, nil
	}
	if !errors.Is(cerr, fs.ErrNotExist) {
		s.log.Warn("tts cache file unreadable: rendering it again", "path", path, "error", cerr)
	}
	pcm, err := s.render(ctx, text, voice)
	if err != nil {
		return nil, err
	}
	if err := writeCache(path, pcm); err != nil {
		s.log.Warn("tts cache not written", "path", path, "error", err)
	}
	return pcm, nil
}

// Func returns Speak with ctx bound, for packages that take a plain
// function (dialplan's Speak func(text, voice string) ([]int16, error)).
func (s *Speaker) Func(ctx context.Context) func(text, voice string) ([]int16, error) {
	return func(text, voice string) ([]int16, error) {
		return s.Speak(ctx, text, voice)
	}
}

// key is the cache key of text in voice: the SHA-256, in hex, of the
// engine version, the rendering settings, the voice and the text.
func (s *Speaker) key(text, voice string) string {
	h := sha256.New()
	for _, part := range []string{s.engine, cacheFormat, strconv.Itoa(WordsPerMinute), voice, text} {
		h.Write([]byte(part))
		h.Write([]byte{0}) // no part holds a NUL: the parts cannot run into each other
	}
	return hex.EncodeToString(h.Sum(nil))
}

// claim waits until no other Speak works on key, then marks it taken until
// release is called.
func (s *Speaker) claim(ctx context.Context, key string) (release func(), err error) {
	for {
		s.mu.Lock()
		busy, ok := s.working[key]
		if !ok {
			done := make(chan struct{})
			s.working[key] = done
			s.mu.Unlock()
			return func() {
				s.mu.Lock()
				delete(s.working, key)
				s.mu.Unlock()
				close(done)
			}, nil
		}
		s.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, fmt.Errorf("tts: %w", ctx.Err())
		}
	}
}

// render runs espeak-ng on text and returns its audio at 8 kHz.
func (s *Speaker) render(ctx context.Context, text, voice string) ([]int16, error) {
	start := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	out := capped{max: MaxOutput, overflow: cancel}
	errOut := capped{max: maxStderr}
	// The text goes to stdin, never to the command line, and no shell runs.
	cmd := exec.CommandContext(runCtx, s.cmd, "-v", voice, "-s", strconv.Itoa(WordsPerMinute), "--stdout") //nolint:gosec // G204: the voice is validated (checkVoice) and the text is on stdin
	cmd.Stdin = strings.NewReader(text)
	cmd.Stdout, cmd.Stderr, cmd.WaitDelay = &out, &errOut, waitDelay
	err := cmd.Run()
	switch {
	case out.over:
		return nil, fmt.Errorf("%w: espeak-ng wrote over %d bytes for voice %q", ErrTooLarge, MaxOutput, voice)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("tts: espeak-ng: %w", ctx.Err())
	case runCtx.Err() != nil:
		return nil, fmt.Errorf("tts: espeak-ng ran over %v: %w", Timeout, runCtx.Err())
	case err != nil && strings.Contains(errOut.buf.String(), "voice does not exist"):
		return nil, fmt.Errorf("%w: %q (see espeak-ng --voices)", ErrUnknownVoice, voice)
	case err != nil:
		return nil, fmt.Errorf("tts: espeak-ng -v %s: %w%s", voice, err, errOut.suffix())
	}
	pcm, err := decode(out.buf.Bytes(), voice)
	if err != nil {
		return nil, err
	}
	s.log.Debug("tts rendered", "voice", voice, "chars", utf8.RuneCountInString(text),
		"audio", time.Duration(len(pcm))*time.Second/Rate, "took", time.Since(start))
	return pcm, nil
}

// decode turns espeak-ng's output for voice into 8 kHz PCM at the
// Speaker's level.
//
// espeak-ng writes a WAV header before it knows the length, so on a pipe
// it leaves the RIFF and data sizes at a placeholder (0x7ffff000 and
// 0x7ffff024 in 1.51). wav.Decode reads a data chunk that claims more than
// the input holds to the end of the input, which here is the audio, all of
// it: the process has exited and its stdout is fully read. Should a later
// espeak-ng fill in a correct size, that works as well.
func decode(out []byte, voice string) ([]int16, error) {
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: espeak-ng -v %s wrote nothing", ErrNoAudio, voice)
	}
	a, err := wav.Decode(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("tts: espeak-ng -v %s output: %w", voice, err)
	}
	pcm, err := a.To8k()
	if err != nil {
		return nil, fmt.Errorf("tts: espeak-ng -v %s output: %w", voice, err)
	}
	if !normalize(pcm) {
		return nil, fmt.Errorf("%w: espeak-ng -v %s wrote only silence", ErrNoAudio, voice)
	}
	return pcm, nil
}

// normalize scales pcm in place so that its largest magnitude is peak; it
// reports false when pcm is silent (or empty).
func normalize(pcm []int16) bool {
	top := 0
	for _, v := range pcm {
		top = max(top, abs(int(v)))
	}
	if top == 0 {
		return false
	}
	g := float64(peak) / float64(top)
	for i, v := range pcm {
		pcm[i] = int16(min(max(math.Round(float64(v)*g), math.MinInt16), math.MaxInt16))
	}
	return true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// readCache reads a cache file: 8 kHz mono audio, or an error.
func readCache(path string) ([]int16, error) {
	a, err := wav.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if a.Rate != Rate || len(a.Channels) != 1 || len(a.Samples) == 0 {
		return nil, fmt.Errorf("%s: %d channels of %d samples at %d Hz, want 8 kHz mono", path, len(a.Channels), len(a.Samples), a.Rate)
	}
	return a.Samples, nil
}

// writeCache writes pcm to path as an 8 kHz mono WAV file, atomically: to
// a new file beside it, then renamed over it, so that a reader (or a crash)
// never sees half a file.
func writeCache(path string, pcm []int16) error {
	tmp := path + "." + rand.Text() + ".tmp"
	w, err := wav.Create(tmp, Rate, 1)
	if err != nil {
		return err
	}
	err = w.Write(pcm)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return nil
}

// checkVoice validates a voice name: see Speak.
func checkVoice(v string) error {
	if v == "" || len(v) > MaxVoice {
		return fmt.Errorf("%w: %q: 1 to %d characters", ErrBadVoice, v, MaxVoice)
	}
	for i, c := range []byte(v) {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '-' && c != '+' && c != '_' && c != '/') {
			return fmt.Errorf("%w: %q: letters, digits, '-', '+', '_' and '/', starting with a letter or digit", ErrBadVoice, v)
		}
	}
	return nil
}

// checkText validates a text: see Speak.
func checkText(t string) error {
	if !utf8.ValidString(t) {
		return fmt.Errorf("%w: not UTF-8", ErrBadText)
	}
	if n := utf8.RuneCountInString(t); n > MaxText {
		return fmt.Errorf("%w: %d characters, at most %d", ErrBadText, n, MaxText)
	}
	if strings.TrimSpace(t) == "" {
		return fmt.Errorf("%w: nothing to say", ErrBadText)
	}
	for i, r := range t {
		if !unicode.IsGraphic(r) && r != '\t' && r != '\n' && r != '\r' {
			return fmt.Errorf("%w: control character %U at byte %d", ErrBadText, r, i)
		}
	}
	return nil
}

// capped is an io.Writer that keeps the first max bytes. Past them it
// drops the rest, notes it, and calls overflow (if set) once.
type capped struct {
	buf      bytes.Buffer
	max      int
	over     bool
	overflow func()
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); len(p) > room {
		c.buf.Write(p[:max(room, 0)])
		if !c.over && c.overflow != nil {
			c.overflow()
		}
		c.over = true
		return len(p), nil
	}
	c.buf.Write(p)
	return len(p), nil
}

// suffix is ": " and the trimmed text kept, for an error, or "".
func (c *capped) suffix() string {
	s := strings.TrimSpace(c.buf.String())
	if s == "" {
		return ""
	}
	return ": " + s
}
