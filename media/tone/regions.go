package tone

import (
	"fmt"
	"strings"
	"time"
)

// kind is a call-progress signal, whatever region's tone plays it.
type kind int

const (
	dial kind = iota
	ringback
	busy
	congestion
)

func (k kind) String() string {
	switch k {
	case dial:
		return "dial"
	case ringback:
		return "ringback"
	case busy:
		return "busy"
	default:
		return "congestion"
	}
}

// Regions returns the regions that have a tone plan, for Dial, Ringback,
// Busy and Congestion.
func Regions() []string { return []string{"eu", "uk", "us"} }

// Dial returns the region's dial tone (continuous).
func Dial(region string) (Tone, error) { return lookup(region, dial) }

// Ringback returns the region's ringing tone (audible ringing), which a
// caller hears while the called party is alerted.
func Ringback(region string) (Tone, error) { return lookup(region, ringback) }

// Busy returns the region's busy tone (engaged tone): the called party is
// busy.
func Busy(region string) (Tone, error) { return lookup(region, busy) }

// Congestion returns the region's congestion tone (reorder, fast busy;
// equipment engaged in the UK): the network, not the called party, cannot
// take the call.
func Congestion(region string) (Tone, error) { return lookup(region, congestion) }

const ms = time.Millisecond

// lookup returns a region's tone of kind k. Region names are matched without
// regard to case. The plans:
//
// us, North America: the Precise Tone Plan (AT&T, "Notes on Distance
// Dialing", 1968; ITU-T E.300-series Supplement 3, "North American precise
// audible tone plan"). Levels are those of the plan, per frequency.
//
//	dial        350+440 Hz   continuous               -13 dBm0
//	ringback    440+480 Hz   2 s on, 4 s off          -19 dBm0
//	busy        480+620 Hz   0.5 s on, 0.5 s off      -24 dBm0
//	congestion  480+620 Hz   0.25 s on, 0.25 s off    -24 dBm0 (reorder)
//
// uk, United Kingdom: BT SIN 350.
//
//	dial        350+440 Hz   continuous
//	ringback    400+450 Hz   0.4 on, 0.2 off, 0.4 on, 2.0 off
//	busy        400 Hz       0.375 s on, 0.375 s off
//	congestion  400 Hz       0.4 on, 0.35 off, 0.225 on, 0.525 off
//	                         (equipment engaged)
//
// eu, the harmonised European tones (ETSI TR 101 041, "European
// harmonization of network generated tones"), used by most of continental
// Europe:
//
//	dial        425 Hz       continuous
//	ringback    425 Hz       1 s on, 4 s off
//	busy        425 Hz       0.5 s on, 0.5 s off
//	congestion  425 Hz       0.25 s on, 0.25 s off
//
// These plans fix frequencies and cadences, which several countries bend a
// little (Germany's busy tone is 0.48/0.48 s, for one); uk and eu tones play
// at DefaultLevel, -13 dBm0 per frequency, our choice. The values agree with
// ITU-T E.180 Supplement 2 and with Asterisk's indications.conf.
func lookup(region string, k kind) (Tone, error) {
	r := strings.ToLower(region)
	var t Tone
	switch r {
	case "us":
		switch k {
		case dial:
			t = Tone{Freqs: []float64{350, 440}, Level: -13}
		case ringback:
			t = Tone{Freqs: []float64{440, 480}, Cadence: []time.Duration{2 * time.Second, 4 * time.Second}, Level: -19}
		case busy:
			t = Tone{Freqs: []float64{480, 620}, Cadence: []time.Duration{500 * ms, 500 * ms}, Level: -24}
		case congestion:
			t = Tone{Freqs: []float64{480, 620}, Cadence: []time.Duration{250 * ms, 250 * ms}, Level: -24}
		}
	case "uk":
		switch k {
		case dial:
			t = Tone{Freqs: []float64{350, 440}}
		case ringback:
			t = Tone{Freqs: []float64{400, 450}, Cadence: []time.Duration{400 * ms, 200 * ms, 400 * ms, 2000 * ms}}
		case busy:
			t = Tone{Freqs: []float64{400}, Cadence: []time.Duration{375 * ms, 375 * ms}}
		case congestion:
			t = Tone{Freqs: []float64{400}, Cadence: []time.Duration{400 * ms, 350 * ms, 225 * ms, 525 * ms}}
		}
	case "eu":
		switch k {
		case dial:
			t = Tone{Freqs: []float64{425}}
		case ringback:
			t = Tone{Freqs: []float64{425}, Cadence: []time.Duration{time.Second, 4 * time.Second}}
		case busy:
			t = Tone{Freqs: []float64{425}, Cadence: []time.Duration{500 * ms, 500 * ms}}
		case congestion:
			t = Tone{Freqs: []float64{425}, Cadence: []time.Duration{250 * ms, 250 * ms}}
		}
	default:
		return Tone{}, fmt.Errorf("%s tone for region %q: %w (known: %s)", k, region, ErrRegion, strings.Join(Regions(), ", "))
	}
	t.Name = r + " " + k.String()
	return t, nil
}
