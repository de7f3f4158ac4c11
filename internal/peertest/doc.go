// Package peertest starts, drives and observes real SIP peers from Go tests:
// SIPp, baresip and linphonec as callers and callees, dumpcap to capture the
// RTP between them. Ringdesk's end-to-end tests run Ringdesk in-process on
// loopback and use this package to check what a user would notice: the call
// is answered, each side hears the other's tone, the digits arrive, the call
// ends.
//
// It is a test-helper package: only _test.go files import it. It may import
// any non-cmd package of the module; it uses media (G.711 laws) and
// media/mediatest (tone WAVs, RTP captures for SIPp). The peers' scripts and
// SIPp scenarios live in test/peers (see its README.md), found from the
// test's working folder by PeersDir.
//
// # Processes
//
// [Start] and [StartFor] run a program in its own process group with its
// output in a log file. Every process has a time limit, and t.Cleanup stops
// it (SIGTERM to the group, SIGKILL two seconds later). On Linux a process is
// also killed if the test binary dies. Tests synchronise on what the peers
// write, never on sleeps: [Proc.WaitLog] and [Proc.WaitLogSince] poll the log
// for a line matching a regular expression, [WaitListening] watches
// /proc/net until a port is bound, [WaitWAV] waits until a recorder has
// finished its file. A failing test gets the end of every process's log.
//
// # Peers
//
//   - [SIPp]: one sipp run with a scenario of test/peers/sipp (register.xml,
//     uac_call.xml, uas_answer.xml, uac_info_dtmf.xml, uas_refer.xml, ...) or
//     any other; [SIPpRun.Wait] gives the exit code, the call counters of
//     -trace_stat and the SIP messages of -trace_msg
//     ([SIPpResult.ReceivedMessages], [SIPpResult.ReceivedSDP]);
//     [SIPpRun.WaitReceived] waits for a message while SIPp runs.
//   - [Baresip]: a desk phone driven through its TCP console
//     ([BaresipPhone.Ctl], [BaresipPhone.Dial], [BaresipPhone.DTMF],
//     [BaresipPhone.Hold], [BaresipPhone.Resume], [BaresipPhone.Transfer]),
//     recording what it hears per call ([BaresipPhone.Received]).
//   - [Linphone]: a second desk phone driven through a FIFO
//     ([LinphonePhone.Send]), recording what it hears to
//     [LinphonePhone.Recording].
//   - [StartCapture]: dumpcap on the loopback interface; read the file with
//     mediatest.ReadPcap after [Capture.Stop].
//
// [WriteToneWAV] and [WriteTonePcap] make the audio the peers send,
// [WriteDTMFPcap] RFC 4733 or in-band DTMF for SIPp, [WriteSpeechWAV] and
// [WriteSpeechPcap] speech (espeak-ng, made at test time).
//
// # Addresses and ports
//
// All traffic stays on 127.0.0.0/8. The package never uses fixed ports:
// callers pass ports, or leave them zero to get free ones ([FreePort],
// [FreeSIPPort], [FreeRTPPort]). Those come from 21000-30999, below the
// kernel's ephemeral range so that no test's outgoing connection takes one
// before its peer binds it, and each is locked (flock, under the temp
// directory) for the test's lifetime so parallel test binaries never share
// one. Giving each peer its own 127.0.0.x address as well keeps tests apart
// from each other and from a PBX on port 5060.
//
// # Missing programs and CI
//
// Every Start checks its programs with [Require]. A missing program skips
// the test, unless the environment variable CI is "true": then it fails the
// test, so that a CI machine without the peers cannot pass by skipping
// everything. test/peers/install.sh installs them. Tests that start peers
// take seconds each and should skip under -short.
//
// A test, roughly:
//
//	b := peertest.Baresip{IP: "127.0.0.31", User: "1003", WAV: peertest.WriteToneWAV(t, 660, 30*time.Second)}.Start(t)
//	l := peertest.Linphone{IP: "127.0.0.32", User: "1005", WAV: peertest.WriteToneWAV(t, 880, 30*time.Second)}.Start(t)
//	if err := l.Send("call " + b.URI()); err != nil { ... }
//	if _, err := l.WaitConnected(ctx, 0); err != nil { ... }
//	... l.Send("terminate"); l.WaitEnded(ctx, 0); peertest.WaitWAV(ctx, l.Recording())
//	samples, rate, _, err := mediatest.ReadWAV(l.Recording())
//	share := mediatest.ToneShare(samples, rate, 660, 25) // ~1
package peertest
