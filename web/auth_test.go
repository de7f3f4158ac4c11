package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestLogin(t *testing.T) {
	e := newEnv(t)

	wrongPW := e.ok(http.StatusUnauthorized, nil, http.MethodPost, "/api/v1/login", map[string]string{"user": "alice", "password": "nope"})
	noUser := e.ok(http.StatusUnauthorized, nil, http.MethodPost, "/api/v1/login", map[string]string{"user": "mallory", "password": password})
	if wrongPW.errMsg() == "" || wrongPW.errMsg() != noUser.errMsg() {
		t.Errorf("wrong password says %q, unknown user %q: want the same message", wrongPW.errMsg(), noUser.errMsg())
	}
	if len(wrongPW.Cookies()) != 0 {
		t.Errorf("a failed login set cookies: %v", wrongPW.Cookies())
	}

	r := e.ok(http.StatusUnauthorized, nil, http.MethodGet, "/api/v1/me", nil)
	if r.Header.Get("Content-Type") != jsonContentType || r.errMsg() == "" {
		t.Errorf("no credentials: %s %q, want a JSON error", r.Header.Get("Content-Type"), r.body)
	}
	e.ok(http.StatusUnauthorized, nil, http.MethodGet, "/api/v1/me", nil, cookie(&http.Cookie{Name: SessionCookie, Value: "forged"}))

	var u userView
	r = e.ok(http.StatusOK, &u, http.MethodPost, "/api/v1/login", map[string]string{"user": "alice", "password": password})
	if u.ID != "alice" || u.Admin || len(u.Departments) != 1 || u.Departments[0] != "support" {
		t.Errorf("login returned %+v", u)
	}
	var c *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == SessionCookie {
			c = ck
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over plain HTTP, Path=/", c)
	}
	if string(r.body) == "" || strings.Contains(string(r.body), "password") || strings.Contains(string(r.body), "$2a$") {
		t.Errorf("login response leaks the hash: %s", r.body)
	}

	var me userView
	e.ok(http.StatusOK, &me, http.MethodGet, "/api/v1/me", nil, cookie(c))
	if me.ID != "alice" {
		t.Errorf("me = %+v", me)
	}
	e.ok(http.StatusOK, nil, http.MethodPost, "/api/v1/logout", nil, cookie(c))
	e.ok(http.StatusUnauthorized, nil, http.MethodGet, "/api/v1/me", nil, cookie(c))
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SessionTTL = time.Hour })
	c := e.login("alice")
	e.ok(http.StatusOK, nil, http.MethodGet, "/api/v1/me", nil, cookie(c))
	e.clk.Add(time.Hour)
	e.ok(http.StatusUnauthorized, nil, http.MethodGet, "/api/v1/me", nil, cookie(c))
}

func TestSetUsersRemovesAccess(t *testing.T) {
	e := newEnv(t)
	c := e.login("alice")
	tok := e.token("alice")
	users := testUsers(t)
	e.srv.SetUsers(users[:1]) // root only
	e.ok(http.StatusUnauthorized, nil, http.MethodGet, "/api/v1/me", nil, cookie(c))
	e.ok(http.StatusUnauthorized, nil, http.MethodGet, "/api/v1/me", nil, tok)
	e.srv.SetUsers(users)
	e.ok(http.StatusOK, nil, http.MethodGet, "/api/v1/me", nil, tok)
}

