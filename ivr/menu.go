package ivr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.38.0 -type=Outcome -trimprefix=Outcome -output=outcome_string.go

// DefaultTimeout is how long Ask waits for a digit after the prompt when
// Menu.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// dtmfDigits are the DTMF symbols (RFC 4733 section 3.2, events 0-15).
const dtmfDigits = "0123456789*#ABCD"

// Menu is one menu as Ask offers it: a prompt that reads out the options,
// and the digits that choose one.
type Menu struct {
	// Name names the menu, for errors and records.
	Name string
	// Prompt is the read-out, 8 kHz mono 16-bit PCM. Empty: Ask plays
	// nothing and only waits for a digit.
	Prompt []int16
	// Valid lists the digits that are options, such as "1239*". Any other
	// digit is invalid input.
	Valid string
	// Timeout is how long Ask waits for a digit after the prompt has
	// played to its end; zero means DefaultTimeout.
	Timeout time.Duration
	// Retries is how many more times Ask offers the menu after no input or
	// an invalid digit: 0 offers it once. Negative counts as 0.
	Retries int
	// Invalid is played after an invalid digit, before the menu is offered
	// again (and after the last one, before Ask returns); nil: nothing.
	Invalid []int16
}

// Outcome says how a menu ended.
type Outcome int

// Outcomes.
const (
	OutcomeUnknown Outcome = iota
	Chosen                 // the caller pressed a valid digit: Result.Digit
	NoInput                // the last offer timed out without a digit
	InvalidInput           // the last offer got an invalid digit: Result.Digit
)

// Result is what the caller did with a menu.
type Result struct {
	// Outcome is Chosen, NoInput or InvalidInput.
	Outcome Outcome
	// Digit is the digit chosen (Chosen) or the last invalid digit
	// (InvalidInput); 0 for NoInput.
	Digit byte
	// Attempts is how many times the menu was offered, 1 to 1+Retries,
	// the offer that decided included.
	Attempts int
}

// Ask offers menu m to the caller and collects one digit; see
// Collector.Ask.
func Ask(ctx context.Context, p Player, digits <-chan byte, m Menu) (Result, error) {
	return Collector{}.Ask(ctx, p, digits, m)
}

// Ask plays the menu's prompt and collects one digit:
//
//   - A digit during the prompt stops it at once (barge-in) and counts.
//   - Otherwise Ask waits for a digit for m.Timeout, timed from the end of
//     the prompt.
//   - A digit in m.Valid is chosen: Outcome Chosen.
//   - No digit in time, or an invalid digit (after which m.Invalid plays),
//     offers the menu again, up to m.Retries more times. A digit pressed
//     during m.Invalid stops it and is taken as the answer to the next
//     offer, whose prompt is then skipped.
//   - When no offer is left, the last failure decides: NoInput or
//     InvalidInput. The Invalid message after the last invalid digit does
//     not read digits: they stay queued for what follows.
//
// Digits come from the channel digits, which belongs to the caller; Ask
// only receives from it. Digits already queued when Ask starts (typed
// ahead during a welcome message, say) count at once: the first of them
// answers the first offer, and its prompt is not played. A nil channel
// never delivers, and neither does a closed one; the byte 0 is ignored.
//
// When ctx ends (the caller hung up), Ask stops the prompt that is playing
// and returns ctx.Err(). A Player that fails gives an error wrapping
// ErrPlay, and a Valid that is not all DTMF digits one wrapping
// ErrBadMenu. On error the Result is zero.
func (c Collector) Ask(ctx context.Context, p Player, digits <-chan byte, m Menu) (Result, error) {
	if i := strings.IndexFunc(m.Valid, func(r rune) bool { return !strings.ContainsRune(dtmfDigits, r) }); i >= 0 {
		return Result{}, fmt.Errorf("%w: menu %q: valid digits %q: %q is not a DTMF digit", ErrBadMenu, m.Name, m.Valid, m.Valid[i:i+1])
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	offers := 1 + max(m.Retries, 0)
	var (
		res     Result
		pending byte // a digit that answers the next offer
	)
	for res.Attempts < offers {
		res.Attempts++
		d := pending
		if d == 0 {
			var err error
			if d, err = c.offer(ctx, p, digits, m.Prompt, timeout); err != nil {
				return Result{}, wrap(err, m.Name)
			}
		}
		pending = 0
		switch {
		case d == 0:
			res.Outcome, res.Digit = NoInput, 0
		case strings.IndexByte(m.Valid, d) >= 0:
			return Result{Outcome: Chosen, Digit: d, Attempts: res.Attempts}, nil
		default:
			res.Outcome, res.Digit = InvalidInput, d
			if len(m.Invalid) == 0 {
				break
			}
			from := digits
			if res.Attempts == offers {
				from = nil // the last: leave digits queued for what follows
			}
			var err error
			if pending, err = play(ctx, p, m.Invalid, from, anyDigit); err != nil {
				return Result{}, wrap(err, m.Name)
			}
		}
	}
	return res, nil
}

// offer offers the menu once: it takes a digit queued already, or plays
// the prompt (stopped by a digit) and waits up to timeout after it. It
// returns the digit, or 0 when none came in time.
func (c Collector) offer(ctx context.Context, p Player, digits <-chan byte, prompt []int16, timeout time.Duration) (byte, error) {
	select {
	case d, ok := <-digits:
		if ok && d != 0 {
			return d, nil // typed ahead
		}
	default:
	}
	if len(prompt) > 0 {
		d, err := play(ctx, p, prompt, digits, anyDigit)
		if err != nil || d != 0 {
			return d, err
		}
	}
	expired := c.clock().After(timeout)
	for {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-expired:
			return 0, nil
		case d, ok := <-digits:
			if !ok {
				digits = nil
				continue
			}
			if d != 0 {
				return d, nil
			}
		}
	}
}

// wrap adds the menu's name to an error, but returns a context's error as
// it is.
func wrap(err error, menu string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("menu %q: %w", menu, err)
}
