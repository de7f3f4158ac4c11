// Package dtmf decides DTMF keypresses, once per keypress, from each of the
// three ways they reach a PBX, and produces them for the first two:
//
//   - RFC 4733 telephone-events in RTP: Event (the payload, §2.3), Receiver
//     (one stream's events turned into digits), Train (the packets that send
//     a digit, §2.5.1).
//   - Tones in the audio (in-band): Detector (Goertzel), Tone.
//   - SIP INFO (RFC 6086) with an application/dtmf-relay or application/dtmf
//     body: ParseInfo, InfoBody.
//
// Digits are the Digit characters '0'-'9', '*', '#', 'A'-'D'; event codes
// 0-15 are RFC 4733 §3.2's, and the tone frequencies ITU-T Q.23's: rows 697,
// 770, 852, 941 Hz, columns 1209, 1336, 1477, 1633 Hz.
//
// The package imports only the standard library, and no other Ringdesk
// package: media imports it. Nothing in it is safe for concurrent use; each
// stream has its own Receiver and Detector, and neither allocates.
//
// # RFC 4733 receiver
//
// The packets of one event all carry the event's start timestamp, which
// identifies it. A Receiver reports an event at its first end packet; if all
// its end packets are lost, at the first packet of another event, or after
// EventTimeout (200 ms) without a packet of it (Tick). It remembers the last
// 16 events it reported and ignores any further packet of theirs:
// retransmitted end packets (§2.5.1.4), duplicates, reordering. An event whose
// first packets were lost still counts; the segments of a long event
// (§2.5.1.3) are one keypress. The same key pressed twice is two events, with
// two timestamps, and two digits.
//
// # In-band detector
//
// The Detector runs Goertzel filters at the eight frequencies over windows of
// 14.5 ms that start every 3.6 ms (116 and 29 samples at 8 kHz; see the
// detector's source for why). A window holds a digit when:
//
//   - both its strongest row tone and its strongest column tone are at least
//     MinLevel, -30 dBm0 (a full-scale sine being +3.14 dBm0, ITU-T G.711);
//   - the twist is within ITU-T Q.24's usual limits: the column tone at most
//     MaxNormalTwist (8 dB) weaker than the row tone, at most
//     MaxReverseTwist (4 dB) stronger;
//   - each of the two is at least MinGroupMargin (8 dB) above every other
//     tone of its group;
//   - together they hold at least MinToneShare (75%) of the window's energy.
//     This is what rejects speech and music, which spread their energy over
//     harmonics and formants; it subsumes a second-harmonic check, since
//     harmonics are energy outside the two tones.
//
// A digit is accepted when 8 consecutive windows (40 ms of audio) hold it,
// and reported once; the keypress ends after 8 windows without it. As
// measured in the tests, at 8 and 16 kHz: tones of 38 ms or more are
// reported and tones under 33 ms are not (Q.24: accept 40 ms), pauses of
// 22 ms or more separate two presses of a key (Q.24: 40 ms), and dropouts of
// up to 18 ms are bridged (Q.24: 10 ms); frequencies 1.5% off are accepted,
// 6% off rejected. The speech of testdata/speech-8k.wav, synthetic chords
// and melodies, white noise, single tones and call-progress tones give no
// digit.
//
// # SIP INFO
//
// application/dtmf-relay bodies are "Signal=5\r\nDuration=160\r\n" (keys
// case-insensitive, Signal a digit or an event code, Duration in milliseconds,
// 250 ms if missing); application/dtmf bodies are the digit alone. Other
// content types fail with ErrNotDTMF, bad bodies with ErrMalformed.
package dtmf
