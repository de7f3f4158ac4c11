package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ringdesk/ringdesk/tickets"
)

// Limits on API tokens.
const (
	// MaxTokenName is the longest token name, in characters.
	MaxTokenName = 64
	// MaxTokensPerUser is how many API tokens one user may have.
	MaxTokensPerUser = 20
)

// TokenInfo describes an API token. It never holds the token or its hash:
// the token is shown once, when it is made, and only its hash is stored.
type TokenInfo struct {
	// ID names the token for RevokeToken and DELETE /api/v1/tokens/{id}.
	ID int64 `json:"id"`
	// User is the user the token acts as.
	User string `json:"user"`
	// Name says what the token is for.
	Name string `json:"name"`
	// Created is when the token was made.
	Created time.Time `json:"created"`
	// LastUsed is when the token last authenticated a request, to within
	// a minute; zero if never.
	LastUsed time.Time `json:"last_used,omitzero"`
}

// CreateToken creates an API token for user, named name (what it is for),
// and returns it: "rdk_" and 32 random bytes in base64url. It is shown
// once; only its SHA-256 is stored. See IssueToken for the rules.
func (s *Server) CreateToken(ctx context.Context, user, name string) (string, error) {
	_, token, err := s.IssueToken(ctx, user, name)
	return token, err
}

// IssueToken creates an API token for user, named name, and returns its
// description and the token itself, which is shown once: only its SHA-256
// is stored. The name is trimmed of surrounding space and must then be 1
// to MaxTokenName printable characters (else an error wrapping
// tickets.ErrInvalid). A user has at most MaxTokensPerUser tokens (else an
// error wrapping tickets.ErrConflict). user must be one of the configured
// users (else ErrUnknownUser).
func (s *Server) IssueToken(ctx context.Context, user, name string) (TokenInfo, string, error) {
	if _, ok := s.user(user); !ok {
		return TokenInfo{}, "", fmt.Errorf("%w: %q", ErrUnknownUser, user)
	}
	name, err := tokenName(name)
	if err != nil {
		return TokenInfo{}, "", err
	}
	token, hash := newToken(TokenPrefix)
	info := TokenInfo{User: user, Name: name, Created: time.UnixMilli(s.now().UnixMilli()).UTC()}
	// The database opens transactions with BEGIN IMMEDIATE, so two
	// requests cannot both see 19 tokens and both add one.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return TokenInfo{}, "", fmt.Errorf("web: create token: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err = tx.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE user_id = ?`, user).Scan(&n); err != nil {
		return TokenInfo{}, "", fmt.Errorf("web: create token: %w", err)
	}
	if n >= MaxTokensPerUser {
		return TokenInfo{}, "", fmt.Errorf("%w: %s already has %d API tokens, the most allowed: revoke one first", tickets.ErrConflict, user, n)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (token_hash, user_id, name, created_at) VALUES (?, ?, ?, ?)`,
		hash, user, name, info.Created.UnixMilli())
	if err != nil {
		return TokenInfo{}, "", fmt.Errorf("web: create token: %w", err)
	}
	if info.ID, err = res.LastInsertId(); err != nil {
		return TokenInfo{}, "", fmt.Errorf("web: create token: %w", err)
	}
	if err = tx.Commit(); err != nil {
		return TokenInfo{}, "", fmt.Errorf("web: create token: %w", err)
	}
	return info, token, nil
}

// tokenName checks and trims a token name.
func tokenName(name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	ok := n >= 1 && n <= MaxTokenName && utf8.ValidString(name)
	for _, r := range name {
		ok = ok && unicode.IsPrint(r)
	}
	if !ok {
		return "", fmt.Errorf("%w: a token name must be 1-%d printable characters", tickets.ErrInvalid, MaxTokenName)
	}
	return name, nil
}

// Tokens lists the API tokens of user, or everyone's when user is "",
// newest first. Tokens of users no longer configured are listed too (they
// do not work, but may be revoked).
func (s *Server) Tokens(ctx context.Context, user string) ([]TokenInfo, error) {
	q := `SELECT id, user_id, name, created_at, last_used_at FROM api_tokens`
	var args []any
	if user != "" {
		q += ` WHERE user_id = ?`
		args = append(args, user)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("web: list tokens: %w", err)
	}
	defer rows.Close()
	infos := []TokenInfo{}
	for rows.Next() {
		var (
			t        TokenInfo
			created  int64
			lastUsed sql.NullInt64
		)
		if err := rows.Scan(&t.ID, &t.User, &t.Name, &created, &lastUsed); err != nil {
			return nil, fmt.Errorf("web: list tokens: %w", err)
		}
		t.Created = time.UnixMilli(created).UTC()
		if lastUsed.Valid {
			t.LastUsed = time.UnixMilli(lastUsed.Int64).UTC()
		}
		infos = append(infos, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("web: list tokens: %w", err)
	}
	return infos, nil
}

// RevokeToken deletes the API token id, whoever it belongs to; the next
// request with it is refused. A token that does not exist is an error
// wrapping tickets.ErrNotFound.
func (s *Server) RevokeToken(ctx context.Context, id int64) error {
	return s.revokeToken(ctx, id, "")
}

// revokeToken deletes token id if it belongs to owner ("": anyone). The
// one statement checks and deletes, so a token of another user is "not
// found" exactly like a missing one.
func (s *Server) revokeToken(ctx context.Context, id int64, owner string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ? AND (? = '' OR user_id = ?)`, id, owner, owner)
	if err != nil {
		return fmt.Errorf("web: revoke token %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("web: revoke token %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: API token %d", tickets.ErrNotFound, id)
	}
	return nil
}

// listTokens lists the caller's tokens; admins get everyone's, or one
// user's with ?user=.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, p *principal) error {
	user := r.URL.Query().Get("user")
	switch {
	case user == "me":
		user = p.ID
	case p.Admin:
	case user == "" || user == p.ID:
		user = p.ID
	default:
		return errForbidden("you may list only your own API tokens")
	}
	infos, err := s.Tokens(r.Context(), user)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, infos)
}

type tokenInput struct {
	Name string `json:"name"`
}

// newTokenView is a token just made: the one time the token is shown.
type newTokenView struct {
	TokenInfo
	Token string `json:"token"`
}

// createToken makes an API token for the caller.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p *principal) error {
	var in tokenInput
	if err := decodeJSON(w, r, s.cfg.MaxBody, &in); err != nil {
		return err
	}
	info, token, err := s.IssueToken(r.Context(), p.ID, in.Name)
	if err != nil {
		if errors.Is(err, ErrUnknownUser) { // removed by a reload just now
			return errUnauthorized()
		}
		return err
	}
	s.log.Info("web: API token created", "user", p.ID, "token_id", info.ID)
	return writeJSON(w, http.StatusCreated, newTokenView{TokenInfo: info, Token: token})
}

// deleteToken revokes a token of the caller; admins may revoke any. An
// agent naming another user's token gets 404, as for a missing one, so
// that token ids tell nothing.
func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	owner := p.ID
	if p.Admin {
		owner = ""
	}
	if err := s.revokeToken(r.Context(), id, owner); err != nil {
		return err
	}
	s.log.Info("web: API token revoked", "user", p.ID, "token_id", id)
	w.Header().Del("Content-Type")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
