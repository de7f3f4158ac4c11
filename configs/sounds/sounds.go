// Package sounds holds the audio Ringdesk ships, made by the Ringdesk
// authors (see README.md in this directory, and make.sh, which regenerates
// every file): the default hold music and the voicemail beep, synthesised
// from sine waves with SoX, and the spoken prompts of the sample dialplan,
// spoken by espeak-ng. Every file is an 8 kHz mono 16-bit PCM WAV file.
package sounds

import "embed"

// HoldMusic is the default hold music: an 8 kHz mono 16-bit PCM WAV that
// loops without a click.
//
//go:embed hold-music.wav
var HoldMusic []byte

// FS holds every sound in this directory by its file name, such as
// "welcome.wav" or "beep.wav" (hold-music.wav included):
//
//	beep, err := fs.ReadFile(sounds.FS, "beep.wav")
//
// The sample dialplan next to this directory names them relative to itself,
// as "sounds/welcome.wav". A configuration embedded in package configs can
// embed them under that name itself (//go:embed dialplan.yaml sounds/*.wav),
// or map "sounds/NAME" to NAME here.
//
//go:embed *.wav
var FS embed.FS
