// Package tone generates call-progress tones for Ringdesk: the dial,
// ringback, busy and congestion tones a caller hears, as 16-bit PCM frames
// that package media encodes and sends.
//
// It imports no other Ringdesk package (package media imports it).
//
// Main types:
//
//   - [Tone]: frequencies played together, an on/off cadence and a level in
//     dBm0 per frequency. [Dial], [Ringback], [Busy] and [Congestion] return
//     the tones of a region ("us", "uk", "eu"; see [Regions]): North
//     America's Precise Tone Plan, BT SIN 350, and the harmonised European
//     425 Hz tones (ETSI TR 101 041), as listed in ITU-T E.180 Supplement 2.
//   - [Generator]: plays a Tone frame by frame ([Generator.Read]),
//     phase-continuous, without allocating. [Tone.Generator] never fails
//     (a tone it cannot play gives silence); [NewGenerator] reports why.
//
// Levels follow ITU-T G.711: 0 dBm0 is a sine 3.14 dB below full scale.
// Errors wrap [ErrRegion] and [ErrInvalid].
package tone
