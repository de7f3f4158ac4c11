// Package dialer is Ringdesk's built-in test caller: it calls a number or
// extension on a SIP server (a running Ringdesk or any other) the way a
// softphone with a script would, and reports what happened. `ringdesk dial`
// is its command line; end-to-end tests use it as a caller.
//
// A Script says whom to call and what to do: the server and transport,
// digest credentials, audio to send (a WAV file looped, a sine, or
// silence), digits to press at given times after the answer (RFC 4733
// events, in-band tones or SIP INFO), a WAV file to record what the call
// hears, how long to talk and how long to let it ring. Dialer.Run places
// the call and returns a Result: the final status, the times of ringing
// and answer, the digits sent and heard, how much audio arrived, and the
// Events that WriteSummary prints one per line.
//
// The package uses github.com/emiago/sipgo directly for signaling (its
// types stay inside the package), and Ringdesk's media packages for
// everything else: a media.Session for RTP, a media.Mixer that sends the
// script's audio and taps what is received, media/sdp for the offer and
// answer, media/dtmf for digits and media/wav for the files. It imports no
// other Ringdesk package; cmd/ringdesk adds the call record Ringdesk keeps.
//
// Run owns every goroutine it starts (the digit sender, the recording's
// writer, and through the phone, mixer and session those of sipgo, the
// mixer's ticker and the RTP reader) and has waited for all of them when it
// returns.
//
// Standards: RFC 3261 (INVITE client transaction through sipgo, digest
// authentication on 401/407 §22, ACK to the 2xx with the route set §13.2.2.4
// and §12.2.1.1, CANCEL §9.1 only after a provisional response, BYE both
// ways §15, every request sent to the server as an outbound proxy §8.1.2),
// RFC 3264 (offer in the INVITE: PCMU, PCMA and telephone-event/8000 on
// payload type 101; re-INVITEs answered), RFC 3960 (early media: a 183 with
// SDP starts hearing and recording), RFC 4733 (DTMF events), RFC 6086 with
// application/dtmf-relay (DTMF in SIP INFO), RFC 7616 and RFC 8760 (digest
// with MD5 or SHA-256), ITU-T Q.23 (in-band DTMF tones).
package dialer
