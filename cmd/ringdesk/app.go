package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ringdesk/ringdesk/acd"
	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/configs"
	"github.com/ringdesk/ringdesk/internal/sqlite"
	"github.com/ringdesk/ringdesk/internal/status"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/sip"
	"github.com/ringdesk/ringdesk/tickets"
	"github.com/ringdesk/ringdesk/web"
	"github.com/ringdesk/ringdesk/webhooks"
)

// app is one running Ringdesk: the wiring of every package.
type app struct {
	cfg   *configs.Config
	log   *slog.Logger
	db    *sql.DB
	sip   *sip.Server
	media *media.Engine
	sw    *calls.Switch
	// status answers `ringdesk status` and metrics scrapers; nil when its
	// socket could not be made (Ringdesk runs on without it).
	status  *status.Server
	started time.Time
	// pool is the agents' presence, set by the admin API.
	pool *acd.Pool
	// path is the config file reload re-reads ("" for the sample).
	path     string
	reloadMu sync.Mutex
	// recent are the last calls' records, for the admin socket.
	recent recentCalls
	// The helpdesk: tickets, the feed of call events into it, the web
	// server (nil without http.listen) and webhooks (nil without any).
	tickets *tickets.Service
	feed    *helpdeskFeed
	web     *web.Server
	httpLn  net.Listener
	// httpAddr is the web server's bound address, "" when off.
	httpAddr string
	hooks    *webhooks.Sender
}

// newApp creates the data directory, opens the database, builds the servers
// and binds the SIP sockets, rolling back whatever started if a step fails.
func newApp(cfg *configs.Config, log *slog.Logger, extra ...calls.Observer) (*app, error) {
	a := &app{cfg: cfg, log: log}
	if err := a.build(extra); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *app) build(extra []calls.Observer) error {
	ctx := context.Background()
	cfg, log := a.cfg, a.log
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	var err error
	a.db, err = sqlite.Open(ctx, filepath.Join(cfg.DataDir, "ringdesk.db"))
	if err != nil {
		return err
	}
	if err = a.buildHelpdesk(ctx); err != nil {
		return err
	}
	store, err := sip.NewSQLBindings(ctx, a.db)
	if err != nil {
		return err
	}
	a.sip, err = sip.NewServer(cfg.SIP, store, log)
	if err != nil {
		return err
	}
	a.media, err = media.NewEngine(cfg.Media, log)
	if err != nil {
		return err
	}
	obs := append([]calls.Observer{logObserver{log}, &a.recent, a.feed}, extra...)
	cc := cfg.Calls
	if len(cc.HoldMusic) == 0 {
		if cc.HoldMusic, err = configs.BuiltinHoldMusic(); err != nil {
			return err
		}
	}
	if len(cc.Beep) == 0 {
		if cc.Beep, err = configs.BuiltinBeep(); err != nil {
			return err
		}
	}
	cc.RecordingsDir = filepath.Join(cfg.DataDir, "recordings")
	cc.VoicemailDir = filepath.Join(cfg.DataDir, "voicemail")
	// Agents take calls from the start, on their phones: until the agent
	// UI sets presence, `ringdesk agent` changes it.
	a.pool = acd.NewPool(acd.Options{StartOnline: true, WrapUp: cfg.WrapUp})
	a.pool.SetAgents(agentInfos(cfg))
	cc.Agents = a.pool
	a.sw, err = calls.NewSwitch(cc, a.sip, a.media, observers(obs), log)
	if err != nil {
		return err
	}
	if err = a.sip.Listen(); err != nil {
		return err
	}
	a.started = time.Now()
	a.status, err = status.Listen(filepath.Join(cfg.DataDir, status.SocketName), a.snapshot, log)
	if errors.Is(err, status.ErrInUse) {
		return err
	} else if err != nil {
		log.Warn("no status socket: `ringdesk status` will not reach this server", "error", err)
		a.status = nil
	} else {
		a.adminRoutes(a.status)
	}
	return nil
}