func TestBearerToken(t *testing.T) {
	e := newEnv(t)
	tok, err := e.srv.CreateToken(context.Background(), "bob", "crm sync")
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != len(TokenPrefix)+43 || tok[:4] != TokenPrefix {
		t.Errorf("token %q: want rdk_ and 43 base64url characters", tok)
	}
	var me userView
	e.ok(http.StatusOK, &me, http.MethodGet, "/api/v1/me", nil, bearer(tok))
	if me.ID != "bob" {
		t.Errorf("me = %+v", me)
	}
	var n int
	if err := e.srv.db.QueryRowContext(context.Background(), `SELECT count(*) FROM api_tokens WHERE token_hash = ? AND last_used_at IS NOT NULL`, hashToken(tok)).Scan(&n); err != nil || n != 1 {
		t.Errorf("token row with the hash and a last use: %d, %v", n, err)
	}
	if err := e.srv.db.QueryRowContext(context.Background(), `SELECT count(*) FROM api_tokens WHERE token_hash = ?`, tok).Scan(&n); err != nil || n != 0 {
		t.Errorf("the token itself is stored: %d, %v", n, err)
	}
	for _, h := range []string{"Bearer rdk_nope", "Bearer " + tok[:len(tok)-1], "Basic " + tok, "Bearer"} {
		e.ok(http.StatusUnauthorized, nil, http.MethodGet, "/api/v1/me", nil, header("Authorization", h))
	}
	// An invalid Authorization header is not rescued by a valid cookie.
	e.ok(http.StatusUnauthorized, nil, http.MethodGet, "/api/v1/me", nil, cookie(e.login("bob")), header("Authorization", "Bearer rdk_nope"))

	if _, err := e.srv.CreateToken(context.Background(), "mallory", "x"); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("token for an unknown user: %v", err)
	}
}

func TestCrossOrigin(t *testing.T) {
	e := newEnv(t)
	c := e.login("alice")
	body := map[string]any{"subject": "Printer", "department": "support"}
	tests := []struct {
		name  string
		creds []cred
		want  int
	}{
		{"cookie, cross-origin Origin", []cred{cookie(c), header("Origin", "https://evil.example")}, http.StatusForbidden},
		{"cookie, Sec-Fetch-Site cross-site", []cred{cookie(c), header("Sec-Fetch-Site", "cross-site")}, http.StatusForbidden},
		{"cookie, same-origin Origin", []cred{cookie(c), header("Origin", e.ts.URL)}, http.StatusCreated},
		{"cookie, Sec-Fetch-Site same-origin", []cred{cookie(c), header("Sec-Fetch-Site", "same-origin")}, http.StatusCreated},
		{"cookie, no browser headers", []cred{cookie(c)}, http.StatusCreated},
		{"bearer, cross-site", []cred{e.token("alice"), header("Sec-Fetch-Site", "cross-site"), header("Origin", "https://evil.example")}, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/api/v1/tickets", body, tt.creds...)
			if r.StatusCode != tt.want {
				t.Errorf("status %d, want %d: %s", r.StatusCode, tt.want, r.body)
			}
		})
	}
	// safe methods are not refused
	e.ok(http.StatusOK, nil, http.MethodGet, "/api/v1/tickets", nil, cookie(c), header("Sec-Fetch-Site", "cross-site"))
	// a cross-site logout is refused too
	e.ok(http.StatusForbidden, nil, http.MethodPost, "/api/v1/logout", nil, cookie(c), header("Sec-Fetch-Site", "cross-site"))
	e.ok(http.StatusOK, nil, http.MethodGet, "/api/v1/me", nil, cookie(c))
	// login CSRF
	e.ok(http.StatusForbidden, nil, http.MethodPost, "/api/v1/login", map[string]string{"user": "alice", "password": password}, header("Sec-Fetch-Site", "cross-site"))
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("s3cret")) != nil {
		t.Error("hash does not match the password")
	}
	if _, err := HashPassword(string(make([]byte, 73))); err == nil {
		t.Error("a password bcrypt would cut was accepted")
	}
	if _, err := HashPassword(""); err == nil {
		t.Error("an empty password was accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"negative ttl", Config{SessionTTL: -1}},
		{"negative body", Config{MaxBody: -1}},
		{"user without id", Config{Users: []User{{Name: "x"}}}},
		{"duplicate user", Config{Users: []User{{ID: "a"}, {ID: "a"}}}},
		{"bad hash", Config{Users: []User{{ID: "a", PasswordHash: "plain"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Validate = %v, want ErrInvalidConfig", err)
			}
		})
	}
}
