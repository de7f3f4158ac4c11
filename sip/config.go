package sip

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// The yaml tags of the Config types document the field names; the file
// format itself (ringdesk.yaml) belongs to package configs, which composes
// these values.

// Defaults used when a Config field is zero.
const (
	DefaultRealm          = "ringdesk"
	DefaultUserAgent      = "Ringdesk"
	DefaultMinExpires     = 60 * time.Second
	DefaultMaxExpires     = 3600 * time.Second
	DefaultDefaultExpires = 600 * time.Second
	DefaultNonceTTL       = 5 * time.Minute
	DefaultInviteTimeout  = 32 * time.Second
)

// Digest algorithms the registrar and the INVITE authenticator can challenge with
// (RFC 8760).
const (
	AlgorithmMD5    = "MD5"
	AlgorithmSHA256 = "SHA-256"
)

// Listen is one SIP listening socket.
type Listen struct {
	// Network is "udp", "tcp" or "tls".
	Network string `yaml:"network"`
	// Addr is the local IP address and port to bind. Port 0 picks a free port.
	Addr netip.AddrPort `yaml:"addr"`
}

// String returns the listener as a URL, for example "udp://127.0.0.1:5060".
func (l Listen) String() string { return l.Network + "://" + l.Addr.String() }

// ParseListen parses "udp://127.0.0.1:5060" (also tcp:// and tls://).
func ParseListen(s string) (Listen, error) {
	network, addr, ok := strings.Cut(s, "://")
	if !ok {
		return Listen{}, fmt.Errorf("listen address %q: want scheme://ip:port, for example udp://127.0.0.1:5060", s)
	}
	network = strings.ToLower(network)
	switch network {
	case "udp", "tcp", "tls":
	default:
		return Listen{}, fmt.Errorf("listen address %q: transport %q is not one of udp, tcp, tls", s, network)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return Listen{}, fmt.Errorf("listen address %q: want an IP address and port: %w", s, err)
	}
	return Listen{Network: network, Addr: ap}, nil
}

// User is one account that may register and place calls.
type User struct {
	// Name is the SIP user name, which is the extension number.
	Name string `yaml:"name"`
	// Password is the SIP password. Either Password or HA1 is required.
	Password string `yaml:"password"`
	// HA1 is hex(MD5(name:realm:password)), for admins who do not want to store
	// the password. A user with only HA1 can answer MD5 challenges only, so MD5
	// must be among DigestAlgorithms.
	HA1 string `yaml:"ha1"`
	// HA1SHA256 is hex(SHA-256(name:realm:password)), optional.
	HA1SHA256 string `yaml:"ha1_sha256"`
}

// Config configures the SIP server.
type Config struct {
	// Listen lists the sockets to serve; at least one.
	Listen []Listen `yaml:"listen"`
	// PublicAddress is the host (or host:port) advertised in Via and Contact
	// when Ringdesk is behind NAT. Empty: the listening address.
	PublicAddress string `yaml:"public_address"`
	// Realm is the digest authentication realm.
	Realm string `yaml:"realm"`
	// TLSCertFile and TLSKeyFile are the PEM certificate and key for tls listeners.
	TLSCertFile string `yaml:"tls_cert"`
	TLSKeyFile  string `yaml:"tls_key"`
	// UserAgent is sent in User-Agent and Server headers.
	UserAgent string `yaml:"user_agent"`
	// DigestAlgorithms are offered in this order, one challenge header each
	// (RFC 8760). Default MD5 only: several phones (baresip 1.0, older
	// firmware) give up on a challenge set that includes an algorithm they do
	// not know, instead of picking the one they do.
	DigestAlgorithms []string `yaml:"digest_algorithms"`
	// MinExpires: shorter registrations get 423 Interval Too Brief.
	MinExpires time.Duration `yaml:"min_expires"`
	// MaxExpires caps the registration interval granted.
	MaxExpires time.Duration `yaml:"max_expires"`
	// DefaultExpires is granted when the REGISTER asks for no interval.
	DefaultExpires time.Duration `yaml:"default_expires"`
	// NonceTTL is how long a digest nonce stays valid; older ones get stale=true.
	NonceTTL time.Duration `yaml:"nonce_ttl"`
	// Trace logs every SIP message sent and received at debug level.
	Trace bool `yaml:"trace"`
	// Users are the accounts allowed to register and call.
	Users []User `yaml:"users"`
	// Trunks are the upstream providers (see Trunk).
	Trunks []Trunk `yaml:"trunks"`
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if len(c.DigestAlgorithms) == 0 {
		c.DigestAlgorithms = []string{AlgorithmMD5}
	}
	if c.MinExpires == 0 {
		c.MinExpires = DefaultMinExpires
	}
	if c.MaxExpires == 0 {
		c.MaxExpires = DefaultMaxExpires
	}
	if c.DefaultExpires == 0 {
		c.DefaultExpires = DefaultDefaultExpires
	}
	if c.NonceTTL == 0 {
		c.NonceTTL = DefaultNonceTTL
	}
	return c
}

