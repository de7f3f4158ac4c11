//go:build race

package srtp

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// pion/srtp's pooled scratch buffers get allocated again now and then, and
// the zero-allocation pins of the SRTP paths do not hold under -race.
const raceEnabled = true
