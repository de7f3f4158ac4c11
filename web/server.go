package web

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ringdesk/ringdesk/internal/sqlite"
	"github.com/ringdesk/ringdesk/tickets"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

const migrationComponent = "web"

// Defaults for the zero Config fields.
const (
	DefaultSessionTTL = 12 * time.Hour
	DefaultMaxBody    = 1 << 20
)

// User is someone who may use the API: an agent from ringdesk.yaml.
type User struct {
	// ID is the agent id tickets are assigned to.
	ID string `yaml:"id"`
	// Name is shown in the UI.
	Name string `yaml:"name"`
	// PasswordHash is the bcrypt hash of the web password (HashPassword);
	// "" means the user cannot log in with a password (tokens still work).
	PasswordHash string `yaml:"password_hash"`
	// Admin sees and may change everything.
	Admin bool `yaml:"admin"`
	// Departments are the departments whose tickets the user sees.
	Departments []string `yaml:"departments"`
}

// Config configures the Server.
type Config struct {
	// Users are the agents who may log in (cmd/ringdesk fills it from
	// ringdesk.yaml's agents).
	Users []User `yaml:"users"`
	// SessionTTL is how long a login lasts (default DefaultSessionTTL).
	SessionTTL time.Duration `yaml:"session_ttl"`
	// MaxBody is the largest request body accepted, in bytes (default
	// DefaultMaxBody).
	MaxBody int64 `yaml:"max_body"`
	// DataDir is Ringdesk's data directory: recordings and voicemails are
	// served only when they lie under it (symlinks resolved).
	DataDir string `yaml:"data_dir"`
	// Now is the clock (default time.Now).
	Now func() time.Time `yaml:"-"`
	// Log receives a debug line per request (default: discarded).
	Log *slog.Logger `yaml:"-"`
}

// Validate rejects a Config that cannot work.
func (c *Config) Validate() error {
	if c.SessionTTL < 0 {
		return fmt.Errorf("%w: session_ttl %s is negative", ErrInvalidConfig, c.SessionTTL)
	}
	if c.MaxBody < 0 {
		return fmt.Errorf("%w: max_body %d is negative", ErrInvalidConfig, c.MaxBody)
	}
	seen := map[string]bool{}
	for i, u := range c.Users {
		if u.ID == "" {
			return fmt.Errorf("%w: user %d has no id", ErrInvalidConfig, i+1)
		}
		if seen[u.ID] {
			return fmt.Errorf("%w: user %q is listed twice", ErrInvalidConfig, u.ID)
		}
		seen[u.ID] = true
		if u.PasswordHash != "" {
			if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
				return fmt.Errorf("%w: user %q: password_hash is not a bcrypt hash: %w", ErrInvalidConfig, u.ID, err)
			}
		}
	}
	return nil
}

// Server is the REST API over a tickets.Service.
type Server struct {
	db      *sql.DB
	tickets *tickets.Service
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	// dataDir is cfg.DataDir made absolute (its symlinks are resolved on
	// each use: it may not exist yet at start); "" serves no audio.
	dataDir string
	users   atomic.Pointer[userSet]
	// throttle counts failed logins (see login).
	throttle *loginThrottle
	cop      *http.CrossOriginProtection
	mux      *http.ServeMux
	handler  http.Handler
}

// userSet is the users in force and the dummy hash a login for an unknown
// user is checked against, so that the time taken does not tell which
// users exist.
type userSet struct {
	byID  map[string]User
	dummy []byte
}

// New applies web's migrations to db and returns the server.
func New(ctx context.Context, db *sql.DB, t *tickets.Service, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if db == nil || t == nil {
		return nil, fmt.Errorf("%w: a database and a tickets service are needed", ErrInvalidConfig)
	}
	steps, err := migrationSteps()
	if err != nil {
		return nil, err
	}
	if err := sqlite.Migrate(ctx, db, migrationComponent, steps); err != nil {
		return nil, err
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		db: db, tickets: t, cfg: cfg, log: cfg.Log, now: cfg.Now,
		cop: http.NewCrossOriginProtection(), throttle: newLoginThrottle(cfg.Now),
	}
	if cfg.DataDir != "" {
		dir, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("%w: data_dir %s: %w", ErrInvalidConfig, cfg.DataDir, err)
		}
		s.dataDir = dir
	}
	s.SetUsers(cfg.Users)
	s.mux = http.NewServeMux()
	for _, rt := range s.routes() {
		s.mux.Handle(rt.method+" "+rt.path, s.endpoint(rt))
	}
	s.handler = s.logRequests(http.HandlerFunc(s.dispatch))
	return s, nil
}

