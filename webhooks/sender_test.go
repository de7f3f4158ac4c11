package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/tickets"
)

const secret = "whsec_test"

// Creating a contact and a ticket sends each change, signed, to the
// receiver, and empties the outbox.
func TestDeliversChanges(t *testing.T) {
	rc := newReceiver(nil, always(http.StatusNoContent))
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	svc, _ := openService(t, dbPath(t), nil, tickets.Webhook{URL: srv.URL + "/hook", Secret: secret})
	changes, unsubscribe := svc.Subscribe(16)
	defer unsubscribe()
	store := newRecordingStore(svc)
	s := New(store, Config{Secrets: map[string]string{srv.URL + "/hook": secret}})
	start(t, s)

	c := createContact(t, svc, "Ana Silva")
	if _, err := svc.CreateTicket(context.Background(), "a1", tickets.TicketInput{Subject: "Printer on fire", ContactID: c.ID, Department: "support"}); err != nil {
		t.Fatal(err)
	}
	s.Kick()

	// What the service reported is what must arrive, keyed by kind.
	want := map[tickets.ChangeKind][]byte{}
	for len(changes) > 0 {
		ch := <-changes
		b, err := json.Marshal(ch)
		if err != nil {
			t.Fatal(err)
		}
		want[ch.Kind] = b
	}
	if _, ok := want[tickets.ContactCreated]; !ok {
		t.Fatalf("no contact.created change: %v", want)
	}
	if _, ok := want[tickets.TicketCreated]; !ok {
		t.Fatalf("no ticket.created change: %v", want)
	}

	ids := map[string]bool{}
	for range want {
		r := rc.next(t)
		kind := tickets.ChangeKind(r.header.Get(HeaderEvent))
		if err := Verify(secret, r.header.Get(HeaderSignature), r.body, time.Now(), time.Minute); err != nil {
			t.Errorf("%s: Verify: %v", kind, err)
		}
		if ts, sig := r.header.Get(HeaderTimestamp), r.header.Get(HeaderSignature); !strings.HasPrefix(sig, "t="+ts+",v1=") {
			t.Errorf("%s: signature %q does not carry timestamp %q", kind, sig, ts)
		}
		for h, v := range map[string]string{"Content-Type": "application/json", "User-Agent": "Ringdesk-Webhooks/1"} {
			if got := r.header.Get(h); got != v {
				t.Errorf("%s: %s = %q, want %q", kind, h, got, v)
			}
		}
		if string(r.body) != string(want[kind]) {
			t.Errorf("%s: body %s, want %s", kind, r.body, want[kind])
		}
		id := r.header.Get(HeaderDelivery)
		if _, err := strconv.ParseInt(id, 10, 64); err != nil || ids[id] {
			t.Errorf("%s: bad or repeated delivery id %q", kind, id)
		}
		ids[id] = true
	}
	for range want {
		if ev := store.next(t); ev.op != "delivered" {
			t.Errorf("outcome %+v, want delivered", ev)
		}
	}
	assertEmpty(t, svc)
	if n := rc.count(); n != len(want) {
		t.Errorf("receiver got %d requests, want %d", n, len(want))
	}
}

