package webhooks

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/internal/sqlite"
	"github.com/ringdesk/ringdesk/tickets"
)

// waitFor bounds every wait in these tests; nothing sleeps.
const waitFor = 10 * time.Second

// clock is a settable test clock, shared by the service and the sender.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// openService opens (or reopens) the database at path and returns the
// tickets service on it, with one webhook per hook. now may be nil.
func openService(tb testing.TB, path string, now func() time.Time, hooks ...tickets.Webhook) (*tickets.Service, *sql.DB) {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	svc, err := tickets.New(ctx, db, tickets.Options{
		Settings: tickets.Settings{Country: "PT", Webhooks: hooks},
		Now:      now,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return svc, db
}

func dbPath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "ringdesk.db")
}

// storeEvent is one outcome the sender recorded.
type storeEvent struct {
	op    string // "delivered" or "failed"
	id    int64
	retry time.Time
	why   string
}

// recordingStore passes everything to the service and reports each
// recorded outcome, after it is written.
type recordingStore struct {
	*tickets.Service
	events chan storeEvent
}

func newRecordingStore(svc *tickets.Service) *recordingStore {
	return &recordingStore{Service: svc, events: make(chan storeEvent, 256)}
}

func (r *recordingStore) Delivered(ctx context.Context, id int64) error {
	err := r.Service.Delivered(ctx, id)
	r.events <- storeEvent{op: "delivered", id: id}
	return err
}

func (r *recordingStore) Failed(ctx context.Context, id int64, retry time.Time, why string) error {
	err := r.Service.Failed(ctx, id, retry, why)
	r.events <- storeEvent{op: "failed", id: id, retry: retry, why: why}
	return err
}

// next returns the next recorded outcome.
func (r *recordingStore) next(tb testing.TB) storeEvent {
	tb.Helper()
	select {
	case ev := <-r.events:
		return ev
	case <-time.After(waitFor):
		tb.Fatal("no delivery outcome recorded")
		return storeEvent{}
	}
}

// start runs s until the test ends (or stop is called) and checks that Run
// returns nil.
func start(tb testing.TB, s *Sender) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					tb.Errorf("Run: %v", err)
				}
			case <-time.After(waitFor):
				tb.Error("Run did not return after cancel")
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// request is what a receiver got.
type request struct {
	header http.Header
	body   []byte
	at     time.Time // the test clock when it arrived
}

// receiver is an httptest handler that records requests and answers with
// the status its respond function picks.
type receiver struct {
	mu       sync.Mutex
	got      []request
	requests chan request
	respond  func(n int) int // n counts requests from 1
	now      func() time.Time
}

func newReceiver(now func() time.Time, respond func(n int) int) *receiver {
	if now == nil {
		now = time.Now
	}
	return &receiver{requests: make(chan request, 256), respond: respond, now: now}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := request{header: r.Header.Clone(), body: body, at: rc.now()}
	rc.mu.Lock()
	rc.got = append(rc.got, req)
	n := len(rc.got)
	rc.mu.Unlock()
	rc.requests <- req
	w.WriteHeader(rc.respond(n))
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

func (rc *receiver) next(tb testing.TB) request {
	tb.Helper()
	select {
	case r := <-rc.requests:
		return r
	case <-time.After(waitFor):
		tb.Fatal("receiver got no request")
		return request{}
	}
}

func always(status int) func(int) int { return func(int) int { return status } }

// logBuffer collects a logger's text output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// assertEmpty checks that nothing is owed any more, now or later.
func assertEmpty(tb testing.TB, svc *tickets.Service) {
	tb.Helper()
	ctx := context.Background()
	next, err := svc.NextDelivery(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if !next.IsZero() {
		tb.Errorf("outbox not empty: next delivery at %v", next)
	}
	left, err := svc.DueDeliveries(ctx, time.Now().Add(100*365*24*time.Hour), 100)
	if err != nil {
		tb.Fatal(err)
	}
	if len(left) != 0 {
		tb.Errorf("outbox still holds %d deliveries: %+v", len(left), left)
	}
}

func createContact(tb testing.TB, svc *tickets.Service, name string) tickets.Contact {
	tb.Helper()
	c, err := svc.CreateContact(context.Background(), tickets.ContactInput{Name: name, Phones: []tickets.Phone{{Number: "+351912345678"}}})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
