package peertest

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

const portTries = 50

// FreePort returns a port that was free on ip for network ("udp" or "tcp"):
// it binds port 0, reads the port back and closes the socket. Another
// process may take the port before the caller binds it; that is rare enough
// on a test machine, and the caller then fails to bind and says so.
func FreePort(t testing.TB, network string, ip string) int {
	t.Helper()
	port, err := freePort(network, ip)
	if err != nil {
		t.Fatalf("peertest: free %s port on %s: %v", network, ip, err)
	}
	return port
}

// FreeSIPPort returns a port free on ip for both UDP and TCP (baresip listens
// on both for SIP).
func FreeSIPPort(t testing.TB, ip string) int {
	t.Helper()
	for range portTries {
		port, err := freePort("udp", ip)
		if err != nil {
			t.Fatalf("peertest: free SIP port on %s: %v", ip, err)
		}
		if portsFree(ip, port, 1, "tcp") {
			return port
		}
	}
	t.Fatalf("peertest: no port free for both UDP and TCP on %s after %d tries", ip, portTries)
	return 0
}

// FreeRTPPort returns an even UDP port P such that P, P+1, P+2 and P+3 were
// all free on ip: RTP and RTCP, and SIPp also binds P+2 (and P+3 for RTCP)
// for video. Use ip "0.0.0.0" for a program that binds its RTP sockets to the
// wildcard address (baresip): on Linux that finds ports bound on any address.
func FreeRTPPort(t testing.TB, ip string) int {
	t.Helper()
	for range portTries {
		port, err := freePort("udp", ip)
		if err != nil {
			t.Fatalf("peertest: free RTP port on %s: %v", ip, err)
		}
		port &^= 1
		if port+3 <= 65535 && portsFree(ip, port, 4, "udp") {
			return port
		}
	}
	t.Fatalf("peertest: no 4 consecutive free UDP ports on %s after %d tries", ip, portTries)
	return 0
}

func freePort(network, ip string) (int, error) {
	var lc net.ListenConfig
	addr := net.JoinHostPort(ip, "0")
	switch network {
	case "udp":
		c, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	case "tcp":
		l, err := lc.Listen(context.Background(), "tcp", addr)
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	default:
		return 0, fmt.Errorf("network %q is not udp or tcp", network)
	}
}

// portsFree binds n consecutive ports from port on ip, then releases them.
func portsFree(ip string, port, n int, network string) bool {
	var lc net.ListenConfig
	var closers []func() error
	defer func() {
		for _, c := range closers {
			_ = c()
		}
	}()
	for p := port; p < port+n; p++ {
		addr := net.JoinHostPort(ip, strconv.Itoa(p))
		if network == "tcp" {
			l, err := lc.Listen(context.Background(), "tcp", addr)
			if err != nil {
				return false
			}
			closers = append(closers, l.Close)
			continue
		}
		c, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			return false
		}
		closers = append(closers, c.Close)
	}
	return true
}

// WaitListening waits until some process has a socket bound to ip:port for
// network ("udp": bound; "tcp": listening), or to the wildcard address on
// that port. It reads /proc/net (Linux) and so never disturbs the socket; on
// other systems it returns nil at once.
func WaitListening(ctx context.Context, network, ip string, port int) error {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return fmt.Errorf("wait for %s %s:%d: %w", network, ip, port, err)
	}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		ok, err := listening(network, addr, port)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		} else if err != nil {
			return fmt.Errorf("wait for %s %s:%d: %w", network, ip, port, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nothing bound to %s %s:%d: %w", network, ip, port, ctx.Err())
		case <-tick.C:
		}
	}
}

// listening looks for the socket in /proc/net/{udp,tcp}{,6}.
func listening(network string, addr netip.Addr, port int) (bool, error) {
	files := []string{"/proc/net/" + network}
	if addr.Is6() || addr.IsUnspecified() {
		files = append(files, "/proc/net/"+network+"6")
	}
	for i, name := range files {
		f, err := os.Open(name)
		if err != nil {
			if i > 0 {
				continue
			}
			return false, err
		}
		found := scanProcNet(f, network, addr, port)
		f.Close()
		if found {
			return true, nil
		}
	}
	return false, nil
}

func scanProcNet(f *os.File, network string, addr netip.Addr, port int) bool {
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			continue
		}
		if network == "tcp" && fields[3] != "0A" { // LISTEN
			continue
		}
		a, p, ok := parseProcAddr(fields[1])
		if !ok || p != port {
			continue
		}
		if a.IsUnspecified() || a == addr || (a.Is4In6() && a.Unmap() == addr) {
			return true
		}
	}
	return false
}

// parseProcAddr parses "0100007F:13C4" (the address in host byte order per
// 32-bit word, as /proc/net prints it on little-endian machines).
func parseProcAddr(s string) (netip.Addr, int, bool) {
	h, ps, ok := strings.Cut(s, ":")
	if !ok {
		return netip.Addr{}, 0, false
	}
	port, err := strconv.ParseUint(ps, 16, 16)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.Addr{}, 0, false
	}
	for i := 0; i < len(b); i += 4 { // each 32-bit word is little-endian
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	a, _ := netip.AddrFromSlice(b)
	return a, int(port), true
}
