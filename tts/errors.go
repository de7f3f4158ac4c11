package tts

import "errors"

// Errors of package tts. They come wrapped with context; compare with
// errors.Is.
var (
	// ErrNotInstalled: espeak-ng is not on the PATH (or not at the path
	// given with WithCommand), or does not run.
	ErrNotInstalled = errors.New("tts: espeak-ng is not installed")
	// ErrBadVoice: the voice name is empty, too long, or holds a character
	// other than letters, digits, '-', '+', '_' and '/'.
	ErrBadVoice = errors.New("tts: invalid voice name")
	// ErrUnknownVoice: espeak-ng has no voice of that name.
	ErrUnknownVoice = errors.New("tts: unknown voice")
	// ErrBadText: the text is empty, too long, not UTF-8, or holds a
	// control character other than tab and line breaks.
	ErrBadText = errors.New("tts: invalid text")
	// ErrNoAudio: espeak-ng succeeded but gave no audio, or only silence.
	ErrNoAudio = errors.New("tts: no audio")
	// ErrTooLarge: espeak-ng wrote more than MaxOutput bytes.
	ErrTooLarge = errors.New("tts: output too large")
)