func migrationSteps() ([]string, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("web: migrations: %w", err)
	}
	slices.Sort(names)
	steps := make([]string, 0, len(names))
	for _, n := range names {
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("web: migration %s: %w", n, err)
		}
		steps = append(steps, string(b))
	}
	return steps, nil
}

// Handler returns the API's handler: every route under /api/v1.
func (s *Server) Handler() http.Handler { return s.handler }

// SetUsers replaces the users (on config reload). Sessions and tokens of
// users no longer listed stop working; a user's Admin and Departments take
// effect on their next request. Users without an id are ignored; of two
// with the same id, the last wins (Config.Validate rejects both at load).
func (s *Server) SetUsers(users []User) {
	set := &userSet{byID: make(map[string]User, len(users))}
	cost := bcrypt.DefaultCost
	for _, u := range users {
		if u.ID == "" {
			continue
		}
		u.Departments = slices.Clone(u.Departments)
		set.byID[u.ID] = u
		if c, err := bcrypt.Cost([]byte(u.PasswordHash)); err == nil {
			cost = c
		}
	}
	if old := s.users.Load(); old != nil {
		if c, err := bcrypt.Cost(old.dummy); err == nil && c == cost {
			set.dummy = old.dummy
		}
	}
	if set.dummy == nil {
		h, err := bcrypt.GenerateFromPassword([]byte("ringdesk: no such user"), cost)
		if err != nil { // cost comes from a valid hash: cannot happen
			h, _ = bcrypt.GenerateFromPassword([]byte("ringdesk: no such user"), bcrypt.DefaultCost)
		}
		set.dummy = h
	}
	s.users.Store(set)
}

func (s *Server) user(id string) (User, bool) {
	u, ok := s.users.Load().byID[id]
	return u, ok
}

// route is one endpoint. The table in routes is the one list of what the
// server serves; the OpenAPI test checks openapi.yaml against it.
type route struct {
	method, path string
	// public routes need no credentials.
	public bool
	// csrf applies the cross-origin check even without a session (login).
	csrf bool
	h    handlerFunc
}

// handlerFunc serves one request for caller (nil on public routes). It
// returns the error the client gets, if any (see fail).
type handlerFunc func(w http.ResponseWriter, r *http.Request, caller *principal) error

const prefix = "/api/v1"

func (s *Server) routes() []route {
	return []route{
		{method: http.MethodGet, path: prefix + "/openapi.yaml", public: true, h: s.openAPI},
		{method: http.MethodPost, path: prefix + "/login", public: true, csrf: true, h: s.login},
		{method: http.MethodPost, path: prefix + "/logout", h: s.logout},
		{method: http.MethodGet, path: prefix + "/me", h: s.me},
		{method: http.MethodGet, path: prefix + "/tokens", h: s.listTokens},
		{method: http.MethodPost, path: prefix + "/tokens", h: s.createToken},
		{method: http.MethodDelete, path: prefix + "/tokens/{id}", h: s.deleteToken},

		{method: http.MethodGet, path: prefix + "/tickets", h: s.listTickets},
		{method: http.MethodPost, path: prefix + "/tickets", h: s.createTicket},
		{method: http.MethodGet, path: prefix + "/tickets/{id}", h: s.getTicket},
		{method: http.MethodPatch, path: prefix + "/tickets/{id}", h: s.updateTicket},
		{method: http.MethodPost, path: prefix + "/tickets/{id}/comments", h: s.addComment},
		{method: http.MethodPost, path: prefix + "/tickets/{id}/merge", h: s.mergeTicket},
		{method: http.MethodGet, path: prefix + "/tickets/{id}/files", h: s.ticketFiles},

		{method: http.MethodGet, path: prefix + "/contacts", h: s.searchContacts},
		{method: http.MethodPost, path: prefix + "/contacts", h: s.createContact},
		{method: http.MethodGet, path: prefix + "/contacts/{id}", h: s.getContact},
		{method: http.MethodPatch, path: prefix + "/contacts/{id}", h: s.updateContact},
		{method: http.MethodGet, path: prefix + "/contacts/{id}/tickets", h: s.contactTickets},

		{method: http.MethodGet, path: prefix + "/calls", h: s.listCalls},
		{method: http.MethodGet, path: prefix + "/calls/{id}", h: s.getCall},
		{method: http.MethodPut, path: prefix + "/calls/{id}/summary", h: s.setSummary},
		{method: http.MethodGet, path: prefix + "/calls/{id}/summary", h: s.getSummaries},
		{method: http.MethodPost, path: prefix + "/calls/{id}/ticket", h: s.chooseTicket},
		{method: http.MethodPost, path: prefix + "/calls/{id}/contact", h: s.pickContact},

		{method: http.MethodGet, path: prefix + "/files/{id}", h: s.getFile},
		{method: http.MethodGet, path: prefix + "/files/{id}/audio", h: s.fileAudio},
		{method: http.MethodDelete, path: prefix + "/files/{id}", h: s.deleteFile},

		{method: http.MethodGet, path: prefix + "/tasks", h: s.listTasks},
		{method: http.MethodPost, path: prefix + "/tasks", h: s.createTask},
		{method: http.MethodPatch, path: prefix + "/tasks/{id}", h: s.updateTask},
	}
}