// A receiver that fails twice and then accepts gets three attempts, each
// no earlier than the backoff allowed.
func TestRetriesWithBackoff(t *testing.T) {
	clk := newClock()
	rc := newReceiver(clk.Now, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	svc, _ := openService(t, dbPath(t), clk.Now, tickets.Webhook{URL: srv.URL, Secret: secret})
	store := newRecordingStore(svc)
	var mu sync.Mutex
	var backoffs []int
	s := New(store, Config{
		Secrets: map[string]string{srv.URL: secret},
		Now:     clk.Now,
		Backoff: func(attempt int) time.Duration {
			mu.Lock()
			backoffs = append(backoffs, attempt)
			mu.Unlock()
			return time.Duration(attempt+1) * time.Minute
		},
	})
	start(t, s)
	createContact(t, svc, "Rui")
	s.Kick()

	var notBefore time.Time // the retry time the last failure set
	for i := range 2 {
		r := rc.next(t)
		if r.at.Before(notBefore) {
			t.Errorf("attempt %d at %v, before its retry time %v", i+1, r.at, notBefore)
		}
		ev := store.next(t)
		if ev.op != "failed" || ev.retry.IsZero() || !strings.Contains(ev.why, "500") {
			t.Fatalf("attempt %d: outcome %+v, want failed with a retry time and the 500", i+1, ev)
		}
		if want := clk.Now().Add(time.Duration(i+1) * time.Minute); !ev.retry.Equal(want) {
			t.Errorf("attempt %d: retry at %v, want %v", i+1, ev.retry, want)
		}
		s.Kick() // too early: must not send before the clock reaches ev.retry
		notBefore = ev.retry
		clk.Set(ev.retry)
		s.Kick()
	}
	r := rc.next(t)
	if r.at.Before(notBefore) {
		t.Errorf("attempt 3 at %v, before its retry time %v", r.at, notBefore)
	}
	if ev := store.next(t); ev.op != "delivered" {
		t.Fatalf("attempt 3: outcome %+v, want delivered", ev)
	}
	assertEmpty(t, svc)

	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(rc.got))
	}
	for i, g := range rc.got {
		if g.header.Get(HeaderDelivery) != rc.got[0].header.Get(HeaderDelivery) || string(g.body) != string(rc.got[0].body) {
			t.Errorf("attempt %d is not the same delivery as the first", i+1)
		}
		if err := Verify(secret, g.header.Get(HeaderSignature), g.body, g.at, time.Second); err != nil {
			t.Errorf("attempt %d: Verify at its own time: %v", i+1, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(backoffs) != 2 || backoffs[0] != 0 || backoffs[1] != 1 {
		t.Errorf("Backoff called with %v, want [0 1]", backoffs)
	}
}

// A sender stopped while a delivery is failing loses nothing: a new sender
// on the reopened database delivers it, once.
func TestRestartDelivers(t *testing.T) {
	clk := newClock()
	var mu sync.Mutex
	status := http.StatusServiceUnavailable
	rc := newReceiver(clk.Now, func(int) int {
		mu.Lock()
		defer mu.Unlock()
		return status
	})
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	path := dbPath(t)
	hook := tickets.Webhook{URL: srv.URL, Secret: secret}
	cfg := Config{Secrets: map[string]string{srv.URL: secret}, Now: clk.Now, Backoff: func(int) time.Duration { return time.Minute }}

	svc1, db1 := openService(t, path, clk.Now, hook)
	store1 := newRecordingStore(svc1)
	s1 := New(store1, cfg)
	stop1 := start(t, s1)
	createContact(t, svc1, "Marta")
	s1.Kick()
	first := rc.next(t)
	if ev := store1.next(t); ev.op != "failed" || ev.retry.IsZero() {
		t.Fatalf("outcome %+v, want a failure to retry", ev)
	}
	stop1()
	if err := db1.Close(); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	clk.Set(clk.Now().Add(time.Minute))
	svc2, _ := openService(t, path, clk.Now, hook)
	due, err := svc2.DueDeliveries(context.Background(), clk.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Attempts != 1 {
		t.Fatalf("after restart the outbox holds %+v, want one delivery with one attempt", due)
	}
	store2 := newRecordingStore(svc2)
	s2 := New(store2, cfg)
	start(t, s2)
	s2.Kick()
	second := rc.next(t)
	if ev := store2.next(t); ev.op != "delivered" {
		t.Fatalf("outcome %+v, want delivered", ev)
	}
	if first.header.Get(HeaderDelivery) != second.header.Get(HeaderDelivery) || string(first.body) != string(second.body) {
		t.Errorf("the new sender sent something else: %s %s, want %s %s",
			second.header.Get(HeaderDelivery), second.body, first.header.Get(HeaderDelivery), first.body)
	}
	assertEmpty(t, svc2)

	// Acknowledged means gone: a later look sends nothing more.
	clk.Set(clk.Now().Add(time.Hour))
	s2.Kick()
	createContact(t, svc2, "Nuno") // a new change, to know the sender looked again
	s2.Kick()
	third := rc.next(t)
	if string(third.body) == string(first.body) {
		t.Error("the delivered row was sent again")
	}
	if ev := store2.next(t); ev.op != "delivered" {
		t.Fatalf("outcome %+v, want delivered", ev)
	}
	if n := rc.count(); n != 3 {
		t.Errorf("receiver got %d requests, want 3", n)
	}
}

// Ringdesk-Delivery must name one delivery for good, or a receiver that
// de-duplicates on it drops a new change.
func TestDeliveryIDsNotReused(t *testing.T) {
	svc, _ := openService(t, dbPath(t), nil, tickets.Webhook{URL: "https://example.com/hook", Secret: secret})
	ctx := context.Background()
	createContact(t, svc, "Ana")
	due, err := svc.DueDeliveries(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due = %+v, %v", due, err)
	}
	if err := svc.Delivered(ctx, due[0].ID); err != nil {
		t.Fatal(err)
	}
	createContact(t, svc, "Rui")
	again, err := svc.DueDeliveries(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || len(again) != 1 {
		t.Fatalf("due = %+v, %v", again, err)
	}
	if again[0].ID == due[0].ID {
		t.Errorf("outbox id %d used again once the table emptied: Ringdesk-Delivery must name one delivery for good", again[0].ID)
	}
}

// Deliveries that must not be retried, or not retried any more.
func TestGivesUp(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		maxAttempts int
		noSecret    bool
		requests    int    // the receiver gets
		log         string // logged at error
		why         string
	}{
		{name: "gone", status: http.StatusGone, requests: 1, log: "webhook given up", why: "410"},
		{name: "max attempts", status: http.StatusBadGateway, maxAttempts: 3, requests: 3, log: "webhook given up after max attempts", why: "502"},
		{name: "no secret", status: http.StatusOK, noSecret: true, requests: 0, log: "webhook given up", why: "no secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			rc := newReceiver(clk.Now, always(tt.status))
			srv := httptest.NewServer(rc)
			t.Cleanup(srv.Close)
			svc, _ := openService(t, dbPath(t), clk.Now, tickets.Webhook{URL: srv.URL, Secret: secret})
			store := newRecordingStore(svc)
			var logs logBuffer
			secrets := map[string]string{srv.URL: secret}
			if tt.noSecret {
				secrets = map[string]string{"https://elsewhere.example/": secret}
			}
			s := New(store, Config{
				Secrets:     secrets,
				MaxAttempts: tt.maxAttempts,
				Now:         clk.Now,
				Backoff:     func(int) time.Duration { return time.Second },
				Log:         logs.logger(),
			})
			stop := start(t, s)
			createContact(t, svc, "Ana")
			s.Kick()
			var ev storeEvent
			for i := 0; ; i++ {
				ev = store.next(t)
				if ev.op != "failed" {
					t.Fatalf("outcome %+v, want failed", ev)
				}
				if ev.retry.IsZero() {
					break
				}
				if i+1 >= tt.requests {
					t.Fatalf("attempt %d not given up: %+v", i+1, ev)
				}
				clk.Set(ev.retry)
				s.Kick()
			}
			if !strings.Contains(ev.why, tt.why) {
				t.Errorf("why = %q, want it to mention %q", ev.why, tt.why)
			}
			assertEmpty(t, svc)
			if n := rc.count(); n != tt.requests {
				t.Errorf("receiver got %d requests, want %d", n, tt.requests)
			}
			stop() // the worker logs after it records the outcome
			out := logs.String()
			if !strings.Contains(out, "level=ERROR msg=\""+tt.log+"\"") {
				t.Errorf("log has no error %q:\n%s", tt.log, out)
			}
			if strings.Contains(out, secret) {
				t.Errorf("log shows the secret:\n%s", out)
			}
		})
	}
}

// A redirect is a failed attempt, and its target never hears of it.
func TestRedirectNotFollowed(t *testing.T) {
	target := newReceiver(nil, always(http.StatusOK))
	tsrv := httptest.NewServer(target)
	t.Cleanup(tsrv.Close)
	var redirects sync.WaitGroup
	redirects.Add(1)
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer once.Do(redirects.Done)
		http.Redirect(w, r, tsrv.URL+"/moved", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	svc, _ := openService(t, dbPath(t), nil, tickets.Webhook{URL: srv.URL, Secret: secret})
	store := newRecordingStore(svc)
	s := New(store, Config{
		Secrets: map[string]string{srv.URL: secret, tsrv.URL + "/moved": secret},
		Client:  &http.Client{}, // a client of the caller's, which would follow
		Backoff: func(int) time.Duration { return time.Hour },
	})
	start(t, s)
	createContact(t, svc, "Ana")
	s.Kick()
	redirects.Wait()
	ev := store.next(t)
	if ev.op != "failed" || ev.retry.IsZero() || !strings.Contains(ev.why, "307") || !strings.Contains(ev.why, "not followed") {
		t.Errorf("outcome %+v, want a failure to retry that names the 307", ev)
	}
	if n := target.count(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
	due, err := svc.DueDeliveries(context.Background(), time.Now().Add(2*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Attempts != 1 {
		t.Errorf("outbox holds %+v, want the delivery with one attempt", due)
	}
}

// Cancelling Run does not abandon a request in flight: Run returns after
// it finished and its outcome was recorded.
func TestStopWaitsForInFlight(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	svc, _ := openService(t, dbPath(t), nil, tickets.Webhook{URL: srv.URL, Secret: secret})
	store := newRecordingStore(svc)
	s := New(store, Config{Secrets: map[string]string{srv.URL: secret}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	createContact(t, svc, "Ana")
	s.Kick()
	select {
	case <-arrived:
	case <-time.After(waitFor):
		t.Fatal("no request")
	}
	cancel()
	close(release)
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Run did not return")
	}
	select {
	case ev := <-store.events:
		if ev.op != "delivered" {
			t.Errorf("outcome %+v, want delivered", ev)
		}
	default:
		t.Fatal("Run returned before recording the request in flight")
	}
	assertEmpty(t, svc)
}

// SetSecrets takes effect for the next request; the caller's map is copied.
func TestSetSecrets(t *testing.T) {
	rc := newReceiver(nil, always(http.StatusOK))
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	svc, _ := openService(t, dbPath(t), nil, tickets.Webhook{URL: srv.URL, Secret: "old"})
	store := newRecordingStore(svc)
	s := New(store, Config{Secrets: map[string]string{srv.URL: "old"}})
	secrets := map[string]string{srv.URL: "new"}
	s.SetSecrets(secrets)
	secrets[srv.URL] = "changed by the caller"
	start(t, s)
	createContact(t, svc, "Ana")
	s.Kick()
	r := rc.next(t)
	if err := Verify("new", r.header.Get(HeaderSignature), r.body, time.Now(), time.Minute); err != nil {
		t.Errorf("Verify with the reloaded secret: %v", err)
	}
	if ev := store.next(t); ev.op != "delivered" {
		t.Errorf("outcome %+v, want delivered", ev)
	}
}

// Run is not reentrant, and returns nil once cancelled.
func TestRunTwice(t *testing.T) {
	svc, _ := openService(t, dbPath(t), nil)
	s := New(svc, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 2)
	for range 2 {
		go func() { errc <- s.Run(ctx) }()
	}
	if err := <-errc; !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("one of two Runs returned %v, want ErrAlreadyRunning", err)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
}

func TestDefaultBackoff(t *testing.T) {
	for attempt, base := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second} {
		for range 50 {
			d := DefaultBackoff(attempt)
			if d < base*8/10 || d > base*12/10 {
				t.Fatalf("DefaultBackoff(%d) = %v, want %v ±20%%", attempt, d, base)
			}
		}
	}
	for _, attempt := range []int{10, 11, 63, 64, 1000, -1} {
		if d := DefaultBackoff(attempt); d < 48*time.Minute || d > 72*time.Minute {
			t.Errorf("DefaultBackoff(%d) = %v, want about an hour", attempt, d)
		}
	}
}
