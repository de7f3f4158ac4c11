package peertest

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const portTries = 200

// Peers get their ports from [portLow, portHigh): below Linux's ephemeral
// range (32768-60999 by default), so the kernel never hands one of them to
// an outgoing connection of another test between the moment we find it free
// and the moment the peer binds it (that happened: a TLS port taken by a
// parallel package's TCP client). It is above media's default RTP range
// (10000-20000) and below the fixed ranges the end-to-end tests give
// Ringdesk (31000 and up).
const (
	portLow  = 21000
	portHigh = 31000
)

// FreePort returns a port free on ip for network ("udp" or "tcp"), reserved
// for the test: parallel test processes that use peertest never get the same
// port while the test runs (a lock file per port, released at cleanup and
// by the kernel if the process dies). Another program may still bind it
// before the peer does; the peer then fails to bind and says so.
func FreePort(t testing.TB, network string, ip string) int {
	t.Helper()
	if network != "udp" && network != "tcp" {
		t.Fatalf("peertest: free port: network %q is not udp or tcp", network)
	}
	return reservePorts(t, ip, 1, false, network)
}

// FreeSIPPort returns a port free on ip for both UDP and TCP (baresip listens
// on both for SIP).
func FreeSIPPort(t testing.TB, ip string) int {
	t.Helper()
	return reservePorts(t, ip, 1, false, "udp", "tcp")
}

// FreeRTPPort returns an even UDP port P such that P, P+1, P+2 and P+3 were
// all free on ip: RTP and RTCP, and SIPp also binds P+2 (and P+3 for RTCP)
// for video. Use ip "0.0.0.0" for a program that binds its RTP sockets to the
// wildcard address (baresip): on Linux that finds ports bound on any address.
func FreeRTPPort(t testing.TB, ip string) int {
	t.Helper()
	return reservePorts(t, ip, 4, true, "udp")
}

// reservePorts finds n consecutive ports (the first even if asked) free on ip
// for every network, locks them for the test's lifetime and returns the
// first.
func reservePorts(t testing.TB, ip string, n int, even bool, networks ...string) int {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "ringdesk-peertest-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatalf("peertest: port locks: %v", err)
	}
	for range portTries {
		start := portLow + rand.IntN(portHigh-portLow-n)
		if even {
			start &^= 1
		}
		locks, ok := lockPorts(dir, start, n)
		if !ok {
			continue
		}
		free := true
		for _, network := range networks {
			free = free && portsFree(ip, start, n, network)
		}
		if !free {
			unlock(locks)
			continue
		}
		t.Cleanup(func() { unlock(locks) })
		return start
	}
	t.Fatalf("peertest: no %d free port(s) for %v on %s in %d-%d after %d tries", n, networks, ip, portLow, portHigh-1, portTries)
	return 0
}

// lockPorts takes an exclusive, non-blocking flock on one file per port.
func lockPorts(dir string, start, n int) ([]*os.File, bool) {
	var locks []*os.File
	for p := start; p < start+n; p++ {
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			unlock(locks)
			return nil, false
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			unlock(locks)
			return nil, false
		}
		locks = append(locks, f)
	}
	return locks, true
}

func unlock(locks []*os.File) {
	for _, f := range locks {
		f.Close() // closing the only descriptor drops the flock
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
