package media

import (
	"fmt"
	"net/netip"
	"time"
)

// Defaults used when a Config field is zero.
const (
	DefaultPortMin    = 10000
	DefaultPortMax    = 20000
	DefaultQuarantine = 2 * time.Second
)

// Config configures RTP sockets.
type Config struct {
	// Address is the local IP address RTP sockets bind to.
	Address netip.Addr `yaml:"address"`
	// PublicAddress is advertised in SDP when Ringdesk is behind NAT. Zero: Address.
	PublicAddress netip.Addr `yaml:"public_address"`
	// PortMin and PortMax bound the RTP ports; only even ports are used for RTP,
	// and the odd port above each is kept free for RTCP.
	PortMin int `yaml:"port_min"`
	PortMax int `yaml:"port_max"`
	// Quarantine keeps a released port out of use for a while, so late packets
	// of one call cannot reach the next.
	Quarantine time.Duration `yaml:"quarantine"`
}

func (c Config) withDefaults() Config {
	if !c.Address.IsValid() {
		c.Address = netip.IPv4Unspecified()
	}
	if !c.PublicAddress.IsValid() {
		c.PublicAddress = c.Address
	}
	if c.PortMin == 0 && c.PortMax == 0 {
		c.PortMin, c.PortMax = DefaultPortMin, DefaultPortMax
	}
	if c.Quarantine == 0 {
		c.Quarantine = DefaultQuarantine
	}
	return c
}

// Validate reports the first inconsistency in c (after defaults).
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.PortMin < 1 || c.PortMax > 65535 || c.PortMin > c.PortMax {
		return fmt.Errorf("media: port range %d-%d is not within 1-65535 with min <= max", c.PortMin, c.PortMax)
	}
	if evenPorts(c.PortMin, c.PortMax) < 1 {
		return fmt.Errorf("media: port range %d-%d holds no even port with a free odd port above it", c.PortMin, c.PortMax)
	}
	if c.Quarantine < 0 {
		return fmt.Errorf("media: negative quarantine")
	}
	return nil
}

// evenPorts counts the RTP ports (even, with the odd RTCP port above also in range).
func evenPorts(lo, hi int) int {
	if lo%2 == 1 {
		lo++
	}
	if hi < lo+1 {
		return 0
	}
	return (hi-1-lo)/2 + 1
}
