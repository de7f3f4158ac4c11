package ivr_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/ivr"
)

// wait is how long a test waits for something that must happen before it
// fails; it is never slept through when things go right.
const wait = 5 * time.Second

// fakePlayer is an ivr.Player whose audio ends when the test says.
type fakePlayer struct {
	plays chan *fakePlaying // each Play, in order
	err   error             // Play fails with it when set
}

func newPlayer() *fakePlayer { return &fakePlayer{plays: make(chan *fakePlaying, 64)} }

func (p *fakePlayer) Play(ctx context.Context, pcm []int16) (ivr.Playing, error) {
	if p.err != nil {
		return nil, p.err
	}
	fp := &fakePlaying{pcm: pcm, done: make(chan struct{}), stopped: make(chan struct{})}
	p.plays <- fp
	return fp, nil
}

// next returns the next audio played, failing the test if none starts.
func (p *fakePlayer) next(t *testing.T) *fakePlaying {
	t.Helper()
	select {
	case fp := <-p.plays:
		return fp
	case <-time.After(wait):
		t.Fatal("nothing played")
		return nil
	}
}

// none checks that nothing more was played.
func (p *fakePlayer) none(t *testing.T) {
	t.Helper()
	select {
	case fp := <-p.plays:
		t.Errorf("played %d samples more", len(fp.pcm))
	default:
	}
}

// fakePlaying is audio that a fakePlayer plays until finish or Stop.
type fakePlaying struct {
	pcm      []int16
	done     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
	doneOnce sync.Once
}

func (fp *fakePlaying) Done() <-chan struct{} { return fp.done }

func (fp *fakePlaying) Stop(ctx context.Context) error {
	fp.stopOnce.Do(func() { close(fp.stopped) })
	return nil
}

// finish plays the audio to its end.
func (fp *fakePlaying) finish() { fp.doneOnce.Do(func() { close(fp.done) }) }

func (fp *fakePlaying) isStopped() bool {
	select {
	case <-fp.stopped:
		return true
	default:
		return false
	}
}

// is checks that the audio is pcm (the same slice).
func (fp *fakePlaying) is(t *testing.T, pcm []int16, what string) {
	t.Helper()
	if len(fp.pcm) != len(pcm) || len(pcm) > 0 && &fp.pcm[0] != &pcm[0] {
		t.Fatalf("played %d samples, want %s", len(fp.pcm), what)
	}
}

// fakeClock is an ivr.Clock whose timers fire when the test says.
type fakeClock struct {
	mu     sync.Mutex
	timers []chan time.Time
	armed  chan time.Duration // each After, in order
}

func newClock() *fakeClock { return &fakeClock{armed: make(chan time.Duration, 64)} }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	c.timers = append(c.timers, ch)
	c.mu.Unlock()
	c.armed <- d
	return ch
}

// waitArmed waits until a timer is set and returns its duration.
func (c *fakeClock) waitArmed(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.armed:
		return d
	case <-time.After(wait):
		t.Fatal("no timer set")
		return 0
	}
}

// fire fires every timer set so far.
func (c *fakeClock) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.timers {
		ch <- time.Time{}
	}
	c.timers = nil
}

// ask runs Collector.Ask in the background; the result arrives on the
// returned channel.
type answer struct {
	res ivr.Result
	err error
}

func ask(ctx context.Context, c ivr.Collector, p ivr.Player, digits <-chan byte, m ivr.Menu) <-chan answer {
	out := make(chan answer, 1)
	go func() {
		res, err := c.Ask(ctx, p, digits, m)
		out <- answer{res, err}
	}()
	return out
}

// result waits for Ask's answer.
func result(t *testing.T, ch <-chan answer) (ivr.Result, error) {
	t.Helper()
	select {
	case a := <-ch:
		return a.res, a.err
	case <-time.After(wait):
		t.Fatal("Ask did not return")
		return ivr.Result{}, nil
	}
}

// pcm returns n samples of distinct audio.
func pcm(n int) []int16 { return make([]int16, n) }
