package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// loginFrom tries to log in as user with pw from the client address
// remote ("ip:port"), straight through the handler, so that the test can
// pick the address.
func (e *env) loginFrom(remote, user, pw string) response {
	e.t.Helper()
	b, err := json.Marshal(loginInput{User: user, Password: pw})
	if err != nil {
		e.t.Fatal(err)
	}
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/v1/login", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	resp := rec.Result()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Response: resp, body: body}
}

// wantStatus checks a response's status.
func wantStatus(t *testing.T, what string, r response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.StatusCode, want, r.body)
	}
}

// wantThrottled checks r is a 429 with a JSON error and a Retry-After of
// wantSecs.
func wantThrottled(t *testing.T, what string, r response, wantSecs int) {
	t.Helper()
	wantStatus(t, what, r, http.StatusTooManyRequests)
	if got := r.Header.Get("Retry-After"); got != strconv.Itoa(wantSecs) {
		t.Errorf("%s: Retry-After %q, want %d", what, got, wantSecs)
	}
	if r.errMsg() == "" || r.Header.Get("Content-Type") != jsonContentType {
		t.Errorf("%s: %s %q, want a JSON error", what, r.Header.Get("Content-Type"), r.body)
	}
	if len(r.Cookies()) != 0 {
		t.Errorf("%s: a throttled login set cookies", what)
	}
}

