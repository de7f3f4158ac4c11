package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ringdesk/ringdesk/configs"
	"github.com/ringdesk/ringdesk/tickets"
	"github.com/ringdesk/ringdesk/web"
	"github.com/ringdesk/ringdesk/webhooks"
)

// buildHelpdesk opens the ticket service on the database, ends the calls a
// kill left open (cause "restart"), and makes the web server and the
// webhook sender the config asks for.
func (a *app) buildHelpdesk(ctx context.Context) error {
	cfg := a.cfg
	var err error
	a.tickets, err = tickets.New(ctx, a.db, tickets.Options{Settings: cfg.Tickets, Log: a.log, FilesRoot: cfg.DataDir})
	if err != nil {
		return err
	}
	n, err := a.tickets.CloseInterrupted(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		a.log.Warn("closed the calls the last stop interrupted", "calls", n, "cause", "restart")
	}
	a.feed = newHelpdeskFeed(a.tickets, a.agentOf, a.log)
	if len(cfg.Tickets.Webhooks) > 0 {
		a.hooks = webhooks.New(a.tickets, webhooks.Config{Secrets: webhookSecrets(cfg), Log: a.log})
	}
	if cfg.HTTP.Listen == "" {
		return nil
	}
	a.web, err = web.New(ctx, a.db, a.tickets, web.Config{Users: webUsers(cfg), SessionTTL: cfg.HTTP.SessionTTL, DataDir: cfg.DataDir, Log: a.log})
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	a.httpLn, err = lc.Listen(ctx, "tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	a.httpAddr = a.httpLn.Addr().String()
	return nil
}

// agentOf is the agent id of an extension ("" when none), as presence
// knows the agents (reloads included).
func (a *app) agentOf(ext string) string {
	id, _ := a.pool.ByExtension(ext)
	return id
}

// webUsers are the agents who may log in to the web UI and API.
func webUsers(cfg *configs.Config) []web.User {
	depts := map[string][]string{}
	for _, d := range cfg.Departments {
		for _, id := range d.Agents {
			depts[id] = append(depts[id], d.Name)
		}
	}
	users := make([]web.User, 0, len(cfg.Agents))
	for _, ag := range cfg.Agents {
		users = append(users, web.User{ID: ag.ID, Name: ag.Name, PasswordHash: ag.WebPasswordHash, Admin: ag.Admin, Departments: depts[ag.ID]})
	}
	return users
}

func webhookSecrets(cfg *configs.Config) map[string]string {
	out := map[string]string{}
	for _, h := range cfg.Tickets.Webhooks {
		out[h.URL] = h.Secret
	}
	return out
}

// reloadHelpdesk applies a reloaded config's rules, users and webhooks.
func (a *app) reloadHelpdesk(cfg *configs.Config) {
	a.tickets.SetSettings(cfg.Tickets)
	if a.web != nil {
		a.web.SetUsers(webUsers(cfg))
	}
	if a.hooks != nil {
		a.hooks.SetSecrets(webhookSecrets(cfg))
	}
}

// runHelpdesk starts the helpdesk's goroutines in g: the web server until
// gctx ends, the webhook sender until feedCtx ends, and the feed, which
// applies call events until feedCtx ends (after the last call hung up).
func (a *app) runHelpdesk(g *errgroup.Group, gctx, feedCtx context.Context) {
	g.Go(func() error {
		a.feed.run(feedCtx)
		return nil
	})
	if a.hooks != nil {
		changes, stop := a.tickets.Subscribe(64)
		g.Go(func() error {
			defer stop()
			for {
				select {
				case <-feedCtx.Done():
					return nil
				case <-changes:
					a.hooks.Kick()
				}
			}
		})
		g.Go(func() error {
			if err := a.hooks.Run(feedCtx); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Warn("webhooks stopped", "error", err)
			}
			return nil
		})
	}
	if a.httpLn == nil {
		return
	}
	srv := &http.Server{
		Handler:           a.web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          nil,
	}
	ln := a.httpLn
	a.httpLn = nil // Serve closes it
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		return nil
	})
}
