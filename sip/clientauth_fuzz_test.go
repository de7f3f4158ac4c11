package sip

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// FuzzClientAuth: whatever a provider puts in its challenge, answering it
// returns a header or an error, never a panic.
func FuzzClientAuth(f *testing.F) {
	f.Add(407, `Digest realm="p", nonce="abc", qop="auth", algorithm=MD5`)
	f.Add(401, `Digest realm="p", nonce="abc", qop="auth-int", algorithm=SHA-256, stale=true`)
	f.Add(401, `Digest realm="p", nonce="abc", algorithm=MD5-sess, opaque="x", userhash=true`)
	f.Add(401, `Basic realm="p"`)
	f.Add(407, `Digest realm=, nonce`)
	f.Add(401, `Digest realm="p", nonce="", qop=""`)
	f.Fuzz(func(t *testing.T, code int, challenge string) {
		if code != 401 {
			code = 407
		}
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "351210000000", Host: "sip.example.net"})
		req.SetBody([]byte("v=0\r\n"))
		res := sip.NewResponseFromRequest(req, code, "Unauthorized", nil)
		name := "WWW-Authenticate"
		if code == 407 {
			name = "Proxy-Authenticate"
		}
		res.AppendHeader(sip.NewHeader(name, challenge))
		for _, tr := range []Trunk{
			{Name: "p", Host: "sip.example.net", Username: "u", Password: "pw"},
			{Name: "h", Host: "sip.example.net", Username: "u", HA1: "0123456789abcdef0123456789abcdef", Realm: "p"},
		} {
			a := newClientAuth(tr)
			for range 3 {
				h, err := a.authorize(req, res)
				if (h == nil) == (err == nil) {
					t.Fatalf("authorize(%q) = %v, %v: want exactly one", challenge, h, err)
				}
			}
		}
	})
}