func TestLoginThrottle(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	e := newEnv(t, func(c *Config) {
		c.Log = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	const ip, other = "192.0.2.7:40000", "198.51.100.9:40000"
	for i := range loginFailuresPerUser {
		wantStatus(t, fmt.Sprint("wrong password ", i+1), e.loginFrom(ip, "alice", "wrong"), http.StatusUnauthorized)
		e.clk.Add(time.Second)
	}
	// The 6th attempt is refused even with the right password, until the
	// first failure is loginWindow old.
	wantThrottled(t, "right password after 5 failures", e.loginFrom(ip, "alice", password), int((loginWindow - 5*time.Second).Seconds()))
	wantThrottled(t, "wrong password after 5 failures", e.loginFrom(ip, "alice", "wrong"), int((loginWindow - 5*time.Second).Seconds()))
	// from the same address the same for another port; not for another
	// address, nor for another user from this one
	wantStatus(t, "another port", e.loginFrom("192.0.2.7:40001", "alice", password), http.StatusTooManyRequests)
	wantStatus(t, "another address", e.loginFrom(other, "alice", password), http.StatusOK)
	wantStatus(t, "another user", e.loginFrom(ip, "bob", password), http.StatusOK)
	// X-Forwarded-For is not believed
	r := e.do(http.MethodPost, "/api/v1/login", map[string]string{"user": "alice", "password": password}, header("X-Forwarded-For", "192.0.2.7"))
	wantStatus(t, "X-Forwarded-For of the throttled address", r, http.StatusOK)

	logMu.Lock()
	logged := logs.String()
	logMu.Unlock()
	if !strings.Contains(logged, "level=WARN") || !strings.Contains(logged, "user=alice") || !strings.Contains(logged, "ip=192.0.2.7") ||
		strings.Contains(logged, "wrong") || strings.Contains(logged, password) {
		t.Errorf("log: %s\nwant a warning naming the user and address, and no password", logged)
	}
	if n := strings.Count(logged, "level=WARN"); n != 1 {
		t.Errorf("%d warnings, want 1 (when throttling starts): %s", n, logged)
	}

	// The window is sliding: once the first failure is loginWindow old,
	// one attempt is let through.
	e.clk.Add(loginWindow - 6*time.Second)
	wantThrottled(t, "just before the window passes", e.loginFrom(ip, "alice", password), 1)
	e.clk.Add(time.Second)
	wantStatus(t, "after the window", e.loginFrom(ip, "alice", password), http.StatusOK)
}

func TestLoginThrottleResetOnSuccess(t *testing.T) {
	e := newEnv(t)
	const ip = "192.0.2.7:1234"
	for range 2 {
		for i := range loginFailuresPerUser - 1 {
			wantStatus(t, fmt.Sprint("wrong password ", i+1), e.loginFrom(ip, "alice", "wrong"), http.StatusUnauthorized)
		}
		wantStatus(t, "right password", e.loginFrom(ip, "alice", password), http.StatusOK)
	}
	// the count starts again: 4 more failures are still not throttled
	for i := range loginFailuresPerUser - 1 {
		wantStatus(t, fmt.Sprint("wrong password ", i+1), e.loginFrom(ip, "alice", "wrong"), http.StatusUnauthorized)
	}
	wantStatus(t, "right password", e.loginFrom(ip, "alice", password), http.StatusOK)
	if n := e.srv.throttle.len(); n != 1 {
		t.Errorf("%d throttle entries, want 1 (the address's failures)", n)
	}
}

func TestLoginThrottlePerIP(t *testing.T) {
	e := newEnv(t)
	const ip = "[2001:db8:1:2::7]:1234"
	// many user names, each under its own limit
	for i := range loginFailuresPerIP {
		wantStatus(t, fmt.Sprint("failure ", i+1), e.loginFrom(ip, fmt.Sprint("user", i), "wrong"), http.StatusUnauthorized)
	}
	wantThrottled(t, "a new user name", e.loginFrom(ip, "someone", "x"), int(loginWindow.Seconds()))
	wantThrottled(t, "a real user, right password", e.loginFrom(ip, "alice", password), int(loginWindow.Seconds()))
	// an IPv6 client counts by its /64
	wantStatus(t, "same /64", e.loginFrom("[2001:db8:1:2::8]:1234", "alice", password), http.StatusTooManyRequests)
	wantStatus(t, "another /64", e.loginFrom("[2001:db8:1:3::7]:1234", "alice", password), http.StatusOK)
	wantStatus(t, "an IPv4 client", e.loginFrom("192.0.2.7:1234", "alice", password), http.StatusOK)
	e.clk.Add(loginWindow)
	wantStatus(t, "after the window", e.loginFrom(ip, "alice", password), http.StatusOK)
}

// TestLoginThrottleSuccessesDoNotCount: logins that succeed do not use up
// the address's allowance (many agents behind one NAT).
func TestLoginThrottleSuccessesDoNotCount(t *testing.T) {
	e := newEnv(t)
	const ip = "192.0.2.7:1234"
	for i := range 2 * loginFailuresPerIP {
		wantStatus(t, fmt.Sprint("login ", i+1), e.loginFrom(ip, "bob", password), http.StatusOK)
	}
	wantStatus(t, "a failure", e.loginFrom(ip, "alice", "wrong"), http.StatusUnauthorized)
}

// TestLoginThrottleParallel: parallel attempts cannot all slip past the
// check before the first of them has failed.
func TestLoginThrottleParallel(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range cap(codes) {
		wg.Go(func() {
			req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/v1/login",
				strings.NewReader(`{"user":"alice","password":"wrong"}`))
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = "192.0.2.7:1"
			rec := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(rec, req)
			codes <- rec.Code
		})
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[http.StatusUnauthorized] != loginFailuresPerUser || n[http.StatusTooManyRequests] != cap(codes)-loginFailuresPerUser {
		t.Errorf("statuses %v: want %d × 401, the rest 429", n, loginFailuresPerUser)
	}
}

func TestLoginThrottleBounded(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	th := newLoginThrottle(clk.Now)
	th.max = 100
	for i := range 1000 {
		th.begin(fmt.Sprintf("10.0.%d.%d", i/256, i%256), "alice")
		clk.Add(time.Millisecond)
	}
	if n := th.len(); n > th.max {
		t.Fatalf("%d entries, want at most %d", n, th.max)
	}
	// the newest are kept: the last address is still counted
	last := "10.0.3.231"
	for range loginFailuresPerUser - 1 {
		if _, wait := th.begin(last, "alice"); wait != 0 {
			t.Fatal("throttled too early")
		}
	}
	if _, wait := th.begin(last, "alice"); wait == 0 {
		t.Error("the newest entry was evicted")
	}
	// a success takes its attempt back from the address's count
	a, _ := th.begin("10.9.9.9", strings.Repeat("x", 1<<20))
	before := th.len()
	th.succeeded(a)
	if n := th.len(); n != before-2 {
		t.Errorf("%d entries after a success, want %d", n, before-2)
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"192.0.2.1:80", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1"},
		{"[2001:db8::1]:80", "2001:db8::/64"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
		{"192.0.2.1", "192.0.2.1"},
		{"@", "other"},
		{"", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			if got := clientIP(r); got != tt.want {
				t.Errorf("clientIP(%q) = %q, want %q", tt.remote, got, tt.want)
			}
		})
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
