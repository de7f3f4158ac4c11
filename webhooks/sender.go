package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringdesk/ringdesk/tickets"
)

// Defaults for a zero Config field.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 10
)

// Request headers.
const (
	HeaderEvent     = "Ringdesk-Event"
	HeaderDelivery  = "Ringdesk-Delivery"
	HeaderTimestamp = "Ringdesk-Timestamp"
	HeaderSignature = "Ringdesk-Signature"
	userAgent       = "Ringdesk-Webhooks/1"
)

const (
	// concurrency is how many requests are in flight at most.
	concurrency = 4
	// maxIdle is the longest Run sleeps without looking at the outbox.
	maxIdle = 30 * time.Second
	// storeRetry is how long Run waits after the store failed.
	storeRetry = 5 * time.Second
	// storeTimeout bounds recording an attempt's outcome.
	storeTimeout = 15 * time.Second
	// maxResponse is how much of a response body is read.
	maxResponse = 64 << 10
	// maxWhy is how much of a response body goes into the failure reason.
	maxWhy = 200

	backoffBase   = 5 * time.Second
	backoffMax    = time.Hour
	backoffJitter = 0.2
)

// Log keys.
const (
	keyDeliveryID = "delivery_id"
	keyKind       = "kind"
	keyURL        = "url"
	keyAttempt    = "attempt"
	keyRetryIn    = "retry_in"
	keyError      = "error"
	keyPanic      = "panic"
	keyStack      = "stack"
)

// Store is what the Sender needs from the outbox; *tickets.Service
// satisfies it.
type Store interface {
	// DueDeliveries returns up to limit deliveries due at now, oldest
	// first.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]tickets.Delivery, error)
	// NextDelivery is when the earliest delivery falls due (zero: none).
	NextDelivery(ctx context.Context) (time.Time, error)
	// Delivered removes a delivery the receiver accepted.
	Delivered(ctx context.Context, id int64) error
	// Failed records a failed attempt and when to retry; a zero retry
	// gives the delivery up.
	Failed(ctx context.Context, id int64, retry time.Time, why string) error
}

var _ Store = (*tickets.Service)(nil)

// Config configures a Sender. Zero fields take the defaults.
type Config struct {
	// Secrets maps each webhook URL to its HMAC secret (ringdesk.yaml's
	// webhooks). A delivery to a URL with no secret is never sent: it is
	// given up and logged at error.
	Secrets map[string]string `yaml:"-"`
	// Timeout bounds one request, response body included (default
	// DefaultTimeout).
	Timeout time.Duration `yaml:"timeout"`
	// MaxAttempts is how many attempts a delivery gets before it is given
	// up and logged at error (default DefaultMaxAttempts).
	MaxAttempts int `yaml:"max_attempts"`
	// Backoff is how long to wait after a failed attempt; attempt is the
	// number of attempts that failed before this one (0 after the first
	// failure). Default: 5s * 2^attempt, at most 1h, ±20% jitter.
	Backoff func(attempt int) time.Duration `yaml:"-"`
	// Client sends the requests (default: a client of its own). Its
	// CheckRedirect is replaced: redirects are never followed.
	Client *http.Client `yaml:"-"`
	// Now is the clock (default time.Now).
	Now func() time.Time `yaml:"-"`
	// Log receives the Sender's logs (default: discarded).
	Log *slog.Logger `yaml:"-"`
}

// Sender delivers the outbox's webhooks. Run sends; Kick, SetSecrets may
// be called from any goroutine.
type Sender struct {
	store       Store
	timeout     time.Duration
	maxAttempts int
	backoff     func(int) time.Duration
	client      *http.Client
	now         func() time.Time
	log         *slog.Logger

	secrets atomic.Pointer[map[string]string]
	kick    chan struct{}
	running atomic.Bool
}

