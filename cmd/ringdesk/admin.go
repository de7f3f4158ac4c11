package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ringdesk/ringdesk/acd"
	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/configs"
	"github.com/ringdesk/ringdesk/internal/status"
)

// This file is the admin side of the status socket: reloading the
// dialplan and setting agents' presence, and the subcommands that ask
// for them (`ringdesk reload`, `ringdesk agent`).

// maxAdminBody bounds an admin request's body.
const maxAdminBody = 64 << 10

// reload re-reads the config and dialplan files: a valid pair replaces
// the dialplan and the agents for new calls (calls in progress finish on
// the plan they started with); an invalid one is refused, its problems
// logged, and the old plan keeps serving.
func (a *app) reload() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	cfg, err := loadConfig(a.path)
	if err != nil {
		var errs configs.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				a.log.Error("reload refused", "problem", e.Error())
			}
		} else {
			a.log.Error("reload refused", "error", err)
		}
		return err
	}
	a.sw.SetPlan(cfg.Calls.Plan)
	a.pool.SetAgents(agentInfos(cfg))
	a.reloadHelpdesk(cfg)
	n := 0
	if cfg.Calls.Plan != nil {
		n = len(cfg.Calls.Plan.Numbers())
	}
	a.log.Info("reloaded the dialplan and agents", "numbers", n, "agents", len(cfg.Agents),
		"note", "listeners, RTP, trunks and other settings change on restart")
	return nil
}

// agentInfos lists the config's agents for presence.
func agentInfos(cfg *configs.Config) []acd.AgentInfo {
	out := make([]acd.AgentInfo, 0, len(cfg.Agents))
	for _, ag := range cfg.Agents {
		out = append(out, acd.AgentInfo{ID: ag.ID, Name: ag.Name, Extension: ag.Extension})
	}
	return out
}

// adminRoutes adds the admin endpoints to the status socket.
func (a *app) adminRoutes(s *status.Server) {
	s.Handle("POST /reload", func(w http.ResponseWriter, _ *http.Request) {
		if err := a.reload(); err != nil { //nolint:contextcheck // loading runs no request-bound work
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		writeJSON(w, map[string]string{"result": "reloaded"})
	})
	s.Handle("GET /calls/{sip_call_id}", func(w http.ResponseWriter, r *http.Request) {
		rec, ok := a.recent.get(r.PathValue("sip_call_id"))
		if !ok {
			http.Error(w, "no such call has ended", http.StatusNotFound)
			return
		}
		writeJSON(w, rec)
	})
	s.Handle("GET /agents", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, a.pool.Agents())
	})
	s.Handle("POST /agents/{id}", func(w http.ResponseWriter, r *http.Request) {
		var req agentRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		st, err := a.setAgent(r.PathValue("id"), req)
		switch {
		case errors.Is(err, acd.ErrUnknownAgent):
			http.Error(w, err.Error(), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
		default:
			writeJSON(w, st)
		}
	})
}

// agentRequest changes an agent's presence; empty fields stay as they are.
type agentRequest struct {
	Status string `json:"status,omitempty"` // online, busy, offline
	Mode   string `json:"mode,omitempty"`   // web, phone
	// Forward: a number to forward calls to ("" with ForwardWhen "never"
	// stops forwarding); ForwardWhen: always, no_answer or never.
	Forward     string `json:"forward,omitempty"`
	ForwardWhen string `json:"forward_when,omitempty"`
}

