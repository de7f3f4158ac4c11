package peertest

import (
	"context"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// captureStopTimeout bounds how long Capture.Stop waits for dumpcap to finish
// its file after SIGINT.
const captureStopTimeout = 5 * time.Second

// Capture is a running dumpcap writing a classic pcap file (-P) of the
// loopback interface.
type Capture struct {
	*Proc
	path     string
	stopOnce sync.Once
}

// StartCapture starts dumpcap on the loopback interface with the capture
// filter filter (BPF syntax, e.g. "udp and host 127.0.0.1 and portrange
// 16000-17999"; "" captures everything) and returns once dumpcap is
// capturing (it has printed "File: PATH"). The capture sees all loopback
// traffic of the machine, other tests' included: filter by address and port.
// Stop it with Stop before reading the file.
func StartCapture(t testing.TB, filter string) *Capture {
	t.Helper()
	Require(t, "dumpcap")
	dir := t.TempDir()
	c := &Capture{path: filepath.Join(dir, "capture.pcap")}
	args := []string{"dumpcap", "-i", "lo", "-P", "-w", c.path}
	if filter != "" {
		args = append(args, "-f", filter)
	}
	c.Proc = Start(t, "dumpcap", dir, nil, args...)
	ctx, cancel := context.WithTimeout(t.Context(), ReadyTimeout)
	defer cancel()
	if _, err := c.WaitLog(ctx, `^File: `); err != nil {
		t.Fatalf("peertest: dumpcap did not start capturing: %v", err)
	}
	return c
}

// Path returns the capture file's path.
func (c *Capture) Path() string { return c.path }

// Stop stops dumpcap with SIGINT, so that it writes out the whole file,
// waits for it to end and returns the file's path. It is idempotent.
func (c *Capture) Stop() string {
	c.stopOnce.Do(func() {
		if c.Signal(syscall.SIGINT) == nil {
			select {
			case <-c.Done():
			case <-time.After(captureStopTimeout):
			}
		}
		c.Proc.Stop()
	})
	return c.path
}
