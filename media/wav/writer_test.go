package wav_test

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/media/mediatest"
	"github.com/ringdesk/ringdesk/media/wav"
)

// stereoFrame returns the frame-th 20 ms stereo frame (160 samples per
// channel at 8 kHz, interleaved) of a test signal: a 440 Hz sine on the left,
// a sawtooth counting through every sample value on the right. Each sample is
// a function of its index, so any prefix can be checked exactly.
func stereoFrame(frame int) []int16 {
	const n = 160
	out := make([]int16, 2*n)
	for i := range n {
		k := frame*n + i
		out[2*i] = leftSample(k)
		out[2*i+1] = rightSample(k)
	}
	return out
}

func leftSample(k int) int16 {
	return int16(math.Round(12000 * math.Sin(2*math.Pi*440*float64(k)/8000)))
}

func rightSample(k int) int16 { return int16(uint16(k * 97)) }

// checkPrefix checks that a holds exactly the first frames*160 samples of
// the stereoFrame signal.
func checkPrefix(t *testing.T, a *wav.Audio, frames int) {
	t.Helper()
	if a.Rate != 8000 || len(a.Channels) != 2 {
		t.Fatalf("%d channels at %d Hz, want stereo at 8000", len(a.Channels), a.Rate)
	}
	if got, want := len(a.Channels[0]), frames*160; got != want {
		t.Fatalf("%d samples per channel, want %d (%d frames)", got, want, frames)
	}
	for k := range a.Channels[0] {
		if a.Channels[0][k] != leftSample(k) || a.Channels[1][k] != rightSample(k) {
			t.Fatalf("sample %d: %d/%d, want %d/%d", k, a.Channels[0][k], a.Channels[1][k], leftSample(k), rightSample(k))
		}
	}
}

// soxInfo runs soxi on path and returns its sample count (per channel) and
// channel count. Without sox it skips, unless CI=true.
func soxInfo(t *testing.T, path string) (samples, channels int) {
	t.Helper()
	soxi, err := exec.LookPath("soxi")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("soxi not found in CI: %v", err)
		}
		t.Skip("soxi not installed")
	}
	count := func(flag string) int {
		out, err := exec.CommandContext(t.Context(), soxi, flag, path).CombinedOutput()
		if err != nil {
			t.Fatalf("soxi %s %s: %v\n%s", flag, path, err, out)
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(out)))
		if err != nil {
			t.Fatalf("soxi %s: %q", flag, out)
		}
		return n
	}
	// sox --i prints everything; failing it means sox cannot read the file.
	if out, err := exec.CommandContext(t.Context(), "sox", "--i", path).CombinedOutput(); err != nil {
		t.Fatalf("sox --i %s: %v\n%s", path, err, out)
	}
	return count("-s"), count("-c")
}

func TestWriterRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	w, err := wav.Create(path, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	a, err := wav.ReadFile(path)
	if err != nil {
		t.Fatalf("fresh file: %v", err)
	}
	checkPrefix(t, a, 0)
	const frames, flushEvery = 100, 25
	for f := range frames {
		if err := w.Write(stereoFrame(f)); err != nil {
			t.Fatal(err)
		}
		if want := time.Duration(f+1) * 20 * time.Millisecond; w.Duration() != want {
			t.Fatalf("Duration() = %v, want %v", w.Duration(), want)
		}
		if (f+1)%flushEvery != 0 {
			continue
		}
		flushed := (f + 1) / flushEvery * flushEvery
		if got, want := w.Size(), int64(44+(f+1-flushEvery)*640); got != want {
			t.Errorf("Size() before flush = %d, want %d", got, want)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got, want := w.Size(), int64(44+flushed*640); got != want {
			t.Errorf("Size() = %d, want %d", got, want)
		}
		if st, err := os.Stat(path); err != nil {
			t.Fatal(err)
		} else if st.Size() != w.Size() {
			t.Errorf("file is %d bytes, Size() %d", st.Size(), w.Size())
		}
		now, err := wav.ReadFile(path)
		if err != nil {
			t.Fatalf("after flush of %d frames: %v", flushed, err)
		}
		checkPrefix(t, now, flushed)
	}
	if err := w.Write(stereoFrame(frames)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, err = wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkPrefix(t, a, frames+1)
	if f := mediatest.DominantFrequency(a.Channels[0], 8000); math.Abs(f-440) > 2 {
		t.Errorf("left channel at %.1f Hz, want 440", f)
	}
	if samples, channels := soxInfo(t, path); samples != (frames+1)*160 || channels != 2 {
		t.Errorf("soxi: %d samples, %d channels; want %d, 2", samples, channels, (frames+1)*160)
	}
}

func TestWriterCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "recordings", "2026", "05")
	path := filepath.Join(dir, "call.wav")
	w, err := wav.Create(path, 16000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		max  fs.FileMode
	}{{dir, 0o750}, {filepath.Dir(dir), 0o750}, {path, 0o640}} {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := st.Mode().Perm(); perm&^c.max != 0 {
			t.Errorf("%s: mode %v, want at most %v", c.path, perm, c.max)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := pcmFile(16000, 1, nil); string(b) != string(want) {
		t.Errorf("empty file:\n% x\nwant\n% x", b, want)
	}
	if _, err := wav.Create(path, 8000, 1); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over an existing file: %v, want ErrExist", err)
	}
	if b2, _ := os.ReadFile(path); string(b2) != string(b) {
		t.Error("the existing file changed")
	}
	for _, bad := range []struct{ rate, channels int }{{0, 1}, {8000, 0}, {8000, 33}, {-1, 2}, {1 << 20, 1}} {
		if _, err := wav.Create(filepath.Join(t.TempDir(), "x.wav"), bad.rate, bad.channels); !errors.Is(err, wav.ErrUnsupported) {
			t.Errorf("Create(%d Hz, %d channels): %v, want ErrUnsupported", bad.rate, bad.channels, err)
		}
	}
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := wav.Create(filepath.Join(blocker, "x.wav"), 8000, 1); err == nil {
		t.Error("Create under a regular file succeeded")
	}
}

func TestWriterErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.wav")
	w, err := wav.Create(path, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1, 2, 3}); err == nil {
		t.Error("half a stereo frame accepted")
	}
	if err := w.Write([]int16{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for name, f := range map[string]func() error{
		"Write": func() error { return w.Write([]int16{1, 2}) },
		"Flush": w.Flush,
		"Sync":  w.Sync,
	} {
		if err := f(); !errors.Is(err, wav.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	a, err := wav.ReadFile(path)
	if err != nil || !slices.Equal(a.Channels[0], []int16{1}) || !slices.Equal(a.Channels[1], []int16{2}) {
		t.Errorf("read back %+v, %v", a, err)
	}
}

// TestWriterAutoFlush: a caller that never flushes still gets its samples
// to disk, a megabyte at a time.
func TestWriterAutoFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "long.wav")
	w, err := wav.Create(path, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	frame := make([]int16, 160)
	for range (1<<20)/320 + 1 {
		if err := w.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	if w.Size() < 1<<20 {
		t.Fatalf("Size() = %d after writing over 1 MiB", w.Size())
	}
	a, err := wav.ReadFile(path)
	if err != nil || int64(2*len(a.Samples)+44) != w.Size() {
		t.Errorf("file holds %d samples (%v), Size() %d", len(a.Samples), err, w.Size())
	}
	if err := w.Sync(); err != nil {
		t.Error(err)
	}
}

// TestWriterAllocs: once warm, writing a frame and flushing do not allocate.
func TestWriterAllocs(t *testing.T) {
	w, err := wav.Create(filepath.Join(t.TempDir(), "a.wav"), 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	frame := stereoFrame(0)
	n := 0
	allocs := testing.AllocsPerRun(500, func() {
		if err := w.Write(frame); err != nil {
			t.Fatal(err)
		}
		if n++; n%25 == 0 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per frame, want 0", allocs)
	}
}
