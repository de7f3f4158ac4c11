// Package wav reads and writes WAV files for Ringdesk: it decodes prompts and
// hold music into 16-bit PCM, converts them to the 8 kHz of G.711, and writes
// call recordings so that a crash never leaves an unplayable file.
//
// It imports no other Ringdesk package (package media imports it), so it
// carries its own G.711 decoder (ITU-T G.711), which gives the same values as
// media.DecodeUlaw and media.DecodeAlaw.
//
// Reading:
//
//   - [Decode], [ReadFile]: RIFF/WAVE (and RF64) with PCM of 8 to 32 bits,
//     IEEE float, A-law and μ-law, plain or as WAVE_FORMAT_EXTENSIBLE, at
//     8, 11.025, 16, 22.05, 32, 44.1 or 48 kHz, any number of channels up to
//     [MaxChannels]. The result, [Audio], holds the mono mix and each
//     channel. Decoding is bounded ([MaxDataSize], [MaxMetadataSize]), never
//     panics, skips chunks it does not know, and reads what there is of
//     truncated files and files whose sizes were never filled in.
//   - [Audio.To8k]: mono at 8 kHz, through a windowed-sinc low-pass.
//
// Writing:
//
//   - [Create], [Writer]: 16-bit PCM, buffered, crash-safe: each
//     [Writer.Flush] appends the buffered samples and then rewrites the sizes
//     in the header, so the file plays up to the last Flush whenever the
//     process dies; [Writer.Sync] adds an fsync for power loss.
//
// Errors wrap [ErrFormat], [ErrUnsupported], [ErrTooLarge] and [ErrClosed].
//
// References: Microsoft/IBM "Multimedia Programming Interface and Data
// Specifications 1.0" (RIFF, WAVE), RFC 2361 (WAVE format tags), Microsoft
// WAVEFORMATEXTENSIBLE, EBU Tech 3306 (RF64), ITU-T G.711.
package wav
