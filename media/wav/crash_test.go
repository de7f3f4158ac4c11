package wav_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/media/wav"
)

// The child process of TestWriterKilled: the test binary run again with
// these variables set.
const (
	childPathEnv = "RINGDESK_WAV_CHILD_PATH" // the file to record to
	childModeEnv = "RINGDESK_WAV_CHILD_MODE" // "pause" or "run"
)

// Child protocol, one line each on stdout:
//
//	flushed N   N frames (20 ms stereo) are flushed
//	ready       (pause mode) more frames are buffered, not flushed; the
//	            child waits to be killed
const flushEvery = 5 // frames per Flush

// runChild records the stereoFrame signal to path, flushing every
// flushEvery frames. In "pause" mode it stops after 10 flushes, buffers 3
// more frames and waits on stdin. In "run" mode it goes on until killed,
// one frame per millisecond.
func runChild(path, mode string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	w, err := wav.Create(path, 8000, 2)
	if err != nil {
		fail(err)
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for f := 0; ; f++ {
		if mode == "pause" && f == 10*flushEvery {
			for extra := range 3 {
				if err := w.Write(stereoFrame(f + extra)); err != nil {
					fail(err)
				}
			}
			fmt.Println("ready")
			_, _ = io.Copy(io.Discard, os.Stdin) // until killed, or the parent is gone
			os.Exit(0)
		}
		if mode == "run" {
			<-tick.C
		}
		if err := w.Write(stereoFrame(f)); err != nil {
			fail(err)
		}
		if (f+1)%flushEvery == 0 {
			if err := w.Flush(); err != nil {
				fail(err)
			}
			fmt.Println("flushed", f+1)
		}
	}
}

// TestWriterKilled records in a child process, kills it with SIGKILL and
// checks that the file decodes, with exactly the audio of the flushes, and
// that sox reads it.
func TestWriterKilled(t *testing.T) {
	if path := os.Getenv(childPathEnv); path != "" {
		runChild(path, os.Getenv(childModeEnv))
		return
	}
	for _, mode := range []string{"pause", "run"} {
		t.Run(mode, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rec", "call.wav")
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestWriterKilled$", "-test.count=1")
			cmd.Env = append(os.Environ(), childPathEnv+"="+path, childModeEnv+"="+mode)
			cmd.Stderr = os.Stderr
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			flushed := 0
			for lines.Scan() {
				line := lines.Text()
				if n, ok := strings.CutPrefix(line, "flushed "); ok {
					if flushed, err = strconv.Atoi(n); err != nil {
						t.Fatalf("child said %q", line)
					}
				}
				if line == "ready" || (mode == "run" && flushed >= 40) {
					break
				}
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			for lines.Scan() { // what the child said before it died
				if n, ok := strings.CutPrefix(lines.Text(), "flushed "); ok {
					flushed, _ = strconv.Atoi(n)
				}
			}
			err = cmd.Wait()
			if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.Signaled() || st.Signal() != syscall.SIGKILL {
				t.Fatalf("child did not die of SIGKILL: %v", err)
			}
			if flushed == 0 {
				t.Fatal("the child flushed nothing")
			}

			a, err := wav.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			frames := len(a.Samples) / 160
			switch {
			case mode == "pause" && frames != flushed:
				t.Errorf("%d frames in the file, want the %d flushed (not the 3 buffered)", frames, flushed)
			case frames%flushEvery != 0 || frames < flushed || frames > flushed+flushEvery:
				// The child may have died after a Flush and before saying so.
				t.Errorf("%d frames in the file; the child said it flushed %d, in steps of %d", frames, flushed, flushEvery)
			}
			checkPrefix(t, a, frames)
			if samples, channels := soxInfo(t, path); samples != frames*160 || channels != 2 {
				t.Errorf("soxi: %d samples, %d channels; want %d, 2", samples, channels, frames*160)
			}
		})
	}
}