// setAgent applies req to agent id.
func (a *app) setAgent(id string, req agentRequest) (acd.AgentState, error) {
	if _, ok := a.pool.Agent(id); !ok {
		return acd.AgentState{}, fmt.Errorf("%w: %q", acd.ErrUnknownAgent, id)
	}
	if req.Mode != "" {
		m, err := acd.ParseMode(req.Mode)
		if err != nil {
			return acd.AgentState{}, err
		}
		if err := a.pool.SetMode(id, m); err != nil {
			return acd.AgentState{}, err
		}
	}
	if req.ForwardWhen != "" {
		f, err := a.forward(req)
		if err != nil {
			return acd.AgentState{}, err
		}
		if err := a.pool.SetForward(id, f); err != nil {
			return acd.AgentState{}, err
		}
	}
	if req.Status != "" {
		s, err := acd.ParseStatus(req.Status)
		if err != nil {
			return acd.AgentState{}, err
		}
		if err := a.pool.SetStatus(id, s); err != nil {
			return acd.AgentState{}, err
		}
	}
	st, _ := a.pool.Agent(id)
	a.log.Info("agent changed", "agent", id, "status", st.Status.String(), "mode", st.Mode.String(),
		"forward", st.Forward.Number, "forward_when", st.Forward.When.String())
	return st, nil
}

// forward checks a forwarding request: the number must be one the
// dialing rules take out through a trunk.
func (a *app) forward(req agentRequest) (acd.Forward, error) {
	when, err := acd.ParseForwardWhen(req.ForwardWhen)
	if err != nil {
		return acd.Forward{}, err
	}
	if when == acd.ForwardNever {
		return acd.Forward{}, nil
	}
	number, err := a.sw.OutsideNumber(req.Forward)
	if err != nil {
		return acd.Forward{}, fmt.Errorf("forward: %w", err)
	}
	return acd.Forward{Number: number, When: when}, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// socketOf finds the status socket from -config or -data-dir.
func socketOf(fs *flag.FlagSet, args []string, stderr io.Writer) (string, []string, bool) {
	path := fs.String("config", "", "the running server's config file (default: the embedded sample)")
	dataDir := fs.String("data-dir", "", "the running server's data directory (default: the config's data_dir)")
	if err := fs.Parse(args); err != nil {
		return "", nil, false
	}
	if *dataDir == "" {
		cfg, err := loadConfig(*path)
		if err != nil {
			printConfigError(stderr, err)
			fmt.Fprintln(stderr, "ringdesk: the config has problems; name the running server's data directory with -data-dir")
			return "", nil, false
		}
		*dataDir = cfg.DataDir
	}
	return filepath.Join(*dataDir, status.SocketName), fs.Args(), true
}

// reloadCmd asks the running server to reload its config and dialplan.
func reloadCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ringdesk reload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sock, _, ok := socketOf(fs, args, stderr)
	if !ok {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := status.Call(ctx, sock, http.MethodPost, "/reload", nil); err != nil {
		fmt.Fprintln(stderr, "ringdesk: reload refused; the old dialplan keeps serving:")
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout, "reloaded")
	return 0
}

const agentUsage = `Usage:
  ringdesk agent [-config FILE | -data-dir DIR] list
  ringdesk agent [...] online|busy|offline ID
  ringdesk agent [...] web|phone ID
  ringdesk agent [...] forward ID NUMBER [always|no_answer]
  ringdesk agent [...] unforward ID
`

// agentCmd shows and sets agents' presence on the running server.
func agentCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ringdesk agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sock, rest, ok := socketOf(fs, args, stderr)
	if !ok {
		return 2
	}
	if len(rest) == 0 {
		fmt.Fprint(stderr, agentUsage)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if rest[0] == "list" {
		body, err := status.Call(ctx, sock, http.MethodGet, "/agents", nil)
		if err != nil {
			fmt.Fprintln(stderr, "ringdesk:", err)
			return 1
		}
		var agents []acd.AgentState
		if err := json.Unmarshal(body, &agents); err != nil {
			fmt.Fprintln(stderr, "ringdesk:", err)
			return 1
		}
		printAgents(stdout, agents, time.Now())
		return 0
	}
	req, id, err := agentArgs(rest)
	if err != nil {
		fmt.Fprintf(stderr, "ringdesk: %v\n\n%s", err, agentUsage)
		return 2
	}
	body, _ := json.Marshal(req)
	out, err := status.Call(ctx, sock, http.MethodPost, "/agents/"+id, body)
	if err != nil {
		fmt.Fprintln(stderr, "ringdesk:", err)
		return 1
	}
	var st acd.AgentState
	if err := json.Unmarshal(out, &st); err != nil {
		fmt.Fprintln(stderr, "ringdesk:", err)
		return 1
	}
	printAgents(stdout, []acd.AgentState{st}, time.Now())
	return 0
}

// agentArgs turns `ringdesk agent VERB ID [...]` into a request.
func agentArgs(rest []string) (agentRequest, string, error) {
	verb := rest[0]
	if len(rest) < 2 {
		return agentRequest{}, "", fmt.Errorf("%s: which agent?", verb)
	}
	id, extra := rest[1], rest[2:]
	var req agentRequest
	switch verb {
	case "online", "busy", "offline":
		req.Status = verb
	case "web", "phone":
		req.Mode = verb
	case "forward":
		if len(extra) == 0 || len(extra) > 2 {
			return req, "", errors.New("forward: give the number, and optionally always or no_answer")
		}
		req.Forward, req.ForwardWhen = extra[0], "always"
		if len(extra) == 2 {
			req.ForwardWhen = extra[1]
		}
		extra = nil
	case "unforward":
		req.ForwardWhen = "never"
	default:
		return req, "", fmt.Errorf("unknown agent command %q", verb)
	}
	if len(extra) > 0 {
		return req, "", fmt.Errorf("%s: unexpected %q", verb, strings.Join(extra, " "))
	}
	return req, id, nil
}

// printAgents writes agents' presence as a table.
func printAgents(w io.Writer, agents []acd.AgentState, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AGENT\tEXTENSION\tSTATUS\tMODE\tAVAILABLE\tON CALL\tFORWARD\tMISSED")
	for _, a := range agents {
		fwd := "-"
		if a.Forward.Number != "" {
			fwd = a.Forward.Number + " (" + a.Forward.When.String() + ")"
		}
		onCall := "-"
		if a.OnCall != "" {
			onCall = a.OnCall
		} else if a.WrapUntil.After(now) {
			onCall = "wrap-up " + a.WrapUntil.Sub(now).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%t\t%s\t%s\t%d\n", a.ID, a.Extension, a.Status, a.Mode, a.Available, onCall, fwd, a.Missed)
	}
	_ = tw.Flush()
}

// routesCmd prints each number's flow as a tree.
func routesCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ringdesk routes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (default: the embedded sample)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		printConfigError(stdout, err)
		return 1
	}
	if cfg.Calls.Plan == nil {
		fmt.Fprintln(stdout, "no dialplan: only extensions and outside numbers are reachable")
		return 0
	}
	if err := cfg.Calls.Plan.Describe(stdout); err != nil {
		fmt.Fprintln(stderr, "ringdesk:", err)
		return 1
	}
	return 0
}

