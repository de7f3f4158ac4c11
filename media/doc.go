// Package media moves RTP for Ringdesk: every call's audio passes through it
// (anchored media). It imports no other Ringdesk package, and pion's types do
// not leave it.
//
// Main types:
//
//   - Engine: owns the RTP port range (PortPool) and opens Sessions.
//   - PortPool: even ports, round robin, with a quarantine after release so
//     late packets of one call cannot reach the next.
//   - Session: one UDP socket on one port, read by one goroutine. What it
//     receives goes to its peer Session (Bridge), rewritten into the peer's own
//     outgoing stream: one SSRC, continuous sequence numbers and timestamps
//     whatever feeds it (RFC 3550 §5.1), the payload type mapped to what the
//     peer negotiated, PCMU and PCMA transcoded when the legs differ, and
//     telephone-event (RFC 4733) carried across. Symmetric RTP (RFC 4961):
//     packets go to where the peer's packets come from, and a stream is
//     followed to a new address only after the old one fell silent (against
//     RTP bleed). The packet path does not allocate. With SRTP keys in its
//     Params (SDES, negotiated by media/sdp), a session authenticates and
//     decrypts every packet it receives before anything else looks at it,
//     drops and counts those that fail, and encrypts everything it sends,
//     relayed or generated (RFC 3711, media/srtp on pion/srtp).
//   - G711: μ-law and A-law (ITU-T G.711) on github.com/zaf/g711, through
//     lookup tables, on caller-owned buffers.
//   - Mixer: 20 ms frames of 8 kHz PCM (FrameSamples); each participant
//     hears the sum of the others, clipped; mute, hold (the mixer's music),
//     remove; prompts and tones join as sources heard by all (Play) or by
//     one participant (PlayTo); a FrameTap (the Recorder) gets the customer
//     and agent sides each frame. A session in a
//     mixer decodes what it receives into a jitter buffer (media/jitter)
//     instead of relaying it; WriteFrame encodes the mix into the session's
//     one outgoing stream.
//   - MusicStream: one looped source encoded once in both laws and sent to
//     any number of listening sessions (held callers, ringback).
//   - Recorder: a stereo WAV written as it goes, its header rewritten every
//     500 ms so a killed process leaves a playable file (media/wav).
//   - Digits: RFC 4733 events are decided on every session (media/dtmf),
//     in-band tones in the mixer; OnDigit reports them, SendDigit sends one.
//
// Subpackages: sdp (offer/answer), srtp (SDES keys and SRTP crypto
// contexts), dtmf (RFC 4733, SIP INFO and Goertzel detection), jitter (the
// jitter buffer), wav (WAV reading and crash-safe writing), tone
// (call-progress tones), mediatest (test helpers: tones, WAV, packet
// captures).
package media
