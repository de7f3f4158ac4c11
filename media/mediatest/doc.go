// Package mediatest holds helpers for Ringdesk's unit and end-to-end media
// tests: tone generation and detection, WAV files, and RTP capture analysis.
// It is a test-helper package: production code must not import it. It may
// import package media (for G.711) and any other non-cmd package, and it lets
// github.com/pion/rtp types through, in RTPPacket.
//
// Signals are 16-bit linear PCM samples ([]int16), mono unless stated,
// at a sample rate given in Hz.
//
// Tones:
//   - [Sine], [Silence]: generate.
//   - [RMS]: level as a fraction of full scale.
//   - [ToneShare]: fraction of the energy near a frequency (Hann-windowed FFT
//     over overlapping blocks); [DominantFrequency]: the strongest frequency.
//   - [Trim]: cut leading and trailing quiet parts.
//
// WAV files:
//   - [ReadWAV], [ReadWAVChannels]: PCM (8, 16, 24, 32 bits), IEEE float,
//     G.711 μ-law and A-law, WAVE_FORMAT_EXTENSIBLE, and files left behind
//     by streaming writers (data size 0, 0xFFFFFFFF or past the end).
//   - [WriteWAV]: 16-bit PCM mono.
//
// Captures (pcap and pcapng, as written by tcpdump, dumpcap and tshark):
//   - [ReadPcap]: the UDP datagrams of a capture, over Ethernet, raw IP, Linux
//     cooked (SLL, SLL2) or BSD loopback, IPv4 or IPv6.
//   - [RTP], [To], [From]: RTP packets among them (RFC 3550).
//   - [DecodeAudio]: the G.711 audio of one direction as PCM.
//   - [Streams]: per-stream counts, sequence gaps and timestamp jumps.
//   - [DTMF]: the digits of RFC 4733 telephone-events.
//   - [WriteRTPPcap]: an RTP capture of audio and DTMF that SIPp's
//     play_pcap_audio can replay.
package mediatest
