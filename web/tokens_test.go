package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/tickets"
)

func TestTokenAPI(t *testing.T) {
	e := newEnv(t)
	alice := cookie(e.login("alice"))

	var made newTokenView
	r := e.ok(http.StatusCreated, &made, http.MethodPost, "/api/v1/tokens", map[string]string{"name": "  crm sync "}, alice)
	if made.ID <= 0 || made.Name != "crm sync" || made.User != "alice" || !strings.HasPrefix(made.Token, TokenPrefix) ||
		!made.Created.Equal(e.clk.Now()) || !made.LastUsed.IsZero() {
		t.Fatalf("created %s", r.body)
	}
	if strings.Contains(string(r.body), "last_used") {
		t.Errorf("a new token has last_used: %s", r.body)
	}
	tok := bearer(made.Token)
	var me userView
	e.ok(http.StatusOK, &me, http.MethodGet, "/api/v1/me", nil, tok)
	if me.ID != "alice" {
		t.Errorf("the new token is %s's", me.ID)
	}

	var list []map[string]any
	r = e.ok(http.StatusOK, &list, http.MethodGet, "/api/v1/tokens", nil, alice)
	if len(list) != 1 || list[0]["id"] != float64(made.ID) || list[0]["name"] != "crm sync" || list[0]["user"] != "alice" || list[0]["last_used"] == nil {
		t.Fatalf("list: %s", r.body)
	}
	if strings.Contains(string(r.body), made.Token) || strings.Contains(string(r.body), hashToken(made.Token)) || list[0]["token"] != nil {
		t.Errorf("the list shows the secret: %s", r.body)
	}

	// A token may revoke itself; the next request with it is refused.
	r = e.ok(http.StatusNoContent, nil, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", made.ID), nil, tok)
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %q", r.body)
	}
	e.ok(http.StatusUnauthorized, nil, http.MethodGet, "/api/v1/me", nil, tok)
	e.ok(http.StatusNotFound, nil, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", made.ID), nil, alice)
	e.ok(http.StatusOK, &list, http.MethodGet, "/api/v1/tokens", nil, alice)
	if len(list) != 0 {
		t.Errorf("revoked token still listed: %v", list)
	}
	e.ok(http.StatusBadRequest, nil, http.MethodDelete, "/api/v1/tokens/x", nil, alice)
}

func TestTokenOwnership(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	aliceInfo, aliceTok, err := e.srv.IssueToken(ctx, "alice", "laptop")
	if err != nil {
		t.Fatal(err)
	}
	bobInfo, _, err := e.srv.IssueToken(ctx, "bob", "phone")
	if err != nil {
		t.Fatal(err)
	}
	alice, bob, root := bearer(aliceTok), e.token("bob"), e.token("root")

	var list []TokenInfo
	e.ok(http.StatusOK, &list, http.MethodGet, "/api/v1/tokens", nil, alice)
	if len(list) != 1 || list[0].ID != aliceInfo.ID {
		t.Errorf("alice lists %+v", list)
	}
	e.ok(http.StatusOK, &list, http.MethodGet, "/api/v1/tokens?user=me", nil, alice)
	if len(list) != 1 || list[0].ID != aliceInfo.ID {
		t.Errorf("alice lists (user=me) %+v", list)
	}
	e.ok(http.StatusForbidden, nil, http.MethodGet, "/api/v1/tokens?user=bob", nil, alice)

	// Another agent's token is "not found", exactly like a missing one.
	other := e.ok(http.StatusNotFound, nil, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", bobInfo.ID), nil, alice)
	missing := e.ok(http.StatusNotFound, nil, http.MethodDelete, "/api/v1/tokens/999", nil, alice)
	if strings.Contains(other.errMsg(), "bob") || strings.ReplaceAll(other.errMsg(), fmt.Sprint(bobInfo.ID), "999") != missing.errMsg() {
		t.Errorf("another's token: %q; a missing one: %q", other.errMsg(), missing.errMsg())
	}
	e.ok(http.StatusOK, nil, http.MethodGet, "/api/v1/me", nil, bob)

	// Admins see everyone's, or one user's, and may revoke any.
	e.ok(http.StatusOK, &list, http.MethodGet, "/api/v1/tokens", nil, root)
	users := map[string]int{}
	for _, ti := range list {
		users[ti.User]++
	}
	if len(list) != 4 || users["alice"] != 1 || users["bob"] != 2 || users["root"] != 1 {
		t.Errorf("admin lists %+v", list)
	}
	for i := 1; i < len(list); i++ {
		if list[i].ID >= list[i-1].ID {
			t.Errorf("not newest first: %+v", list)
		}
	}
	e.ok(http.StatusOK, &list, http.MethodGet, "/api/v1/tokens?user=bob", nil, root)
	if len(list) != 2 || list[0].User != "bob" || list[1].User != "bob" {
		t.Errorf("admin lists bob's: %+v", list)
	}
	e.ok(http.StatusNoContent, nil, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", aliceInfo.ID), nil, root)
	e.ok(http.StatusUnauthorized, nil, http.MethodGet, "/api/v1/me", nil, alice)
}

func TestTokenLimits(t *testing.T) {
	e := newEnv(t)
	bob := e.token("bob") // the first of bob's tokens
	for i := 2; i <= MaxTokensPerUser; i++ {
		e.ok(http.StatusCreated, nil, http.MethodPost, "/api/v1/tokens", map[string]string{"name": fmt.Sprint("t", i)}, bob)
	}
	r := e.ok(http.StatusConflict, nil, http.MethodPost, "/api/v1/tokens", map[string]string{"name": "one too many"}, bob)
	if !strings.Contains(r.errMsg(), "revoke") {
		t.Errorf("21st token: %q", r.errMsg())
	}
	if _, err := e.srv.CreateToken(context.Background(), "bob", "cli"); !errors.Is(err, tickets.ErrConflict) {
		t.Errorf("21st token through CreateToken: %v", err)
	}
	// other users are not affected
	e.ok(http.StatusCreated, nil, http.MethodPost, "/api/v1/tokens", map[string]string{"name": "mine"}, e.token("alice"))

	tests := []struct {
		name string
		body any
		want int
	}{
		{"empty", map[string]string{"name": ""}, http.StatusBadRequest},
		{"spaces", map[string]string{"name": "   "}, http.StatusBadRequest},
		{"missing", map[string]string{}, http.StatusBadRequest},
		{"too long", map[string]string{"name": strings.Repeat("x", MaxTokenName+1)}, http.StatusBadRequest},
		{"control character", map[string]string{"name": "a\nb"}, http.StatusBadRequest},
		{"escape", map[string]string{"name": "a\x1b[31m"}, http.StatusBadRequest},
		{"unknown field", map[string]string{"name": "x", "user": "bob"}, http.StatusBadRequest},
		{"longest", map[string]string{"name": strings.Repeat("é", MaxTokenName)}, http.StatusCreated},
	}
	alice := e.token("alice")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "/api/v1/tokens", tt.body, alice)
			if r.StatusCode != tt.want {
				t.Errorf("status %d, want %d: %s", r.StatusCode, tt.want, r.body)
			}
		})
	}
}

func TestTokensGoAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	info, tok, err := e.srv.IssueToken(ctx, "alice", "ci")
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Hour)
	e.ok(http.StatusOK, nil, http.MethodGet, "/api/v1/me", nil, bearer(tok))
	if _, err = e.srv.CreateToken(ctx, "bob", "x"); err != nil {
		t.Fatal(err)
	}
	all, err := e.srv.Tokens(ctx, "")
	if err != nil || len(all) != 2 || all[1].ID != info.ID || !all[1].LastUsed.Equal(e.clk.Now()) || !all[1].Created.Equal(info.Created) {
		t.Fatalf("Tokens(\"\") = %+v, %v", all, err)
	}
	mine, err := e.srv.Tokens(ctx, "alice")
	if err != nil || len(mine) != 1 || mine[0] != all[1] {
		t.Errorf("Tokens(alice) = %+v, %v", mine, err)
	}
	none, err := e.srv.Tokens(ctx, "nobody")
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("Tokens(nobody) = %#v, %v: want an empty list", none, err)
	}
	if err := e.srv.RevokeToken(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	e.ok(http.StatusUnauthorized, nil, http.MethodGet, "/api/v1/me", nil, bearer(tok))
	if err := e.srv.RevokeToken(ctx, info.ID); !errors.Is(err, tickets.ErrNotFound) {
		t.Errorf("revoking twice: %v", err)
	}
	// ids are not reused
	next, _, err := e.srv.IssueToken(ctx, "alice", "ci")
	if err != nil || next.ID <= all[0].ID {
		t.Errorf("next token %+v, %v: want an id above %d", next, err, all[0].ID)
	}
	if _, _, err := e.srv.IssueToken(ctx, "mallory", "x"); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("token for an unknown user: %v", err)
	}
	if _, err := e.srv.CreateToken(ctx, "alice", "tab\there"); !errors.Is(err, tickets.ErrInvalid) {
		t.Errorf("bad name: %v", err)
	}
}

// TestTokenMigration: tokens made before token ids (schema version 1) keep
// working and get ids.
func TestTokenMigration(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	db := e.srv.db
	tok, hash := newToken(TokenPrefix)
	steps, err := migrationSteps()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP TABLE api_tokens`,
		steps[0][strings.Index(steps[0], "CREATE TABLE api_tokens"):],
		`UPDATE schema_versions SET version = 1 WHERE component = 'web'`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO api_tokens (token_hash, user_id, name, created_at) VALUES (?, 'bob', 'old', 1)`, hash); err != nil {
		t.Fatal(err)
	}
	srv, err := New(ctx, db, e.svc, Config{Users: testUsers(t), Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	list, err := srv.Tokens(ctx, "bob")
	if err != nil || len(list) != 1 || list[0].ID != 1 || list[0].Name != "old" {
		t.Fatalf("after migration: %+v, %v", list, err)
	}
	p, err := srv.tokenUser(ctx, tok)
	if err != nil || p.ID != "bob" {
		t.Errorf("old token after migration: %v, %v", p, err)
	}
}
