package status_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/internal/status"
)

func sample() status.Snapshot {
	return status.Snapshot{
		Version: "v1", Started: time.Unix(1700000000, 0), Calls: 3,
		Trunks: []status.Trunk{
			{Name: "main", State: "registered", Registered: true, LastCode: 200, LastReason: "OK", Calls: 2, Reachable: true},
			{Name: "back\"up", State: "failing", LastCode: 403, LastReason: "Forbidden", Error: "wrong credentials"},
		},
	}
}

// socketPath is a short socket path (Unix sockets allow about 100 bytes).
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rdst")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return filepath.Join(dir, status.SocketName)
}

// TestServeAndFetch: a client gets the server's snapshot; metrics carry
// every trunk; the socket goes away when the server stops.
func TestServeAndFetch(t *testing.T) {
	path := socketPath(t)
	srv, err := status.Listen(path, sample, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v %v, want 0600", fi.Mode(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()

	if _, err := status.Listen(path, sample, slog.New(slog.DiscardHandler)); !errors.Is(err, status.ErrInUse) {
		t.Errorf("a second server on the socket: %v, want ErrInUse", err)
	}
	fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer fcancel()
	snap, err := status.Fetch(fctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Calls != 3 || len(snap.Trunks) != 2 || snap.Trunks[1].Error != "wrong credentials" {
		t.Errorf("fetched %+v", snap)
	}
	var out bytes.Buffer
	status.Print(&out, snap, snap.Started.Add(time.Hour))
	for _, want := range []string{"up 1h0m0s", "3 calls", "main", "registered", "200 OK", "403 Forbidden", "wrong credentials"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status output lacks %q:\n%s", want, out.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket is left after Serve: %v", err)
	}
	if _, err := status.Fetch(fctx, path); !errors.Is(err, status.ErrNotRunning) {
		t.Errorf("Fetch with nobody serving: %v, want ErrNotRunning", err)
	}
}

// TestStaleSocket: a socket left by a process that died is replaced.
func TestStaleSocket(t *testing.T) {
	path := socketPath(t)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	_ = ln.Close() // the file stays, nobody listens
	srv, err := status.Listen(path, sample, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("a stale socket was not replaced: %v", err)
	}
	srv.Close()
}

func TestMetrics(t *testing.T) {
	var b bytes.Buffer
	if err := status.WriteMetrics(&b, sample()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# TYPE ringdesk_calls gauge\nringdesk_calls 3\n",
		`ringdesk_trunk_registered{trunk="main"} 1`,
		`ringdesk_trunk_registered{trunk="back\"up"} 0`,
		`ringdesk_trunk_up{trunk="back\"up"} 0`,
		`ringdesk_trunk_state{trunk="main",state="registered"} 1`,
		`ringdesk_trunk_last_response_code{trunk="back\"up"} 403`,
		`ringdesk_trunk_calls{trunk="main"} 2`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
}
