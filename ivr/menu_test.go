package ivr_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ringdesk/ringdesk/ivr"
)

// menu returns the test menu: options 1, 2, 3 and *.
func menu(retries int) ivr.Menu {
	return ivr.Menu{
		Name:    "Main",
		Prompt:  pcm(800),
		Valid:   "123*",
		Timeout: 4 * time.Second,
		Retries: retries,
		Invalid: pcm(400),
	}
}

func TestAskDigitDuringPrompt(t *testing.T) {
	p, clk, digits := newPlayer(), newClock(), make(chan byte, 4)
	m := menu(2)
	done := ask(t.Context(), ivr.Collector{Clock: clk}, p, digits, m)
	prompt := p.next(t)
	prompt.is(t, m.Prompt, "the prompt")
	digits <- '2'
	res, err := result(t, done)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ivr.Result{Outcome: ivr.Chosen, Digit: '2', Attempts: 1}); res != want {
		t.Errorf("%+v, want %+v", res, want)
	}
	if !prompt.isStopped() {
		t.Error("the prompt was not stopped (no barge-in)")
	}
	p.none(t)
}

func TestAskDigitAfterPrompt(t *testing.T) {
	p, clk, digits := newPlayer(), newClock(), make(chan byte, 4)
	done := ask(t.Context(), ivr.Collector{Clock: clk}, p, digits, menu(2))
	prompt := p.next(t)
	prompt.finish()
	if d := clk.waitArmed(t); d != 4*time.Second {
		t.Errorf("timeout %v, want the menu's 4s", d)
	}
	digits <- '*'
	res, err := result(t, done)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ivr.Result{Outcome: ivr.Chosen, Digit: '*', Attempts: 1}); res != want {
		t.Errorf("%+v, want %+v", res, want)
	}
	p.none(t)
}

func TestAskTimeoutThenRetry(t *testing.T) {
	p, clk, digits := newPlayer(), newClock(), make(chan byte, 4)
	m := menu(2)
	done := ask(t.Context(), ivr.Collector{Clock: clk}, p, digits, m)
	p.next(t).finish()
	clk.waitArmed(t)
	clk.fire() // no input: the menu again, without the Invalid message
	again := p.next(t)
	again.is(t, m.Prompt, "the prompt again")
	again.finish()
	clk.waitArmed(t)
	digits <- '3'
	res, err := result(t, done)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ivr.Result{Outcome: ivr.Chosen, Digit: '3', Attempts: 2}); res != want {
		t.Errorf("%+v, want %+v", res, want)
	}
}

func TestAskInvalidThenRetry(t *testing.T) {
	p, clk, digits := newPlayer(), newClock(), make(chan byte, 4)
	m := menu(1)
	done := ask(t.Context(), ivr.Collector{Clock: clk}, p, digits, m)
	prompt := p.next(t)
	digits <- '7'
	invalid := p.next(t)
	invalid.is(t, m.Invalid, "the Invalid message")
	if !prompt.isStopped() {
		t.Error("an invalid digit did not stop the prompt")
	}
	invalid.finish()
	again := p.next(t)
	again.is(t, m.Prompt, "the prompt again")
	digits <- '1'
	res, err := result(t, done)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ivr.Result{Outcome: ivr.Chosen, Digit: '1', Attempts: 2}); res != want {
		t.Errorf("%+v, want %+v", res, want)
	}
}

// TestAskDigitDuringInvalid: a digit during the Invalid message stops it
// and answers the next offer; its prompt is skipped.
func TestAskDigitDuringInvalid(t *testing.T) {
	p, clk, digits := newPlayer(), newClock(), make(chan byte, 4)
	m := menu(1)
	done := ask(t.Context(), ivr.Collector{Clock: clk}, p, digits, m)
	p.next(t)
	digits <- '9'
	invalid := p.next(t)
	digits <- '2'
	res, err := result(t, done)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ivr.Result{Outcome: ivr.Chosen, Digit: '2', Attempts: 2}); res != want {
		t.Errorf("%+v, want %+v", res, want)
	}
	if !invalid.isStopped() {
		t.Error("the Invalid message was not stopped")
	}
	p.none(t)
}

