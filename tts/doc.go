// Package tts turns text into speech for prompts: automated messages and
// menu read-outs that an admin writes as text in the dialplan rather than
// recording. It runs the espeak-ng speech synthesiser
// (https://github.com/espeak-ng/espeak-ng, tested with 1.51) and returns
// 8 kHz mono 16-bit PCM, the rate of G.711, ready for media.NewClip.
//
// A [Speaker] renders each text once: espeak-ng writes a 22.05 kHz WAV file
// to its stdout, package media/wav decodes it and resamples it to 8 kHz, the
// level is set to a peak of -6 dBFS (like the prompts in configs/sounds), and
// the result is kept in a cache directory as a WAV file named by the
// SHA-256 of the engine version, the voice and the text. Later calls, also
// in later runs of Ringdesk, read the file instead of running espeak-ng.
// Files are written whole or not at all (a temporary file, then a rename),
// and a damaged one is rendered again. The cache is never pruned: a file
// takes 16 kB per second of speech, and texts that are no longer used can
// be cleared by deleting the directory.
//
// The text comes from the admin's YAML, so it never reaches a command line
// or a shell: espeak-ng reads it on its stdin, and only a validated voice
// name (see [Speaker.Speak]) becomes an argument. Each run is bounded in
// time and in output size.
//
// It imports no Ringdesk package but media/wav. Packages that need speech
// take a plain function (see [Speaker.Func]), so they need not import tts:
// cmd/ringdesk (or configs) makes the Speaker and passes it on.
//
// Errors wrap [ErrNotInstalled], [ErrBadVoice], [ErrUnknownVoice],
// [ErrBadText], [ErrNoAudio] and [ErrTooLarge].
package tts
