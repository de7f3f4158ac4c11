// Package status serves what a running Ringdesk is doing (its calls and
// its SIP trunks' registrations) to `ringdesk status` and to metrics
// scrapers, over HTTP on a Unix socket in the data directory: only the
// machine's users with access to that directory can ask.
//
// GET /status returns a Snapshot as JSON; GET /metrics the same numbers in
// the Prometheus text format (version 0.0.4).
package status

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SocketName is the socket's file name in the data directory.
const SocketName = "ringdesk.sock"

// maxSnapshot bounds the answer Fetch reads: some 250 bytes per trunk, so
// room for a few hundred thousand trunks.
const maxSnapshot = 64 << 20

// Snapshot is the state of a running Ringdesk.
type Snapshot struct {
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	// Calls is how many calls are in progress.
	Calls  int     `json:"calls"`
	Trunks []Trunk `json:"trunks"`
}

// Trunk is one SIP trunk's state.
type Trunk struct {
	Name string `json:"name"`
	// State is "registered", "registering", "failing" or
	// "not_registering" (the trunk does not register).
	State      string    `json:"state"`
	Registered bool      `json:"registered"`
	LastCode   int       `json:"last_code,omitempty"`
	LastReason string    `json:"last_reason,omitempty"`
	Error      string    `json:"error,omitempty"`
	Expires    time.Time `json:"expires,omitzero"`
	Since      time.Time `json:"since,omitzero"`
	Reachable  bool      `json:"reachable"`
	// Calls is how many calls the trunk carries now.
	Calls int `json:"calls"`
}

// Server serves snapshots on a Unix socket.
type Server struct {
	path string
	snap func() Snapshot
	log  *slog.Logger
	ln   net.Listener
	mux  *http.ServeMux
	srv  *http.Server
}

// Listen binds the socket at path (a stale socket of a dead Ringdesk is
// replaced; a live one is an error) with owner-only permissions.
func Listen(path string, snap func() Snapshot, log *slog.Logger) (*Server, error) {
	d := net.Dialer{Timeout: time.Second}
	if c, err := d.DialContext(context.Background(), "unix", path); err == nil {
		_ = c.Close()
		return nil, fmt.Errorf("%w: %s", ErrInUse, path)
	}
	_ = os.Remove(path) // a socket left by a process that died
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "unix", path)
	if err != nil {
		return nil, fmt.Errorf("status socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("status socket: %w", err)
	}
	s := &Server{path: path, snap: snap, log: log, ln: ln, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /status", s.status)
	s.mux.HandleFunc("GET /metrics", s.metrics)
	s.srv = &http.Server{Handler: s.mux, ReadHeaderTimeout: 5 * time.Second}
	return s, nil
}

// Serve answers until ctx ends, then closes the socket and removes it.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		_ = os.Remove(s.path)
		return fmt.Errorf("status socket: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	_ = os.Remove(s.path)
	return err
}

// Close stops a server that never served.
func (s *Server) Close() {
	_ = s.ln.Close()
	_ = os.Remove(s.path)
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(s.snap()); err != nil {
		s.log.Debug("status write failed", "error", err)
	}
}

func (s *Server) metrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if err := WriteMetrics(w, s.snap()); err != nil {
		s.log.Debug("metrics write failed", "error", err)
	}
}

