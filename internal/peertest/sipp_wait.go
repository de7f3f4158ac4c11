package peertest

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Messages returns the SIP messages SIPp has traced so far (-trace_msg),
// sent and received, in order. SIPp writes each message as it goes, so this
// works while SIPp runs; SIPpResult.Messages has the complete log.
func (r *SIPpRun) Messages() []SIPMessage {
	return ParseSIPpMessages(readString(r.messagesPath))
}

// WaitReceived waits until SIPp has received n messages whose start line
// begins with prefix (e.g. "INVITE ", "REFER ", "SIP/2.0 200") and returns
// the n-th (n ≥ 1): the way to act on a peer's request while the scenario
// runs, e.g. to check a re-INVITE's SDP before sending the next command. It
// fails when ctx ends first or SIPp ends without such a message.
func (r *SIPpRun) WaitReceived(ctx context.Context, prefix string, n int) (string, error) {
	n = max(n, 1)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		exited := r.Exited() // before reading, so the last read sees everything
		seen := 0
		for _, m := range r.Messages() {
			if !m.Sent && strings.HasPrefix(m.Text, prefix) && complete(m.Text) {
				if seen++; seen == n {
					return m.Text, nil
				}
			}
		}
		if exited {
			return "", fmt.Errorf("%s ended having received %d of %d %q messages", r.Name(), seen, n, prefix)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s received %d of %d %q messages: %w", r.Name(), seen, n, prefix, ctx.Err())
		case <-tick.C:
		}
	}
}

// complete reports whether a traced message has been written out whole: its
// header ends and its body is as long as its Content-Length says.
func complete(msg string) bool {
	_, body, ok := strings.Cut(msg, "\r\n\r\n")
	return ok && len(body) >= atoi(SIPHeader(msg, "Content-Length"))
}
