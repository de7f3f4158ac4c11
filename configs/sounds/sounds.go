// Package sounds holds the audio Ringdesk ships: the default hold music,
// synthesised by the Ringdesk authors (see README.md in this directory).
package sounds

import _ "embed"

// HoldMusic is the default hold music: an 8 kHz mono 16-bit PCM WAV that
// loops without a click.
//
//go:embed hold-music.wav
var HoldMusic []byte
