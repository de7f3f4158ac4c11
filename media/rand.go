package media

import (
	"crypto/rand"
	"encoding/binary"
)

// randUint32 returns a random 32-bit value for SSRCs and initial sequence
// numbers and timestamps (RFC 3550 §5.1 wants them unpredictable).
func randUint32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}
