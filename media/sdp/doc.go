// Package sdp does SDP offer/answer for the call legs Ringdesk anchors.
//
// Ringdesk is a back-to-back user agent that relays every call's RTP itself,
// so each leg negotiates its audio with Ringdesk alone. This package turns the
// SDP bodies that the sip package carries as opaque bytes into typed values,
// and builds Ringdesk's own offers and answers. Ringdesk speaks PCMU and PCMA
// (static payload types 0 and 8) and RFC 4733 telephone-event at 8000 Hz,
// over plain RTP or over SRTP keyed in the SDP (SDES) for the trunks that
// require it.
//
// It imports only media/srtp (crypto suites and keys, shared with
// media.Session); calls uses it. Parsing is done by github.com/pion/sdp/v3,
// whose types stay inside this package.
//
// # Main types
//
//   - Offer and Answer: an SDP offer and answer. They are distinct types so
//     that an offer cannot be applied as an answer. ParseOffer and ParseAnswer
//     read a peer's; NewOffer builds Ringdesk's offer and Offer.Answer its
//     answer; Answer.Negotiate reads the peer's answer to our offer.
//   - Media: the one audio stream Ringdesk uses out of a description.
//   - Local: Ringdesk's side of one RTP session (address, port, codecs).
//   - Negotiated: what an offer and its answer agreed, from Ringdesk's side;
//     for SRTP its SRTP field holds the keys, which media.Params.SRTP takes
//     as they are.
//   - Crypto: a usable a=crypto attribute (Media.Crypto).
//   - Codec and Direction.
//
// Every failure to agree on audio matches ErrNoCommonCodec, which callers turn
// into 488 Not Acceptable Here; an SRTP stream without a usable a=crypto also
// matches ErrNoCrypto, and a plain answer to Ringdesk's SRTP offer
// ErrSRTPRequired.
//
// # SRTP with SDES
//
// An RTP/SAVP (or RTP/SAVPF) offer is answered in kind (RFC 4568 §7.1.2):
// the offerer's first a=crypto that Ringdesk can use gives the tag and the
// suite (AES_CM_128_HMAC_SHA1_80 or AES_CM_128_HMAC_SHA1_32), and Ringdesk
// adds a fresh key of its own from crypto/rand (Local.Rand). With Local.SRTP
// Ringdesk's own offers are RTP/SAVP with both suites, tags 1 and 2, each with
// a fresh key, and Answer.Negotiate requires an SRTP answer that accepts one
// of them. Every new offer or answer carries new keys, so a re-INVITE rekeys
// Ringdesk's direction. See Crypto for the a=crypto lines Ringdesk ignores
// (other suites, several keys, session parameters other than WSH...). Keys
// never appear in errors, and print as "[redacted]". An RTP/AVP offer with
// a=crypto lines ("best effort" SRTP) is answered with plain RTP/AVP.
// DTLS-SRTP (UDP/TLS/RTP/SAVP and SAVPF) is not SDES and stays refused.
//
// # Standards
//
//   - RFC 4566 (SDP): the syntax, connection data, rtpmap, fmtp, ptime,
//     maxptime and the direction attributes.
//   - RFC 3264 (offer/answer): answers with one m= line per offered one,
//     unused streams rejected with port 0, codec matching by name and clock
//     rate, the offerer's payload types, direction reversal, hold (§8.4).
//   - RFC 3551: the names of static payload types without a=rtpmap.
//   - RFC 4733: telephone-event, its rtpmap and fmtp.
//   - RFC 2543 hold: a connection address of 0.0.0.0 counts as sendonly (or
//     inactive for a recvonly stream).
//   - RFC 4568 (SDES): a=crypto for RTP/SAVP, inline keys with lifetime and
//     MKI; RFC 3711 (SRTP) and RFC 5124 (RTP/SAVPF) for the profiles.
//
// # Robustness
//
// Parsing never panics. It refuses bodies over MaxBodySize and with more than
// MaxMediaLines m= lines, and never allocates in proportion to a number read
// from the SDP. Before handing a body to pion/sdp it normalises what phones
// send but pion/sdp rejects: LF or CR line endings and a missing final one,
// blank lines and surrounding spaces, lines out of RFC 4566 order, missing s=
// and t= lines, b= lines of unknown types, u= lines that are not URIs,
// repeated e= and p= lines, and media types or protocols
// pion/sdp does not know (T.38's m=image ... udptl), which are kept and
// answered with port 0. It reads at most 32 a=crypto lines per m= line.
package sdp
