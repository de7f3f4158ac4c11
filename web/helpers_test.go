package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ringdesk/ringdesk/internal/sqlite"
	"github.com/ringdesk/ringdesk/tickets"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a server on a fresh database, listening on loopback.
type env struct {
	t       *testing.T
	svc     *tickets.Service
	srv     *Server
	ts      *httptest.Server
	clk     *clock
	dataDir string
}

// Test users: root is an admin; alice is in support, bob in billing.
const password = "correct horse battery staple"

func testUsers(t *testing.T) []User {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return []User{
		{ID: "root", Name: "Root", PasswordHash: string(h), Admin: true},
		{ID: "alice", Name: "Alice", PasswordHash: string(h), Departments: []string{"support"}},
		{ID: "bob", Name: "Bob", PasswordHash: string(h), Departments: []string{"billing"}},
	}
}

func newEnv(t *testing.T, mod ...func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "ringdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	clk := &clock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	st := tickets.DefaultSettings()
	st.Country = "PT"
	svc, err := tickets.New(ctx, db, tickets.Options{Settings: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	mkdir(t, dataDir)
	cfg := Config{Users: testUsers(t), DataDir: dataDir, Now: clk.Now, MaxBody: 4096}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := New(ctx, db, svc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &env{t: t, svc: svc, srv: srv, ts: ts, clk: clk, dataDir: dataDir}
}

// cred adds credentials to a request.
type cred func(*http.Request)

func bearer(token string) cred {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

func cookie(c *http.Cookie) cred {
	return func(r *http.Request) { r.AddCookie(c) }
}

func header(k, v string) cred {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

// token returns an API token of user.
func (e *env) token(user string) cred {
	e.t.Helper()
	tok, err := e.srv.CreateToken(context.Background(), user, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return bearer(tok)
}

// response is a finished response with its body read.
type response struct {
	*http.Response
	body []byte
}

// errMsg is the error message of a JSON error response.
func (r response) errMsg() string {
	var b errorBody
	_ = json.Unmarshal(r.body, &b)
	return b.Error
}

// do sends a request with a JSON body (nil: none; a string or []byte as
// is) and the given credentials.
func (e *env) do(method, path string, body any, creds ...cred) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, c := range creds {
		c(req)
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Response: resp, body: b}
}

// ok sends a request that must get want, and decodes the body into out
// (when not nil).
func (e *env) ok(want int, out any, method, path string, body any, creds ...cred) response {
	e.t.Helper()
	r := e.do(method, path, body, creds...)
	if r.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.StatusCode, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
	return r
}

// login logs user in and returns the session cookie.
func (e *env) login(user string) *http.Cookie {
	e.t.Helper()
	r := e.ok(http.StatusOK, nil, http.MethodPost, "/api/v1/login", map[string]string{"user": user, "password": password})
	for _, c := range r.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	e.t.Fatalf("login %s: no session cookie in %v", user, r.Header["Set-Cookie"])
	return nil
}

// ticket creates a ticket through the service.
func (e *env) ticket(subject, department, assignee string) tickets.TicketView {
	e.t.Helper()
	v, err := e.svc.CreateTicket(context.Background(), "root", tickets.TicketInput{Subject: subject, Department: department, Assignee: assignee})
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// call plays an answered inbound call from from, routed to department and
// answered by agent, ending with a recording at path (none when "").
func (e *env) call(id, from, department, agent, path string, size int64) {
	e.t.Helper()
	ctx := context.Background()
	seq := 0
	apply := func(ev tickets.Event) {
		e.t.Helper()
		seq++
		ev.Call, ev.Seq, ev.At = id, seq, e.clk.Now()
		if err := e.svc.Apply(ctx, ev); err != nil {
			e.t.Fatalf("apply %s: %v", ev.Kind, err)
		}
	}
	apply(tickets.Event{Kind: tickets.CallStarted, Direction: tickets.Inbound, From: from, To: "+351210000000"})
	apply(tickets.Event{Kind: tickets.CallRouted, Number: "+351210000000", Department: department})
	apply(tickets.Event{Kind: tickets.CallAnswered, Leg: &tickets.LegRecord{ID: id + "-2", Direction: "outbound", Agent: agent, Extension: "1002"}})
	e.clk.Add(30 * time.Second)
	end := tickets.Event{Kind: tickets.CallEnded, End: &tickets.CallEnd{Cause: "normal", HungUpBy: "caller", Answered: true, Talk: 30 * time.Second}}
	if path != "" {
		end.File = &tickets.FileInfo{Path: path, Duration: 30 * time.Second, Size: size}
	}
	apply(end)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
