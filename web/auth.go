package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/ringdesk/ringdesk/tickets"
)

const (
	// SessionCookie is the name of the browser session cookie.
	SessionCookie = "ringdesk_session"
	// TokenPrefix starts every API token.
	TokenPrefix = "rdk_"
	// tokenBytes is the randomness in a session cookie or API token.
	tokenBytes = 32
	// lastUsedEvery is how often a token's last use is written at most.
	lastUsedEvery = time.Minute
	// maxLogName is the most of a login's user name that is logged.
	maxLogName = 64
)

// principal is who makes a request: the user, and the session (hash) when
// a cookie authenticated it ("" for a bearer token).
type principal struct {
	User
	session string
}

// visibility is what the caller may see of tickets; nil for admins.
func (p *principal) visibility() *tickets.Visibility {
	if p.Admin {
		return nil
	}
	return &tickets.Visibility{Agent: p.ID, Departments: p.Departments}
}

// userView is a user as the API shows it: never the password hash.
type userView struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Admin       bool     `json:"admin"`
	Departments []string `json:"departments"`
}

func viewOf(u User) userView {
	v := userView{ID: u.ID, Name: u.Name, Admin: u.Admin, Departments: u.Departments}
	if v.Departments == nil {
		v.Departments = []string{}
	}
	return v
}

// newToken returns a random token with prefix and the hex SHA-256 that is
// stored in its place.
func newToken(prefix string) (token, hash string) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// HashPassword returns the bcrypt hash of pw for User.PasswordHash (the
// `ringdesk passwd` command). bcrypt reads at most 72 bytes, so a longer
// password is refused rather than silently cut.
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("web: empty password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("web: hash password: %w", err)
	}
	return string(h), nil
}

// authenticate finds who makes r: a bearer token when the request has an
// Authorization header (and then only that), else the session cookie.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(token, TokenPrefix) {
			return nil, errorf(http.StatusUnauthorized, "the Authorization header must be Bearer rdk_...")
		}
		return s.tokenUser(ctx, token)
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, errUnauthorized()
	}
	hash := hashToken(c.Value)
	var id string
	err = s.db.QueryRowContext(ctx, `SELECT user_id FROM web_sessions WHERE token_hash = ? AND expires_at > ?`, hash, s.now().UnixMilli()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(http.StatusUnauthorized, "the session has expired or was logged out: log in again")
	}
	if err != nil {
		return nil, fmt.Errorf("web: session: %w", err)
	}
	u, ok := s.user(id)
	if !ok {
		return nil, errorf(http.StatusUnauthorized, "user %q no longer exists", id)
	}
	return &principal{User: u, session: hash}, nil
}

func (s *Server) tokenUser(ctx context.Context, token string) (*principal, error) {
	hash := hashToken(token)
	var id string
	var lastUsed sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT user_id, last_used_at FROM api_tokens WHERE token_hash = ?`, hash).Scan(&id, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(http.StatusUnauthorized, "invalid API token")
	}
	if err != nil {
		return nil, fmt.Errorf("web: token: %w", err)
	}
	u, ok := s.user(id)
	if !ok {
		return nil, errorf(http.StatusUnauthorized, "user %q no longer exists", id)
	}
	now := s.now()
	if !lastUsed.Valid || now.Sub(time.UnixMilli(lastUsed.Int64)) >= lastUsedEvery {
		if _, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?`, now.UnixMilli(), hash); err != nil {
			return nil, fmt.Errorf("web: token: %w", err)
		}
	}
	return &principal{User: u}, nil
}

type loginInput struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// login checks a user's password and starts a session. A wrong user and a
// wrong password get the same answer, after the same bcrypt work.
func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var in loginInput
	if err := decodeJSON(w, r, s.cfg.MaxBody, &in); err != nil {
		return err
	}
	ip := clientIP(r)
	attempt, wait := s.throttle.begin(ip, in.User)
	if wait > 0 {
		// Refused before the password is checked: the answer is the same
		// whether it was right or wrong.
		secs := int64((wait + time.Second - 1) / time.Second)
		s.log.Debug("web: login refused: throttled", "user", logName(in.User), "ip", ip, "retry_after", secs)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		return errorf(http.StatusTooManyRequests, "too many failed logins: try again in %d seconds", secs)
	}
	set := s.users.Load()
	u, ok := set.byID[in.User]
	hash := set.dummy
	if ok && u.PasswordHash != "" {
		hash = []byte(u.PasswordHash)
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(in.Password)) == nil
	if !ok || u.PasswordHash == "" || !match {
		if attempt.userFull {
			s.log.Warn("web: login throttled: too many failed logins for this user from this address",
				"user", logName(in.User), "ip", ip, "failures", loginFailuresPerUser, "window", loginWindow)
		}
		if attempt.ipFull {
			s.log.Warn("web: login throttled: too many failed logins from this address",
				"user", logName(in.User), "ip", ip, "failures", loginFailuresPerIP, "window", loginWindow)
		}
		return errorf(http.StatusUnauthorized, "wrong user or password")
	}
	s.throttle.succeeded(attempt)
	ctx := r.Context()
	now := s.now()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM web_sessions WHERE expires_at <= ?`, now.UnixMilli()); err != nil {
		return fmt.Errorf("web: sessions: %w", err)
	}
	token, hashed := newToken("")
	expires := now.Add(s.cfg.SessionTTL)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO web_sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		hashed, u.ID, now.UnixMilli(), expires.UnixMilli()); err != nil {
		return fmt.Errorf("web: session: %w", err)
	}
	// Secure only when the request came over TLS, so that a PBX on plain
	// HTTP in a LAN can still be logged into.
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: Secure is set whenever TLS is used
		Name:     SessionCookie,
		Value:    token,
		Path:     "/",
		Expires:  expires,
		MaxAge:   int(s.cfg.SessionTTL / time.Second),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
	s.log.Info("web: login", "user", u.ID, "remote", r.RemoteAddr)
	return writeJSON(w, http.StatusOK, viewOf(u))
}

// logName is a user name as logged: at most maxLogName bytes of it.
func logName(name string) string {
	if len(name) <= maxLogName {
		return name
	}
	cut := maxLogName
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "..."
}

// logout ends the caller's session (a bearer token stays valid).
func (s *Server) logout(w http.ResponseWriter, r *http.Request, p *principal) error {
	if p.session != "" {
		if _, err := s.db.ExecContext(r.Context(), `DELETE FROM web_sessions WHERE token_hash = ?`, p.session); err != nil {
			return fmt.Errorf("web: logout: %w", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, //nolint:gosec // G124: as in login
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	return writeJSON(w, http.StatusOK, map[string]bool{"logged_out": true})
}

func (s *Server) me(w http.ResponseWriter, _ *http.Request, p *principal) error {
	return writeJSON(w, http.StatusOK, viewOf(p.User))
}
