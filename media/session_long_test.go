package media

import (
	"testing"

	"github.com/pion/rtp"
)

// TestRelayLongStream: a stream longer than the sequence number space (a
// call of more than 22 minutes at 50 packets/s) is forwarded whole, with
// the sequence numbers wrapping (RFC 3550 §5.1).
func TestRelayLongStream(t *testing.T) {
	step, out := benchRelay(t, "PCMU")
	const n = 3 * 65536
	for range n {
		step()
	}
	if out.writes != n {
		t.Fatalf("forwarded %d of %d packets", out.writes, n)
	}
	out.record = true
	step()
	var h rtp.Header
	if _, err := h.Unmarshal(out.last[:out.lastLen]); err != nil {
		t.Fatal(err)
	}
	first := h.SequenceNumber
	step()
	if _, err := h.Unmarshal(out.last[:out.lastLen]); err != nil || h.SequenceNumber != first+1 {
		t.Fatalf("after the wrap the sequence goes %d -> %d (%v)", first, h.SequenceNumber, err)
	}
}
