package sip

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// Trunk defaults.
const (
	DefaultTrunkExpiry = 10 * time.Minute
	// MinTrunkExpiry is the shortest registration Ringdesk asks a provider for.
	MinTrunkExpiry = 30 * time.Second
)

// Trunk is an upstream SIP provider account: where the provider is, the
// credentials Ringdesk answers its digest challenges with, whether Ringdesk
// keeps a registration with it, and which addresses its calls come from.
// What numbers look like towards the provider and which calls use it is call
// policy (package calls); the sip package only signals.
type Trunk struct {
	// Name identifies the trunk in logs, status and call records.
	Name string `yaml:"name"`
	// Host is the provider's host name or IP address; Port its SIP port (0:
	// 5060, or 5061 for tls); Transport "udp", "tcp" or "tls" ("" is udp).
	Host      string `yaml:"host"`
	Port      int    `yaml:"port"`
	Transport string `yaml:"transport"`
	// Username is the account's user name: the From user of REGISTER and the
	// digest user name unless AuthUsername is set.
	Username     string `yaml:"username"`
	AuthUsername string `yaml:"auth_username"`
	// Password, or HA1 (hex MD5 of authuser:realm:password) when the
	// password should not be stored; HA1 needs Realm.
	Password string `yaml:"password"`
	HA1      string `yaml:"ha1"`
	// Realm, when set, is the only realm Ringdesk answers challenges for.
	Realm string `yaml:"realm"`
	// Register keeps a registration with the provider, so that it sends
	// calls to Ringdesk's contact; RegisterUser is the user part of the
	// registered address (default Username); Expiry the interval asked for.
	Register     bool          `yaml:"register"`
	RegisterUser string        `yaml:"register_user"`
	Expiry       time.Duration `yaml:"expiry"`
	// Networks are where the provider's calls come from. A call from one of
	// them is the trunk's without digest authentication. Empty: the
	// addresses Host resolves to.
	Networks []netip.Prefix `yaml:"networks"`
	// Keepalive sends OPTIONS to the provider this often, keeping NAT
	// bindings open and noticing an unreachable provider; 0: off.
	Keepalive time.Duration `yaml:"keepalive"`
	// CAFile is a PEM bundle of the authorities that sign the provider's TLS
	// certificate, for private providers; empty: the system's roots.
	CAFile string `yaml:"ca_file"`
}

var trunkNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// withDefaults returns t with zero fields replaced by their defaults.
func (t Trunk) withDefaults() Trunk {
	t.Transport = strings.ToLower(t.Transport)
	if t.Transport == "" {
		t.Transport = "udp"
	}
	if t.Port == 0 {
		t.Port = 5060
		if t.Transport == "tls" {
			t.Port = 5061
		}
	}
	if t.RegisterUser == "" {
		t.RegisterUser = t.Username
	}
	if t.Expiry == 0 {
		t.Expiry = DefaultTrunkExpiry
	}
	return t
}

// authUser is the digest user name.
func (t Trunk) authUser() string {
	if t.AuthUsername != "" {
		return t.AuthUsername
	}
	return t.Username
}

// HostPort is the provider's address as host:port.
func (t Trunk) HostPort() string {
	t = t.withDefaults()
	if strings.Contains(t.Host, ":") && !strings.HasPrefix(t.Host, "[") {
		return fmt.Sprintf("[%s]:%d", t.Host, t.Port) // IPv6 literal
	}
	return fmt.Sprintf("%s:%d", t.Host, t.Port)
}

// Validate reports the first problem with the trunk's settings.
func (t Trunk) Validate() error {
	t = t.withDefaults()
	if !trunkNameRE.MatchString(t.Name) {
		return fmt.Errorf("trunk name %q: want 1-63 lowercase letters, digits, '.', '_' or '-'", t.Name)
	}
	if t.Host == "" || strings.ContainsAny(t.Host, " /@;<>\"") {
		return fmt.Errorf("trunk %s: host %q is not a host name or IP address", t.Name, t.Host)
	}
	if t.Port < 1 || t.Port > 65535 {
		return fmt.Errorf("trunk %s: port %d is out of range", t.Name, t.Port)
	}
	switch t.Transport {
	case "udp", "tcp", "tls":
	default:
		return fmt.Errorf("trunk %s: transport %q is not one of udp, tcp, tls", t.Name, t.Transport)
	}
	if t.HA1 != "" {
		if !isHex(t.HA1, 32) {
			return fmt.Errorf("trunk %s: ha1 must be 32 hex digits", t.Name)
		}
		if t.Password != "" {
			return fmt.Errorf("trunk %s: give password or ha1, not both", t.Name)
		}
		if t.Realm == "" {
			return fmt.Errorf("trunk %s: ha1 needs the realm it was made with", t.Name)
		}
	}
	if t.Register {
		if t.RegisterUser == "" {
			return fmt.Errorf("trunk %s: register needs username or register_user", t.Name)
		}
		if t.Expiry < MinTrunkExpiry {
			return fmt.Errorf("trunk %s: expiry %s is shorter than %s", t.Name, t.Expiry, MinTrunkExpiry)
		}
	}
	if t.Keepalive < 0 || (t.Keepalive > 0 && t.Keepalive < time.Second) {
		return fmt.Errorf("trunk %s: keepalive %s: want 0 (off) or a second or more", t.Name, t.Keepalive)
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
