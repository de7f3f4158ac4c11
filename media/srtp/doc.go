// Package srtp protects RTP with SRTP (RFC 3711) keyed by SDP security
// descriptions (SDES, RFC 4568), for the SIP trunks that ask for RTP/SAVP.
//
// It holds what both sides of that feature share: the crypto suites Ringdesk
// speaks (Suite), master keys (Key) and the keys one stream agreed on (Keys),
// which media/sdp negotiates and media.Session takes; and the per-direction
// crypto contexts the session uses on its packet path (Sender, Receiver).
//
// It imports no other Ringdesk package; media and media/sdp import it. The
// cryptography is github.com/pion/srtp/v3, whose types stay inside this
// package.
//
// # Suites
//
//   - AES_CM_128_HMAC_SHA1_80 (RFC 4568 §6.2.1): AES-128 in counter mode and
//     an 80-bit HMAC-SHA1 tag on every RTP packet; what every SDES peer has.
//   - AES_CM_128_HMAC_SHA1_32 (RFC 4568 §6.2.2): the same with a 32-bit tag on
//     RTP packets.
//
// Both take a 16-byte master key followed by a 14-byte master salt (Key, 30
// bytes), and derive their session keys once (key derivation rate 0).
//
// # Keys stay secret
//
// Key and Keys format as "[redacted]" with every fmt verb and as slog values,
// so that a Negotiated or a Params printed into a log or an error message
// does not leak them. Use a Key as a []byte to read its bytes.
//
// # Packet path
//
// Sender and Receiver work in place, on caller-owned buffers, without
// allocating. A Receiver authenticates before it decrypts and keeps a replay
// window of ReplayWindow packets per SSRC (RFC 3711 §3.3.2); a packet that
// fails either check is refused with ErrAuth. Neither is safe for concurrent
// use: media.Session uses its Sender under its out-stream lock and its
// Receiver on its reader goroutine only. New keys mean a new Sender and
// Receiver, whose rollover counters and replay windows start afresh.
//
// Ringdesk sends no RTCP, so SRTCP is not used.
package srtp