// endpoint wraps a route's handler with authentication, the cross-origin
// check and error reporting.
func (s *Server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var caller *principal
		if !rt.public {
			p, err := s.authenticate(r)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			caller = p
			if info := requestInfo(r); info != nil {
				info.user = p.ID
			}
		}
		// Cookies ride along on cross-site requests; bearer tokens do not,
		// so only cookie-authenticated (and login) requests are checked.
		if rt.csrf || (caller != nil && caller.session != "") {
			if err := s.cop.Check(r); err != nil {
				s.fail(w, r, errForbidden("cross-origin request refused: %v", err))
				return
			}
		}
		if err := rt.h(w, r, caller); err != nil {
			s.fail(w, r, err)
		}
	})
}

// dispatch serves the route table, answering unknown paths with 404 and
// known paths with the wrong method with 405 (and Allow), in JSON.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		s.fail(w, r, errorf(http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	case http.StatusMethodNotAllowed:
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		s.fail(w, r, errorf(http.StatusMethodNotAllowed, "method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
	default: // a redirect to the clean path
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	}
}

// recorder captures what the mux's own not-found, method-not-allowed and
// redirect handlers write.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// reqInfo is what the request log line learns from the handlers.
type reqInfo struct{ user string }

type reqInfoKey struct{}

func requestInfo(r *http.Request) *reqInfo {
	info, _ := r.Context().Value(reqInfoKey{}).(*reqInfo)
	return info
}

// logRequests sets the headers every response has and logs each request
// at debug.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{}
		ctx := context.WithValue(r.Context(), reqInfoKey{}, info)
		h := w.Header()
		h.Set("Content-Type", jsonContentType)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(ctx))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.log.LogAttrs(ctx, slog.LevelDebug, "web: request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status),
			slog.String("user", info.user), slog.Int64("bytes", sw.bytes), slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr))
	})
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// dataPath checks that path lies under the data directory, symlinks
// resolved, and returns the resolved directory and path relative to it.
func (s *Server) dataPath(path string) (dir, rel string, err error) {
	if s.dataDir == "" {
		return "", "", errForbidden("no data directory is configured: audio is not served")
	}
	dir, err = filepath.EvalSymlinks(s.dataDir)
	if err != nil {
		return "", "", fmt.Errorf("web: data directory %s: %w", s.dataDir, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", fmt.Errorf("web: file path %s: %w", path, err)
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", errorf(http.StatusNotFound, "the audio file is missing")
	}
	if err != nil {
		return "", "", fmt.Errorf("web: file path %s: %w", path, err)
	}
	rel, err = filepath.Rel(dir, resolved)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		s.log.Warn("web: refused a file outside the data directory", "path", path, "resolved", resolved, "data_dir", dir)
		return "", "", errForbidden("the file lies outside the data directory")
	}
	return dir, rel, nil
}