// New returns a Sender of store's deliveries. It sends nothing until Run.
func New(store Store, cfg Config) *Sender {
	s := &Sender{
		store:       store,
		timeout:     cfg.Timeout,
		maxAttempts: cfg.MaxAttempts,
		backoff:     cfg.Backoff,
		now:         cfg.Now,
		log:         cfg.Log,
		kick:        make(chan struct{}, 1),
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = DefaultMaxAttempts
	}
	if s.backoff == nil {
		s.backoff = DefaultBackoff
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var c http.Client
	if cfg.Client != nil {
		c = *cfg.Client
	} else {
		c.Timeout = s.timeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.client = &c
	s.SetSecrets(cfg.Secrets)
	return s
}

// SetSecrets replaces the URL → secret map (on reload). Deliveries already
// in flight keep the secret they were signed with.
func (s *Sender) SetSecrets(secrets map[string]string) {
	m := maps.Clone(secrets)
	if m == nil {
		m = map[string]string{}
	}
	s.secrets.Store(&m)
}

// Kick tells Run that something new is in the outbox. It never blocks.
func (s *Sender) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// DefaultBackoff is 5s * 2^attempt, at most an hour, with ±20% jitter.
func DefaultBackoff(attempt int) time.Duration {
	d := backoffMax
	if attempt >= 0 && attempt < 20 {
		d = min(backoffBase<<attempt, backoffMax)
	}
	f := 1 + backoffJitter*(2*rand.Float64()-1) //nolint:gosec // jitter needs no cryptographic randomness
	return time.Duration(float64(d) * f)
}

// Run sends what is due, at most a few requests at a time, then sleeps
// until the next delivery falls due, a Kick, or 30s, whichever is first,
// until ctx is done. It then waits for the requests in flight (each bounded
// by Timeout) and records their outcome, and returns nil. Store errors are
// logged and retried. Only one Run may be active per Sender.
func (s *Sender) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer s.running.Store(false)

	// Requests in flight finish, and their outcome is recorded, after ctx
	// is done: an acknowledged delivery must not be sent again.
	base := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	done := make(chan int64, concurrency) // a worker's delivery id, once recorded
	inflight := make(map[int64]struct{}, concurrency)
	timer := time.NewTimer(maxIdle)
	defer timer.Stop()
	for {
		for reaped := false; !reaped; {
			select {
			case id := <-done:
				delete(inflight, id)
			default:
				reaped = true
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		wait, err := s.dispatch(ctx, base, &wg, inflight, done)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.ErrorContext(ctx, "webhook outbox unavailable", keyError, err)
		}
		var tick <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		case id := <-done:
			delete(inflight, id)
		case <-tick:
		}
		timer.Stop()
	}
}

// dispatch starts workers for due deliveries not already in flight and
// returns how long to sleep; a negative wait means until a worker finishes
// (or a Kick).
func (s *Sender) dispatch(ctx, base context.Context, wg *sync.WaitGroup, inflight map[int64]struct{}, done chan<- int64) (time.Duration, error) {
	free := concurrency - len(inflight)
	if free <= 0 {
		return -1, nil
	}
	// The deliveries in flight are still due: ask for enough to fill the
	// free slots with others.
	due, err := s.store.DueDeliveries(ctx, s.now(), len(inflight)+free)
	if err != nil {
		return storeRetry, err
	}
	for _, d := range due {
		if free == 0 {
			return -1, nil
		}
		if _, busy := inflight[d.ID]; busy {
			continue
		}
		inflight[d.ID] = struct{}{}
		free--
		wg.Go(func() {
			defer func() { done <- d.ID }()
			s.deliver(base, d)
		})
	}
	next, err := s.store.NextDelivery(ctx)
	if err != nil {
		return storeRetry, err
	}
	if next.IsZero() {
		return maxIdle, nil
	}
	wait := next.Sub(s.now())
	if wait <= 0 {
		if len(inflight) > 0 {
			return -1, nil // what is due is in flight
		}
		return 0, nil // fell due since DueDeliveries
	}
	return min(wait, maxIdle), nil
}

// outcome is what one attempt came to.
type outcome struct {
	ok     bool
	giveUp bool // permanent: do not retry
	err    error
}

// deliver makes one attempt at d and records the outcome.
func (s *Sender) deliver(ctx context.Context, d tickets.Delivery) {
	attempt := d.Attempts + 1
	log := s.log.With(keyDeliveryID, d.ID, keyKind, string(d.Kind), keyURL, logURL(d.URL), keyAttempt, attempt)
	var o outcome
	func() {
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(ctx, "webhook delivery panicked", keyPanic, r, keyStack, string(debug.Stack()))
				o = outcome{err: fmt.Errorf("panic: %v", r)}
			}
		}()
		o = s.attempt(ctx, d)
	}()

	rctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	var err error
	switch {
	case o.ok:
		err = s.store.Delivered(rctx, d.ID)
		if err == nil {
			log.DebugContext(ctx, "webhook delivered")
		}
	case o.giveUp:
		err = s.store.Failed(rctx, d.ID, time.Time{}, o.err.Error())
		log.ErrorContext(ctx, "webhook given up", keyError, o.err)
	case attempt >= s.maxAttempts:
		err = s.store.Failed(rctx, d.ID, time.Time{}, o.err.Error())
		log.ErrorContext(ctx, "webhook given up after max attempts", keyError, o.err)
	default:
		wait := s.backoff(d.Attempts)
		err = s.store.Failed(rctx, d.ID, s.now().Add(wait), o.err.Error())
		log.WarnContext(ctx, "webhook attempt failed", keyError, o.err, keyRetryIn, wait)
	}
	if err != nil {
		// The row stays due: it will be sent again (at least once).
		log.ErrorContext(ctx, "webhook outcome not recorded", keyError, err)
	}
}

// attempt POSTs d to its URL once.
func (s *Sender) attempt(ctx context.Context, d tickets.Delivery) outcome {
	secret := (*s.secrets.Load())[d.URL]
	if secret == "" {
		return outcome{giveUp: true, err: errors.New("no secret configured for this URL: refusing to send unsigned")}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return outcome{giveUp: true, err: fmt.Errorf("bad webhook URL: %w", err)}
	}
	ts := s.now().Unix()
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	h.Set(HeaderEvent, string(d.Kind))
	h.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, signatureHeader(secret, ts, d.Payload))

	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a token
		}
		return outcome{err: fmt.Errorf("post: %w", err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		// Delivered, even if the body could not be read in full.
		return outcome{ok: true}
	case resp.StatusCode == http.StatusGone:
		return outcome{giveUp: true, err: fmt.Errorf("receiver answered %s", resp.Status)}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return outcome{err: fmt.Errorf("receiver answered %s (redirect to %q not followed)", resp.Status, logURL(resp.Header.Get("Location")))}
	case err != nil:
		return outcome{err: fmt.Errorf("receiver answered %s: reading body: %w", resp.Status, err)}
	default:
		if len(body) > maxWhy {
			body = body[:maxWhy]
		}
		return outcome{err: fmt.Errorf("receiver answered %s: %q", resp.Status, body)}
	}
}

// logURL is u without its password, query and fragment, which may hold
// tokens.
func logURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	p.RawQuery, p.ForceQuery, p.Fragment, p.RawFragment = "", false, "", ""
	return p.Redacted()
}
