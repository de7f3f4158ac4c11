package e164

import "testing"

func BenchmarkNormalize(b *testing.B) {
	for _, bb := range []struct{ name, raw, country string }{
		{"national/PT", "210000000", "PT"},
		{"national/GB", "020 7946 0000", "GB"},
		{"international/plus", "+351210000000", "GB"},
		{"international/00", "00351210000000", "GB"},
		{"international/no_plus", "351210000000", "GB"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Normalize(bb.raw, bb.country); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFormat(b *testing.B) {
	for st := E164; st <= International; st++ {
		b.Run(st.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Format("+442079460000", st, "GB", ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
