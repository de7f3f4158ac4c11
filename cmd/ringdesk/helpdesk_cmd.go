package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ringdesk/ringdesk/configs"
	"github.com/ringdesk/ringdesk/internal/sqlite"
	"github.com/ringdesk/ringdesk/tickets"
	"github.com/ringdesk/ringdesk/web"
)

// passwdCmd reads a password from stdin (one line) and prints its bcrypt
// hash, for an agent's web_password_hash.
func passwdCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ringdesk passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: ringdesk passwd < password-file   (or type the password and press Enter)")
		return 2
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(stderr, "ringdesk passwd: no password on stdin")
		return 1
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 8 {
		fmt.Fprintln(stderr, "ringdesk passwd: a password needs at least 8 characters")
		return 1
	}
	hash, err := web.HashPassword(pw)
	if err != nil {
		fmt.Fprintln(stderr, "ringdesk passwd:", err)
		return 1
	}
	fmt.Fprintln(stdout, hash)
	return 0
}

// tokenCmd creates an API token for an agent and prints it once; only its
// hash is stored, in the server's database.
func tokenCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ringdesk token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (default: the embedded sample)")
	list := fs.Bool("list", false, "list the tokens (of AGENT, or everyone's) instead of creating one")
	revoke := fs.Int64("revoke", 0, "revoke the token with this id instead of creating one")
	err := fs.Parse(args)
	creating := !*list && *revoke == 0
	if err != nil || fs.NArg() > 2 || (creating && fs.NArg() < 1) || (!creating && fs.NArg() > 1) || (*list && *revoke != 0) {
		fmt.Fprintln(stderr, "usage: ringdesk token [-config FILE] AGENT [NAME] | -list [AGENT] | -revoke ID")
		return 2
	}
	agent, name := fs.Arg(0), fs.Arg(1)
	if name == "" {
		name = "api"
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		printConfigError(stdout, err)
		return 1
	}
	if agent != "" && !hasAgent(cfg.Agents, agent) {
		fmt.Fprintf(stderr, "ringdesk token: no agent %q in %s\n", agent, cfg.Source)
		return 1
	}
	ctx := context.Background()
	if err = os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		fmt.Fprintln(stderr, "ringdesk token:", err)
		return 1
	}
	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "ringdesk.db"))
	if err != nil {
		fmt.Fprintln(stderr, "ringdesk token:", err)
		return 1
	}
	defer func() { _ = db.Close() }()
	log := slog.New(slog.DiscardHandler)
	svc, err := tickets.New(ctx, db, tickets.Options{Settings: cfg.Tickets, Log: log})
	if err != nil {
		fmt.Fprintln(stderr, "ringdesk token:", err)
		return 1
	}
	srv, err := web.New(ctx, db, svc, web.Config{Users: webUsers(cfg), DataDir: cfg.DataDir, Log: log})
	if err != nil {
		fmt.Fprintln(stderr, "ringdesk token:", err)
		return 1
	}
	switch {
	case *list:
		toks, err := srv.Tokens(ctx, agent)
		if err != nil {
			fmt.Fprintln(stderr, "ringdesk token:", err)
			return 1
		}
		for _, t := range toks {
			used := "never used"
			if !t.LastUsed.IsZero() {
				used = "last used " + t.LastUsed.Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%d\t%s\t%s\tcreated %s\t%s\n", t.ID, t.User, t.Name, t.Created.Format(time.RFC3339), used)
		}
	case *revoke != 0:
		if err := srv.RevokeToken(ctx, *revoke); err != nil {
			fmt.Fprintln(stderr, "ringdesk token:", err)
			return 1
		}
		fmt.Fprintf(stdout, "token %d revoked\n", *revoke)
	default:
		tok, err := srv.CreateToken(ctx, agent, name)
		if err != nil {
			fmt.Fprintln(stderr, "ringdesk token:", err)
			return 1
		}
		fmt.Fprintln(stdout, tok)
	}
	return 0
}

func hasAgent(agents []configs.Agent, id string) bool {
	for _, a := range agents {
		if a.ID == id {
			return true
		}
	}
	return false
}
