package srtp

import (
	"fmt"

	"github.com/pion/rtp"
	pionsrtp "github.com/pion/srtp/v3"
)

// ReplayWindow is how many packets behind the newest one a Receiver still
// accepts, once each (RFC 3711 §3.3.2 asks for at least 64). At 20 ms per
// packet that is 2.56 s of reordering.
const ReplayWindow = 128

// Sender protects the RTP packets of one outgoing stream with the local key
// (RFC 3711 §3.3). It is not safe for concurrent use.
type Sender struct {
	ctx   *pionsrtp.Context
	suite Suite
	hdr   rtp.Header // scratch, so that nothing allocates per packet
}

// NewSender returns a Sender for k's suite and local key. Its errors match
// ErrSuite or ErrKey and carry no key material.
func NewSender(k *Keys) (*Sender, error) {
	if k == nil {
		return nil, fmt.Errorf("srtp sender: %w: no keys", ErrKey)
	}
	profile, ok := k.Suite.profile()
	if !ok {
		return nil, fmt.Errorf("srtp sender: %w: %s", ErrSuite, k.Suite)
	}
	if err := checkKey(k.Suite, k.Local); err != nil {
		return nil, fmt.Errorf("srtp sender: local %w", err)
	}
	ctx, err := pionsrtp.CreateContext(k.Local[:masterKeyLen], k.Local[masterKeyLen:], profile)
	if err != nil { // only for bad lengths or profiles, checked above
		return nil, fmt.Errorf("srtp sender: %w: %s", ErrKey, k.Suite)
	}
	return &Sender{ctx: ctx, suite: k.Suite}, nil
}

// Overhead is how many bytes Protect adds to a packet.
func (s *Sender) Overhead() int { return s.suite.TagLen() }

// Protect encrypts the payload of the RTP packet pkt and appends its
// authentication tag. The result is written to dst's backing array when
// cap(dst) >= len(pkt)+Overhead, which may be pkt's own (dst = pkt[:0] works
// in place); otherwise a new slice is allocated. It fails with ErrProtect.
func (s *Sender) Protect(dst, pkt []byte) ([]byte, error) {
	out, err := s.ctx.EncryptRTP(dst, pkt, &s.hdr)
	if err != nil {
		return nil, ErrProtect
	}
	return out, nil
}

// Receiver authenticates and decrypts the SRTP packets of one incoming
// stream with the remote key, refusing replays (RFC 3711 §3.3). It is not
// safe for concurrent use.
type Receiver struct {
	ctx      *pionsrtp.Context
	overhead int
	hdr      rtp.Header // scratch, so that nothing allocates per packet
}

// NewReceiver returns a Receiver for k's suite, remote key and remote MKI,
// with a fresh replay window. Its errors match ErrSuite or ErrKey and carry
// no key material.
func NewReceiver(k *Keys) (*Receiver, error) {
	if k == nil {
		return nil, fmt.Errorf("srtp receiver: %w: no keys", ErrKey)
	}
	profile, ok := k.Suite.profile()
	if !ok {
		return nil, fmt.Errorf("srtp receiver: %w: %s", ErrSuite, k.Suite)
	}
	if err := checkKey(k.Suite, k.Remote); err != nil {
		return nil, fmt.Errorf("srtp receiver: remote %w", err)
	}
	if len(k.RemoteMKI) > MaxMKILen {
		return nil, fmt.Errorf("srtp receiver: %w: MKI is %d bytes, at most %d allowed", ErrKey, len(k.RemoteMKI), MaxMKILen)
	}
	ctx, err := pionsrtp.CreateContext(k.Remote[:masterKeyLen], k.Remote[masterKeyLen:], profile,
		pionsrtp.SRTPReplayProtection(ReplayWindow),
		pionsrtp.MasterKeyIndicator(k.RemoteMKI))
	if err != nil { // only for bad lengths or profiles, checked above
		return nil, fmt.Errorf("srtp receiver: %w: %s", ErrKey, k.Suite)
	}
	return &Receiver{ctx: ctx, overhead: k.Suite.TagLen() + len(k.RemoteMKI)}, nil
}

// Overhead is how many bytes an SRTP packet carries beyond its RTP packet:
// the authentication tag and the MKI.
func (r *Receiver) Overhead() int { return r.overhead }

// Unprotect checks the authentication tag of the SRTP packet pkt and that it
// is not a replay, then decrypts it into the RTP packet it protects, without
// tag and MKI. The result is written to dst's backing array when
// cap(dst) >= len(pkt), which may be pkt's own (dst = pkt[:0] works in place);
// otherwise a new slice is allocated. A packet that fails, or is no RTP
// packet at all, is refused with ErrAuth; that allocates nothing, except for
// replays, which pion/srtp reports with a fresh error value.
func (r *Receiver) Unprotect(dst, pkt []byte) ([]byte, error) {
	if len(pkt) < 12+r.overhead {
		return nil, ErrAuth
	}
	out, err := r.ctx.DecryptRTP(dst, pkt, &r.hdr)
	if err != nil {
		return nil, ErrAuth
	}
	return out, nil
}
