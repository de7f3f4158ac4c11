package sdp

import "testing"

func BenchmarkParseOffer(b *testing.B) {
	for _, name := range []string{"baresip", "linphone-video", "webrtc-chromium"} {
		body := readTestdata(b, "offers/"+name+".sdp")
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := ParseOffer(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAnswer(b *testing.B) {
	local := goldenLocal()
	for _, name := range []string{"baresip", "linphone-video"} {
		offer, err := ParseOffer(readTestdata(b, "offers/"+name+".sdp"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a, _, err := offer.Answer(local)
				if err != nil {
					b.Fatal(err)
				}
				_ = a.Marshal()
			}
		})
	}
}

func BenchmarkNewOffer(b *testing.B) {
	local := goldenLocal()
	b.ReportAllocs()
	for b.Loop() {
		_ = NewOffer(local).Marshal()
	}
}