func TestAskRetriesExhausted(t *testing.T) {
	type step int
	const (
		timeout step = iota
		wrong        // an invalid digit after the prompt
	)
	tests := []struct {
		name    string
		retries int
		steps   []step
		want    ivr.Result
	}{
		{"no input, Retries 0", 0, []step{timeout}, ivr.Result{Outcome: ivr.NoInput, Attempts: 1}},
		{"invalid, Retries 0", 0, []step{wrong}, ivr.Result{Outcome: ivr.InvalidInput, Digit: '#', Attempts: 1}},
		{"no input thrice", 2, []step{timeout, timeout, timeout}, ivr.Result{Outcome: ivr.NoInput, Attempts: 3}},
		{"invalid twice", 1, []step{wrong, wrong}, ivr.Result{Outcome: ivr.InvalidInput, Digit: '#', Attempts: 2}},
		{"invalid, then no input", 1, []step{wrong, timeout}, ivr.Result{Outcome: ivr.NoInput, Attempts: 2}},
		{"no input, then invalid", 1, []step{timeout, wrong}, ivr.Result{Outcome: ivr.InvalidInput, Digit: '#', Attempts: 2}},
		{"negative Retries", -3, []step{timeout}, ivr.Result{Outcome: ivr.NoInput, Attempts: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, clk, digits := newPlayer(), newClock(), make(chan byte, 4)
			m := menu(tt.retries)
			done := ask(t.Context(), ivr.Collector{Clock: clk}, p, digits, m)
			for _, s := range tt.steps {
				prompt := p.next(t)
				prompt.is(t, m.Prompt, "the prompt")
				prompt.finish()
				clk.waitArmed(t)
				if s == timeout {
					clk.fire()
					continue
				}
				digits <- '#'
				invalid := p.next(t)
				invalid.is(t, m.Invalid, "the Invalid message")
				invalid.finish()
			}
			res, err := result(t, done)
			if err != nil {
				t.Fatal(err)
			}
			if res != tt.want {
				t.Errorf("%+v, want %+v", res, tt.want)
			}
			p.none(t)
		})
	}
}

// TestAskLastInvalidKeepsDigits: the Invalid message after the last
// invalid digit reads no digits; they stay for what follows.
func TestAskLastInvalidKeepsDigits(t *testing.T) {
	p, clk, digits := newPlayer(), newClock(), make(chan byte, 4)
	done := ask(t.Context(), ivr.Collector{Clock: clk}, p, digits, menu(0))
	p.next(t)
	digits <- '8'
	invalid := p.next(t)
	digits <- '0'
	invalid.finish()
	res, err := result(t, done)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ivr.Result{Outcome: ivr.InvalidInput, Digit: '8', Attempts: 1}); res != want {
		t.Errorf("%+v, want %+v", res, want)
	}
	if invalid.isStopped() {
		t.Error("a digit stopped the last Invalid message")
	}
	if d := <-digits; d != '0' {
		t.Errorf("left %q in the channel, want '0'", d)
	}
}

func TestAskNoInvalidMessage(t *testing.T) {
	p, clk, digits := newPlayer(), newClock(), make(chan byte, 4)
	m := menu(1)
	m.Invalid = nil
	done := ask(t.Context(), ivr.Collector{Clock: clk}, p, digits, m)
	p.next(t)
	digits <- '5'
	p.next(t).is(t, m.Prompt, "the prompt again, at once")
	digits <- '1'
	if res, err := result(t, done); err != nil || res.Digit != '1' || res.Attempts != 2 {
		t.Errorf("%+v, %v; want 1 chosen at the second attempt", res, err)
	}
}

// TestAskTypedAhead: digits queued before Ask count, and the prompt is not
// played.
func TestAskTypedAhead(t *testing.T) {
	p, clk, digits := newPlayer(), newClock(), make(chan byte, 4)
	digits <- '2'
	digits <- '1'
	res, err := ivr.Collector{Clock: clk}.Ask(t.Context(), p, digits, menu(2))
	if err != nil {
		t.Fatal(err)
	}
	if want := (ivr.Result{Outcome: ivr.Chosen, Digit: '2', Attempts: 1}); res != want {
		t.Errorf("%+v, want %+v", res, want)
	}
	p.none(t)
	if d := <-digits; d != '1' {
		t.Errorf("left %q in the channel, want '1' (for the next menu)", d)
	}

	// A wrong digit typed ahead is invalid input: Invalid, then the menu.
	digits <- '6'
	m := menu(2)
	done := ask(t.Context(), ivr.Collector{Clock: clk}, p, digits, m)
	invalid := p.next(t)
	invalid.is(t, m.Invalid, "the Invalid message")
	invalid.finish()
	p.next(t).is(t, m.Prompt, "the prompt")
	digits <- '1'
	if res, err := result(t, done); err != nil || res != (ivr.Result{Outcome: ivr.Chosen, Digit: '1', Attempts: 2}) {
		t.Errorf("%+v, %v; want 1 chosen at the second attempt", res, err)
	}
}