// WriteMetrics writes snap in the Prometheus text format.
func WriteMetrics(w io.Writer, snap Snapshot) error {
	var b strings.Builder
	metric := func(name, help, typ string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	metric("ringdesk_calls", "Calls in progress.", "gauge")
	fmt.Fprintf(&b, "ringdesk_calls %d\n", snap.Calls)
	metric("ringdesk_start_time_seconds", "When Ringdesk started, in Unix seconds.", "gauge")
	fmt.Fprintf(&b, "ringdesk_start_time_seconds %d\n", snap.Started.Unix())
	trunks := append([]Trunk(nil), snap.Trunks...)
	sort.Slice(trunks, func(i, j int) bool { return trunks[i].Name < trunks[j].Name })
	if len(trunks) > 0 {
		metric("ringdesk_trunk_registered", "1 when the provider holds Ringdesk's registration.", "gauge")
		for _, t := range trunks {
			fmt.Fprintf(&b, "ringdesk_trunk_registered{trunk=%s} %d\n", label(t.Name), b2i(t.Registered))
		}
		metric("ringdesk_trunk_up", "1 when the trunk is usable: registered (or not registering) and reachable or not yet probed.", "gauge")
		for _, t := range trunks {
			up := t.State == "registered" || t.State == "not_registering"
			fmt.Fprintf(&b, "ringdesk_trunk_up{trunk=%s} %d\n", label(t.Name), b2i(up))
		}
		metric("ringdesk_trunk_state", "The trunk's registration state (1 for the current one).", "gauge")
		for _, t := range trunks {
			fmt.Fprintf(&b, "ringdesk_trunk_state{trunk=%s,state=%s} 1\n", label(t.Name), label(t.State))
		}
		metric("ringdesk_trunk_last_response_code", "The provider's last final response to REGISTER (0: none).", "gauge")
		for _, t := range trunks {
			fmt.Fprintf(&b, "ringdesk_trunk_last_response_code{trunk=%s} %d\n", label(t.Name), t.LastCode)
		}
		metric("ringdesk_trunk_calls", "Calls the trunk carries now.", "gauge")
		for _, t := range trunks {
			fmt.Fprintf(&b, "ringdesk_trunk_calls{trunk=%s} %d\n", label(t.Name), t.Calls)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// label quotes a label value (Prometheus escapes \, " and newline).
func label(v string) string {
	return strconv.Quote(v) // a superset of the escapes the format needs
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ErrInUse: another Ringdesk serves the socket (the same data directory).
var ErrInUse = errors.New("another Ringdesk is running with this data directory")

// ErrNotRunning: no Ringdesk answers on the socket.
var ErrNotRunning = errors.New("no Ringdesk is running with this data directory")

// Fetch asks the Ringdesk serving the socket at path for its snapshot.
func Fetch(ctx context.Context, path string) (Snapshot, error) {
	var snap Snapshot
	body, err := Call(ctx, path, http.MethodGet, "/status", nil)
	if err != nil {
		return snap, err
	}
	if err := json.Unmarshal(body, &snap); err != nil {
		return snap, fmt.Errorf("ask %s: %w", path, err)
	}
	return snap, nil
}

// Handle adds an admin endpoint (a net/http pattern such as
// "POST /reload") before Serve.
func (s *Server) Handle(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, h)
}

// Call sends one request to the Ringdesk serving the socket at path and
// returns the body of its 200 answer; any other status is an error
// carrying the answer's text.
func Call(ctx context.Context, path, method, urlPath string, body []byte) ([]byte, error) {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, method, "http://ringdesk"+urlPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	res, err := client.Do(req)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w (%s)", ErrNotRunning, path)
		}
		return nil, fmt.Errorf("ask %s: %w", path, err)
	}
	defer func() { _ = res.Body.Close() }()
	out, err := io.ReadAll(io.LimitReader(res.Body, maxSnapshot+1))
	if err != nil {
		return nil, fmt.Errorf("ask %s: %w", path, err)
	}
	if len(out) > maxSnapshot {
		return nil, fmt.Errorf("ask %s: the answer is larger than %d MiB", path, maxSnapshot>>20)
	}
	if res.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = res.Status
		}
		return nil, &CallError{Status: res.StatusCode, Msg: msg}
	}
	return out, nil
}

// CallError is an answer other than 200 OK.
type CallError struct {
	Status int
	Msg    string
}

func (e *CallError) Error() string { return e.Msg }

// Print writes snap for a person.
func Print(w io.Writer, snap Snapshot, now time.Time) {
	fmt.Fprintf(w, "ringdesk %s, up %s, %d calls in progress\n", snap.Version, now.Sub(snap.Started).Round(time.Second), snap.Calls)
	if len(snap.Trunks) == 0 {
		fmt.Fprintln(w, "no trunks")
		return
	}
	fmt.Fprintf(w, "\n%-16s %-16s %5s  %-28s %s\n", "TRUNK", "STATE", "CALLS", "LAST RESPONSE", "DETAIL")
	for _, t := range snap.Trunks {
		last := "-"
		if t.LastCode != 0 {
			last = fmt.Sprintf("%d %s", t.LastCode, t.LastReason)
		}
		var detail []string
		if !t.Expires.IsZero() && t.Expires.After(now) {
			detail = append(detail, "expires in "+t.Expires.Sub(now).Round(time.Second).String())
		}
		if !t.Since.IsZero() {
			detail = append(detail, "since "+t.Since.Format(time.DateTime))
		}
		if t.Error != "" {
			detail = append(detail, t.Error)
		}
		fmt.Fprintf(w, "%-16s %-16s %5d  %-28s %s\n", t.Name, t.State, t.Calls, last, strings.Join(detail, ", "))
	}
}