// snapshot is what `ringdesk status` shows and /metrics counts.
func (a *app) snapshot() status.Snapshot {
	snap := status.Snapshot{Version: versionString(), Started: a.started, Calls: a.sw.Active()}
	calls := a.sw.TrunkCalls()
	for _, t := range a.sip.TrunkStates() {
		snap.Trunks = append(snap.Trunks, status.Trunk{
			Name: t.Name, State: t.State, Registered: t.Registered, LastCode: t.LastCode, LastReason: t.LastReason,
			Error: t.Error, Expires: t.Expires, Since: t.Since, Reachable: t.Reachable, Calls: calls[t.Name],
		})
	}
	return snap
}

// close releases what build made: the switch's streams, the SIP server and
// the database.
func (a *app) close() {
	if a.sw != nil {
		a.sw.Close()
	}
	if a.sip != nil {
		a.sip.Close()
	}
	if a.status != nil {
		a.status.Close()
		a.status = nil
	}
	if a.httpLn != nil {
		_ = a.httpLn.Close()
		a.httpLn = nil
	}
	if a.db != nil {
		_ = a.db.Close()
		a.db = nil
	}
}

// run serves until ctx ends (hard stop: calls are hung up at once) or drain
// is closed (graceful: new calls get 503, calls in progress have the grace
// period, then BYE), and closes everything before returning.
func (a *app) run(ctx context.Context, drain <-chan struct{}) error {
	defer a.close()
	// SIP outlives ctx: calls hanging up at the end still need it.
	sipCtx, stopSIP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSIP()
	// The helpdesk outlives the calls: their last events still land.
	feedCtx, stopFeed := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFeed()
	g, gctx := errgroup.WithContext(ctx)
	a.runHelpdesk(g, gctx, feedCtx)
	if st := a.status; st != nil {
		a.status = nil // Serve removes the socket
		g.Go(func() error {
			if err := st.Serve(sipCtx); err != nil {
				a.log.Warn("status socket stopped", "error", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		err := a.sip.Serve(sipCtx, a.sw)
		if err != nil {
			return fmt.Errorf("sip: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		defer stopSIP()  // SIP goes last: calls hanging up still need it
		defer stopFeed() // after the calls' last events
		select {
		case <-drain:
			grace, cancel := context.WithTimeoutCause(context.WithoutCancel(gctx), a.cfg.Calls.ShutdownGrace,
				errors.New("shutdown grace period over"))
			defer cancel()
			go func() { // a hard stop during the grace period
				select {
				case <-gctx.Done():
					cancel()
				case <-grace.Done():
				}
			}()
			return a.sw.Shutdown(grace)
		case <-gctx.Done():
			a.sw.Close()
			return nil
		}
	})
	return g.Wait()
}

// logObserver logs every call event: the call record of the future, for now.
type logObserver struct{ log *slog.Logger }

func (o logObserver) Observe(e calls.Event) {
	l := o.log.With("call_id", string(e.Call()))
	switch ev := e.(type) {
	case calls.CallStarted:
		l.Info("call started", "caller", ev.Caller.Extension, "caller_number", ev.Caller.Number, "trunk", ev.Caller.Trunk,
			"caller_name", ev.Caller.Name, "dialed", ev.Dialed,
			"source", ev.Leg.Source.String(), "user_agent", ev.Leg.UserAgent)
	case calls.LegRinging:
		l.Info("phone ringing", "leg_id", string(ev.Leg.ID), "contact", ev.Leg.Contact, "early_media", ev.EarlyMedia)
	case calls.LegEnded:
		l.Info("phone stopped ringing", "leg_id", string(ev.Leg.ID), "contact", ev.Leg.Contact,
			"status", ev.Leg.Status, "cause", ev.Leg.Cause.String())
	case calls.CallAnswered:
		l.Info("call answered", "leg_id", string(ev.Leg.ID), "contact", ev.Leg.Contact, "codec", ev.Leg.Codec)
	case calls.CallHeld:
		l.Info("call held", "by", string(ev.By))
	case calls.CallResumed:
		l.Info("call resumed", "by", string(ev.By), "held_for", ev.HeldFor.Round(time.Millisecond))
	case calls.CallEnded:
		r := ev.Record
		attrs := []any{
			"cause", r.Cause.String(), "status", r.Status, "hung_up_by", r.HungUpBy.String(),
			"caller", r.Caller.Extension, "dialed", r.Dialed, "answered_by", string(r.AnsweredBy),
			"ring", r.RingDuration.Round(time.Millisecond), "talk", r.TalkDuration.Round(time.Millisecond),
			"held", r.HoldDuration.Round(time.Millisecond), "legs", len(r.Legs),
		}
		for _, leg := range r.Legs {
			// RTP counters of the connected legs: what each phone sent
			// (rx) and was sent (tx), for load tests and debugging.
			switch {
			case leg.Direction == calls.Inbound:
				attrs = append(attrs, slog.Group("caller_rtp", "codec", leg.Codec,
					"rx_packets", leg.RxPackets, "tx_packets", leg.TxPackets))
			case leg.ID == r.AnsweredBy:
				attrs = append(attrs, slog.Group("callee_rtp", "codec", leg.Codec,
					"rx_packets", leg.RxPackets, "tx_packets", leg.TxPackets))
			}
		}
		l.Info("call ended", attrs...)
	}
}

// observers fans events out to several observers in order.
type observers []calls.Observer

func (os observers) Observe(e calls.Event) {
	for _, o := range os {
		o.Observe(e)
	}
}

// printBanner tells a newcomer where Ringdesk listens and, on the sample
// config, how to register the demo phones.
func printBanner(w io.Writer, a *app, sample bool) {
	fmt.Fprintf(w, "Ringdesk %s is running (%s).\n", versionString(), a.cfg.Source)
	var listen []string
	for _, l := range a.sip.Addrs() {
		listen = append(listen, l.String())
	}
	fmt.Fprintf(w, "  SIP:     %s   realm %q\n", strings.Join(listen, ", "), realmOf(a.cfg))
	fmt.Fprintf(w, "  RTP:     %s ports %d-%d\n", a.cfg.Media.Address, portMin(a.cfg), portMax(a.cfg))
	fmt.Fprintf(w, "  Data:    %s\n", a.cfg.DataDir)
	if a.httpAddr != "" {
		fmt.Fprintf(w, "  API:     http://%s/api/v1 (log in as an agent with a web_password_hash; `ringdesk passwd` makes one)\n", a.httpAddr)
	}
	if !sample {
		fmt.Fprintf(w, "  Agents:  %d\n", len(a.cfg.Agents))
		return
	}
	fmt.Fprintln(w, "  Demo phones (point a softphone at the SIP address and register with):")
	for _, ag := range a.cfg.Agents {
		pw := ""
		for _, u := range a.cfg.SIP.Users {
			if u.Name == ag.Extension {
				pw = u.Password
			}
		}
		fmt.Fprintf(w, "    extension %-6s %-16s user %-6s password %s\n", ag.Extension, ag.Name, ag.Extension, pw)
	}
	fmt.Fprintln(w, "  Then dial one extension from the other, or 500 for the demo support queue")
	fmt.Fprintln(w, "  (`ringdesk routes` prints the sample dialplan). Ctrl-C stops (twice: at once).")
}

func realmOf(c *configs.Config) string {
	if c.SIP.Realm != "" {
		return c.SIP.Realm
	}
	return sip.DefaultRealm
}

func portMin(c *configs.Config) int {
	if c.Media.PortMin == 0 {
		return media.DefaultPortMin
	}
	return c.Media.PortMin
}

func portMax(c *configs.Config) int {
	if c.Media.PortMax == 0 {
		return media.DefaultPortMax
	}
	return c.Media.PortMax
}