func TestAskCancelled(t *testing.T) {
	t.Run("during the prompt", func(t *testing.T) {
		p, clk := newPlayer(), newClock()
		ctx, cancel := context.WithCancel(t.Context())
		done := ask(ctx, ivr.Collector{Clock: clk}, p, make(chan byte), menu(2))
		prompt := p.next(t)
		cancel()
		_, err := result(t, done)
		if err != context.Canceled { //nolint:errorlint // Ask returns ctx.Err() itself
			t.Errorf("%v, want context.Canceled", err)
		}
		if !prompt.isStopped() {
			t.Error("the prompt was not stopped")
		}
	})
	t.Run("waiting for a digit", func(t *testing.T) {
		p, clk := newPlayer(), newClock()
		ctx, cancel := context.WithCancel(t.Context())
		done := ask(ctx, ivr.Collector{Clock: clk}, p, make(chan byte), menu(2))
		p.next(t).finish()
		clk.waitArmed(t)
		cancel()
		if _, err := result(t, done); !errors.Is(err, context.Canceled) {
			t.Errorf("%v, want context.Canceled", err)
		}
	})
	t.Run("during the Invalid message", func(t *testing.T) {
		p, clk, digits := newPlayer(), newClock(), make(chan byte, 1)
		ctx, cancel := context.WithCancel(t.Context())
		done := ask(ctx, ivr.Collector{Clock: clk}, p, digits, menu(2))
		p.next(t)
		digits <- '0'
		invalid := p.next(t)
		cancel()
		if _, err := result(t, done); !errors.Is(err, context.Canceled) {
			t.Errorf("%v, want context.Canceled", err)
		}
		if !invalid.isStopped() {
			t.Error("the Invalid message was not stopped")
		}
	})
	t.Run("before", func(t *testing.T) {
		p := newPlayer()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := ivr.Ask(ctx, p, nil, menu(2)); !errors.Is(err, context.Canceled) {
			t.Errorf("%v, want context.Canceled", err)
		}
		p.none(t)
	})
}

func TestAskPlayerFails(t *testing.T) {
	boom := errors.New("leg gone")
	p := newPlayer()
	p.err = boom
	_, err := ivr.Ask(t.Context(), p, nil, menu(1))
	if !errors.Is(err, ivr.ErrPlay) || !errors.Is(err, boom) {
		t.Errorf("%v, want ErrPlay wrapping the Player's error", err)
	}
}

func TestAskBadMenu(t *testing.T) {
	m := menu(0)
	m.Valid = "12x"
	if _, err := ivr.Ask(t.Context(), newPlayer(), nil, m); !errors.Is(err, ivr.ErrBadMenu) {
		t.Errorf("%v, want ErrBadMenu", err)
	}
}

// TestAskClosedAndZero: a closed digit channel and the byte 0 deliver
// nothing; the menu times out.
func TestAskClosedAndZero(t *testing.T) {
	for name, digits := range map[string]func() chan byte{
		"closed": func() chan byte { ch := make(chan byte); close(ch); return ch },
		"zero":   func() chan byte { ch := make(chan byte, 1); ch <- 0; return ch },
		"nil":    func() chan byte { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			p, clk := newPlayer(), newClock()
			done := ask(t.Context(), ivr.Collector{Clock: clk}, p, digits(), menu(0))
			p.next(t).finish()
			clk.waitArmed(t)
			clk.fire()
			if res, err := result(t, done); err != nil || res.Outcome != ivr.NoInput {
				t.Errorf("%+v, %v; want NoInput", res, err)
			}
		})
	}
}

// TestAskSystemClock runs Ask with the system clock in a synctest bubble:
// the timeout runs from the end of the prompt, and the default applies.
func TestAskSystemClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const promptLen = 3 * time.Second
		// A player whose prompts play for promptLen of (fake) time.
		p := ivr.PlayerFunc(func(ctx context.Context, pcm []int16) (ivr.Playing, error) {
			fp := &fakePlaying{pcm: pcm, done: make(chan struct{}), stopped: make(chan struct{})}
			time.AfterFunc(promptLen, fp.finish)
			return fp, nil
		})
		m := menu(1)
		m.Timeout = 0 // DefaultTimeout
		start := time.Now()
		res, err := ivr.Ask(t.Context(), p, make(chan byte), m)
		if err != nil {
			t.Fatal(err)
		}
		if want := (ivr.Result{Outcome: ivr.NoInput, Attempts: 2}); res != want {
			t.Errorf("%+v, want %+v", res, want)
		}
		if took, want := time.Since(start), 2*(promptLen+ivr.DefaultTimeout); took != want {
			t.Errorf("took %v, want %v: two prompts, each followed by the timeout", took, want)
		}

		// A digit 1 s after the second prompt ends.
		digits := make(chan byte, 1)
		start = time.Now()
		time.AfterFunc(promptLen+ivr.DefaultTimeout+promptLen+time.Second, func() { digits <- '3' })
		res, err = ivr.Ask(t.Context(), p, digits, m)
		if err != nil || res != (ivr.Result{Outcome: ivr.Chosen, Digit: '3', Attempts: 2}) {
			t.Errorf("%+v, %v; want 3 chosen at the second attempt", res, err)
		}
		if took, want := time.Since(start), 2*promptLen+ivr.DefaultTimeout+time.Second; took != want {
			t.Errorf("took %v, want %v", took, want)
		}
	})
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[ivr.Outcome]string{
		ivr.OutcomeUnknown: "Unknown", ivr.Chosen: "Chosen", ivr.NoInput: "NoInput",
		ivr.InvalidInput: "InvalidInput", 9: "Outcome(9)",
	} {
		if got := o.String(); got != want {
			t.Errorf("%d: %q, want %q", int(o), got, want)
		}
	}
}
