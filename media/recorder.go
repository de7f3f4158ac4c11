package media

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringdesk/ringdesk/media/wav"
)

const (
	// recordFlushEvery is how often a recording's header is brought up to
	// date: a process killed with SIGKILL leaves a file that plays up to
	// about this long before the kill.
	recordFlushEvery = 500 * time.Millisecond
	// recordQueue bounds the frames waiting for the disk (5 s).
	recordQueue = 250
)

// Recording describes a finished recording.
type Recording struct {
	Path     string
	Duration time.Duration
	Size     int64
	Deleted  bool
}

// stereoFrame is one 20 ms frame, left and right interleaved.
type stereoFrame [2 * FrameSamples]int16

// Recorder writes a mixer's tap to a stereo WAV (customer left, agent
// right), or a mono one of the customer (StartMonoRecorder), as it goes,
// header kept valid. Pause writes silence, so the file
// keeps the call's timeline. Its writer goroutine is started by
// StartRecorder and stopped by Stop or Delete.
type Recorder struct {
	path string
	// mono keeps only the left channel (the customer): voicemail.
	mono   bool
	w      *wav.Writer
	log    *slog.Logger
	frames chan stereoFrame
	paused atomic.Bool
	lost   atomic.Uint64

	mu       sync.Mutex
	stopped  bool
	result   Recording
	err      error
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// StartRecorder creates the WAV at path (its directory is made; an
// existing file is an error) and starts writing.
func StartRecorder(path string, log *slog.Logger) (*Recorder, error) {
	return startRecorder(path, false, log)
}

// StartMonoRecorder is StartRecorder for a mono WAV of the tap's left
// channel only (the customer): a voicemail, where the other side is
// Ringdesk's silence.
func StartMonoRecorder(path string, log *slog.Logger) (*Recorder, error) {
	return startRecorder(path, true, log)
}

func startRecorder(path string, mono bool, log *slog.Logger) (*Recorder, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	channels := 2
	if mono {
		channels = 1
	}
	w, err := wav.Create(path, SampleRate, channels)
	if err != nil {
		return nil, fmt.Errorf("start recording: %w", err)
	}
	r := &Recorder{path: path, mono: mono, w: w, log: log, frames: make(chan stereoFrame, recordQueue)}
	r.wg.Go(r.run)
	return r, nil
}

// Path is the recording's file.
func (r *Recorder) Path() string { return r.path }

// WriteFrame queues one frame (a FrameTap); it never blocks: a frame that
// finds the queue full is counted as lost.
func (r *Recorder) WriteFrame(left, right []int16) {
	var f stereoFrame
	switch {
	case r.paused.Load():
	case r.mono: // the first FrameSamples of f
		copy(f[:FrameSamples], left)
	default:
		for i := range min(len(left), len(right), FrameSamples) {
			f[2*i] = left[i]
			f[2*i+1] = right[i]
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	select {
	case r.frames <- f:
	default:
		r.lost.Add(1)
	}
}

// Pause replaces the audio with silence until Resume (card numbers).
func (r *Recorder) Pause() { r.paused.Store(true) }

// Resume records audio again.
func (r *Recorder) Resume() { r.paused.Store(false) }

// Paused reports whether the recording is paused.
func (r *Recorder) Paused() bool { return r.paused.Load() }

func (r *Recorder) run() {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("recorder panicked", "path", r.path, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	t := time.NewTicker(recordFlushEvery)
	defer t.Stop()
	failed := false
	for {
		select {
		case f, ok := <-r.frames:
			if !ok {
				return
			}
			if failed {
				continue
			}
			samples := f[:]
			if r.mono {
				samples = f[:FrameSamples]
			}
			if err := r.w.Write(samples); err != nil {
				r.log.Error("recording write failed", "path", r.path, "error", err)
				r.setErr(err)
				failed = true
			}
		case <-t.C:
			if failed {
				continue
			}
			if err := r.w.Flush(); err != nil {
				r.log.Error("recording flush failed", "path", r.path, "error", err)
				r.setErr(err)
				failed = true
			}
		}
	}
}

func (r *Recorder) setErr(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
}

// Stop finishes the file and reports it. Idempotent.
func (r *Recorder) Stop() (Recording, error) {
	r.stopOnce.Do(func() {
		r.mu.Lock()
		r.stopped = true
		close(r.frames)
		r.mu.Unlock()
		r.wg.Wait()
		err := r.w.Close()
		r.mu.Lock()
		if r.err == nil && err != nil {
			r.err = fmt.Errorf("finish recording %s: %w", r.path, err)
		}
		r.result = Recording{Path: r.path, Duration: r.w.Duration(), Size: r.w.Size()}
		r.mu.Unlock()
		if n := r.lost.Load(); n > 0 {
			r.log.Warn("recording lost frames: disk too slow", "path", r.path, "frames", n)
		}
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.result, r.err
}

// Delete stops the recording and removes its file.
func (r *Recorder) Delete() (Recording, error) {
	rec, _ := r.Stop()
	if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return rec, fmt.Errorf("delete recording: %w", err)
	}
	rec.Deleted = true
	r.mu.Lock()
	r.result = rec
	r.mu.Unlock()
	return rec, nil
}
