// Package web is Ringdesk's HTTP API: JSON under /api/v1 over the
// helpdesk ([tickets.Service]), routed with net/http's method and
// wildcard patterns. It may import calls, acd, tickets, recordings and sms
// (today only tickets, and internal/sqlite for its own migrations); the
// websocket Hub, WebRTC signalling and the static UI will live here too.
//
// Main types: [Server] (New, Handler, SetUsers on reload; CreateToken,
// IssueToken, Tokens and RevokeToken for `ringdesk token`), [Config],
// [User] and [TokenInfo]; [HashPassword] makes a User's bcrypt
// PasswordHash for `ringdesk passwd`. The route table is one slice
// (Server.routes), and openapi.yaml, served at GET /api/v1/openapi.yaml,
// describes exactly those routes: a test fails when the two differ.
//
// # Authentication
//
// A browser logs in with POST /api/v1/login {"user", "password"} and gets
// the session cookie ringdesk_session (HttpOnly, SameSite=Lax, Secure when
// the request came over TLS), valid for Config.SessionTTL from login. A
// program sends an API token, Authorization: Bearer rdk_..., made by
// POST /api/v1/tokens or Server.CreateToken. Only the SHA-256 of a cookie or token is stored
// (tables web_sessions and api_tokens, migrated by New), so a copy of the
// database opens no session. A wrong user and a wrong password get the
// same 401, after the same bcrypt work (an unknown user is checked against
// a dummy hash). When a request has an Authorization header it alone
// counts; an invalid one is 401, never a fall-back to the cookie. Users
// come from Config.Users and SetUsers: a user removed on reload loses its
// sessions and tokens at once, and changes to Admin and Departments apply
// to the next request.
//
// API tokens: GET /api/v1/tokens lists the caller's (admins: everyone's,
// or ?user=), POST makes one for the caller {"name"} and answers 201 with
// its id and the token, which is never shown again, and DELETE
// /api/v1/tokens/{id} revokes one (204). A name is 1-[MaxTokenName]
// printable characters once trimmed; a user has at most
// [MaxTokensPerUser] tokens (then 409). An agent may revoke only their
// own: another's token is 404, as a missing one, so ids tell nothing;
// admins may revoke any. Tokens are looked up on every request, so a
// revoked one is refused (401) from the next request on. Ids come from
// an AUTOINCREMENT column (migration 2) and are never reused. A listing
// shows id, user, name, created and last_used (to within a minute),
// never the token or its hash.
//
// Login is throttled, in memory: after 5 failed logins for one user name
// from one client address within 15 minutes, or 50 from one address
// whatever the names, further attempts for that pair (or address) get 429
// with Retry-After (seconds) until the oldest of those failures is 15
// minutes old (a sliding window), even with the right password, and
// without checking it. Refused attempts do not count. An attempt counts
// as a failure from the moment it is let through, so parallel guesses
// cannot all pass the check; a success takes it back and clears the
// pair's count. The client address is the connection's (r.RemoteAddr):
// X-Forwarded-For is not believed, so behind a reverse proxy all clients
// share the proxy's address; an IPv6 address counts by its /64, and
// non-IP listeners count as one address. At most 10,000 pairs and
// addresses are kept; the least recently failed is forgotten first. The
// start of throttling is logged at warn with the user name (cut to 64
// bytes) and address; refused attempts at debug; never a password.
//
// Cookies ride along on cross-site requests and tokens do not, so
// cookie-authenticated requests that change state (and login) pass
// through [net/http.CrossOriginProtection]: a browser request marked
// cross-site by Sec-Fetch-Site, or whose Origin is not the request's
// host, is refused with 403. Bearer-token requests are not checked.
//
// # Authorisation
//
// Admins see and change everything. An agent sees the tickets of their
// departments, the tickets assigned to them and the tickets of no
// department ([tickets.Visibility]); lists leave the others out, and
// asking for one by id is 403 with a message saying it belongs to another
// department (ids are sequential, so 404 would hide nothing). An agent may
// create tickets only that they would see. Files follow their ticket (a
// file without a ticket follows its call); a file's audio may be deleted
// by admins and the ticket's assignee. Every agent sees every contact.
// Calls: an agent sees the calls they answered, placed or had a leg on,
// and the calls whose ticket they may see. Tasks: agents see and change
// only their own; admins everyone's, and may create tasks for others.
//
// # Requests and errors
//
// Bodies are JSON with Content-Type application/json (else 415), at most
// Config.MaxBody bytes (else 413), exactly one JSON value (data after it
// is 400), and no field the endpoint does not know (400 naming the
// field). Every response has Cache-Control: no-store and, but for the
// audio (audio/wav, with Range requests through [net/http.ServeContent])
// and the OpenAPI document (application/yaml), Content-Type
// application/json; charset=utf-8. An error is {"error": "message"}:
//
//	400 bad JSON, unknown field, bad query parameter, or tickets.ErrInvalid
//	401 no credentials, or wrong ones (with WWW-Authenticate: Bearer)
//	403 not allowed for this user; cross-origin browser request
//	404 no such object (tickets.ErrNotFound) or endpoint
//	405 wrong method for the path (with Allow)
//	409 tickets.ErrConflict (and a 21st API token)
//	410 the file's audio was deleted
//	413 body too large; 415 body not JSON
//	429 too many failed logins (with Retry-After)
//	500 anything else: the client gets "internal error", the log the cause
//
// Audio is served only from under Config.DataDir once symlinks are
// resolved, opened through an [os.Root] on that directory, and only when
// it is a regular file (else 403). Each request is logged at debug on the
// logger from Config.
package web
