package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/calls"
	"github.com/ringdesk/ringdesk/internal/peertest"
	"github.com/ringdesk/ringdesk/media"
	"github.com/ringdesk/ringdesk/media/mediatest"
)

// TestTrunkSRTP: a provider that requires SRTP (baresip with SDES keys,
// mediaenc=srtp-mand, at 127.0.0.2) and a phone that speaks plain RTP (SIPp)
// talk through Ringdesk both ways: a call out through the trunk (srtp:
// true: Ringdesk offers RTP/SAVP) and a call in from it (Ringdesk answers
// the provider's SAVP offer). Each hears the other's tone, the trunk leg is
// recorded as SRTP, and the packets on the provider's side are not audio
// anyone on the path could decode.
func TestTrunkSRTP(t *testing.T) {
	for _, out := range []bool{true, false} {
		name := "in"
		if out {
			name = "out"
		}
		t.Run(name, func(t *testing.T) {
			ctx := e2e(t, "sipp", "baresip", "dumpcap")
			prov := peertest.Baresip{
				IP: providerIP, User: "+351210000000", SRTP: true,
				WAV: peertest.WriteToneWAV(t, 700, 40*time.Second),
			}.Start(t)
			top := "trunks:\n" + trunkYAML("secure", providerIP, prov.Config.Port, "srtp: true") + `
routes:
  - prefix: "*"
    trunks: [secure]
`
			pbx := startPBX(t, pbxOptions{RTPPorts: "35300-35499", Top: top, Dialplan: didToBob})
			reg := pbx.sipAddr("udp").String()
			phoneMedia := peertest.FreeRTPPort(t, loopback)
			capture := peertest.StartCapture(t, fmt.Sprintf("udp and (port %d or portrange 35300-35499)", phoneMedia))
			pcap := peertest.WriteTonePcap(t, 440, 20*time.Second, media.PCMU, "")
			var phone *peertest.SIPpRun
			if out {
				phone = dial(t, pbx, "uac_call.xml", "1001", "alice-1001", "+351210000000", phoneMedia, map[string]string{"pcap": pcap}, 4000)
			} else {
				bob := newSIPpUser(t, "1002", "bob-1002")
				bob.mediaPort = phoneMedia
				mustSucceed(t, "register 1002", bob.register(ctx, t, pbx, 300))
				phone = bob.answer(t, "uas_answer.xml", 1, map[string]string{"pcap": pcap})
				if err := prov.Dial(ctx, "sip:210000000@"+reg); err != nil {
					t.Fatal(err)
				}
			}
			answered := pbx.waitEvent(ctx, "the answer", isEvent[calls.CallAnswered]).Time()
			if !out {
				time.Sleep(4 * time.Second) // they talk
				if err := prov.Hangup(ctx); err != nil {
					t.Fatal(err)
				}
			}
			mustSucceed(t, "the phone", phone.Wait(ctx))
			rec := pbx.nextCall(ctx)
			secure := false
			for _, l := range rec.Legs {
				if l.Party.Trunk == "secure" || (!out && l.ID == rec.Legs[0].ID) {
					secure = l.SRTP == "AES_CM_128_HMAC_SHA1_80"
				}
			}
			if !secure {
				t.Errorf("the trunk leg is not recorded as SRTP: %+v", rec.Legs)
			}
			pkts, err := mediatest.ReadPcap(capture.Stop())
			if err != nil {
				t.Fatal(err)
			}
			from, to := answered.Add(500*time.Millisecond), answered.Add(3*time.Second)
			assertTone(t, "the phone", audioTo(pkts, phoneMedia, from, to), 700)
			assertBaresipHeard(ctx, t, "the SRTP provider", prov, 440)
			// on the wire to the provider (baresip sends from a socket bound
			// to 0.0.0.0, so Ringdesk answers 127.0.0.1): encrypted (a
			// 10-byte tag more than plain 172-byte PCMU packets) and no tone
			// when read as G.711
			var wire []mediatest.Packet
			sizes := map[int]int{}
			for _, p := range pkts {
				toProvider := inRange(p.Src.Port(), 35300, 35499) && !inRange(p.Dst.Port(), 35300, 35499) && int(p.Dst.Port()) != phoneMedia
				if toProvider && p.Time.After(from) && p.Time.Before(to) {
					wire = append(wire, p)
					sizes[len(p.Payload)]++
				}
			}
			if len(wire) < 50 || sizes[182] < len(wire)*9/10 {
				t.Errorf("%d packets to the provider, sizes %v; want SRTP packets of 182 bytes", len(wire), sizes)
			}
			if s := share(mediatest.DecodeAudio(mediatest.RTP(wire, nil)), 440); s > 0.2 {
				t.Errorf("the packets to the provider carry the tone in the clear (%.2f of the energy at 440 Hz)", s)
			}
		})
	}
}