// hupReloads reloads on every SIGHUP until ctx ends.
func (a *app) hupReloads(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			a.log.Info("SIGHUP: reloading")
			_ = a.reload() //nolint:contextcheck // the outcome is logged; loading is bounded on its own
		}
	}
}

// recentCalls keeps the records of the last calls, by the SIP Call-ID of
// the caller's leg, for `ringdesk dial` and admins asking how a call went.
type recentCalls struct {
	mu    sync.Mutex
	byID  map[string]calls.CallRecord
	order []string
}

// maxRecentCalls bounds the records kept.
const maxRecentCalls = 1000

// Observe implements calls.Observer.
func (r *recentCalls) Observe(e calls.Event) {
	ended, ok := e.(calls.CallEnded)
	if !ok || len(ended.Record.Legs) == 0 {
		return
	}
	id := ended.Record.Legs[0].SIPCallID
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = make(map[string]calls.CallRecord)
	}
	if _, seen := r.byID[id]; !seen {
		r.order = append(r.order, id)
	}
	r.byID[id] = ended.Record
	for len(r.order) > maxRecentCalls {
		delete(r.byID, r.order[0])
		r.order = r.order[1:]
	}
}

// get returns the record of the call whose caller used SIP Call-ID id.
func (r *recentCalls) get(id string) (calls.CallRecord, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.byID[id]
	return rec, ok
}