// Validate reports the first inconsistency in c (after defaults).
func (c Config) Validate() error {
	c = c.withDefaults()
	if len(c.Listen) == 0 {
		return fmt.Errorf("sip: no listen address")
	}
	hasTLS := false
	streams := make(map[netip.AddrPort]string)
	for _, l := range c.Listen {
		if l.Network != "udp" && l.Addr.Port() != 0 {
			if other, ok := streams[l.Addr]; ok {
				return fmt.Errorf("sip: listen %s and %s://%s share a TCP port", l, other, l.Addr)
			}
			streams[l.Addr] = l.Network
		}
		switch l.Network {
		case "udp", "tcp":
		case "tls":
			hasTLS = true
		default:
			return fmt.Errorf("sip: listen %s: unknown transport", l)
		}
		if !l.Addr.IsValid() {
			return fmt.Errorf("sip: listen %s: invalid address", l)
		}
	}
	if hasTLS && (c.TLSCertFile == "" || c.TLSKeyFile == "") {
		return fmt.Errorf("sip: a tls listener needs a certificate and key")
	}
	for _, a := range c.DigestAlgorithms {
		if a != AlgorithmMD5 && a != AlgorithmSHA256 {
			return fmt.Errorf("sip: digest algorithm %q is not MD5 or SHA-256", a)
		}
	}
	if c.MinExpires < 0 || c.MaxExpires < c.MinExpires {
		return fmt.Errorf("sip: max_expires %s is below min_expires %s", c.MaxExpires, c.MinExpires)
	}
	if c.DefaultExpires < c.MinExpires || c.DefaultExpires > c.MaxExpires {
		return fmt.Errorf("sip: default_expires %s is outside [%s, %s]", c.DefaultExpires, c.MinExpires, c.MaxExpires)
	}
	if c.NonceTTL < time.Second {
		return fmt.Errorf("sip: nonce_ttl %s is too short", c.NonceTTL)
	}
	seen := make(map[string]bool, len(c.Users))
	for _, u := range c.Users {
		if u.Name == "" {
			return fmt.Errorf("sip: a user has no name")
		}
		if seen[u.Name] {
			return fmt.Errorf("sip: user %q appears twice", u.Name)
		}
		seen[u.Name] = true
		if u.Password == "" && u.HA1 == "" && u.HA1SHA256 == "" {
			return fmt.Errorf("sip: user %q has neither password nor ha1", u.Name)
		}
		canMD5 := u.HA1 != "" && slices.Contains(c.DigestAlgorithms, AlgorithmMD5)
		canSHA256 := u.HA1SHA256 != "" && slices.Contains(c.DigestAlgorithms, AlgorithmSHA256)
		if u.Password == "" && !canMD5 && !canSHA256 {
			return fmt.Errorf("sip: user %q has no hash for any offered digest algorithm", u.Name)
		}
	}
	names := make(map[string]bool, len(c.Trunks))
	for _, t := range c.Trunks {
		if err := t.Validate(); err != nil {
			return fmt.Errorf("sip: %w", err)
		}
		if names[t.Name] {
			return fmt.Errorf("sip: trunk %q appears twice", t.Name)
		}
		if tr := t.withDefaults().Transport; !slices.ContainsFunc(c.Listen, func(l Listen) bool { return l.Network == tr }) {
			return fmt.Errorf("sip: trunk %s: a %s trunk needs a %s listener", t.Name, tr, tr)
		}
		names[t.Name] = true
	}
	return nil
}
