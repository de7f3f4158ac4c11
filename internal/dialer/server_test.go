package dialer_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/ringdesk/ringdesk/internal/dialer"
)

// testServer is a minimal SIP server for the dialer's tests: it challenges
// INVITEs with digest authentication (when told to), checks the
// credentials, answers, and takes ACK and BYE.
type testServer struct {
	t    testing.TB
	addr netip.AddrPort
	o    serverOptions
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	wg   sync.WaitGroup
	once sync.Once
	pc   net.PacketConn
	ln   net.Listener

	mu       sync.Mutex
	invite   *sip.Request // the last INVITE answered 2xx
	acked    chan struct{}
	got      []string // methods received, in order
	verified []string // the digest algorithms of credentials that checked out
}

type serverOptions struct {
	// Challenge is 401 or 407 to challenge INVITEs, 0 not to.
	Challenge int
	// Algorithms are offered in this order, one challenge header each.
	Algorithms []string
	// User and Password are the credentials accepted.
	User, Password string
	// Code answers an (authenticated) INVITE; 0 means 200 with SDP.
	Code int
	SDP  []byte
}

func newTCPServer(t testing.TB, sdp []byte) *testServer {
	t.Helper()
	return newTestServer(t, "tcp", serverOptions{SDP: sdp})
}

func newTestServer(t testing.TB, network string, o serverOptions) *testServer {
	t.Helper()
	s := &testServer{t: t, o: o, acked: make(chan struct{})}
	log := slog.New(slog.DiscardHandler)
	var err error
	s.ua, err = sipgo.NewUA(sipgo.WithUserAgent("test-server"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)))
	if err != nil {
		t.Fatal(err)
	}
	s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	s.srv.OnInvite(s.onInvite)
	var ackOnce sync.Once
	s.srv.OnAck(func(req *sip.Request, _ sip.ServerTransaction) {
		s.record("ACK")
		ackOnce.Do(func() { close(s.acked) })
	})
	s.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		s.record("BYE")
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	if network == "tcp" {
		s.ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s.addr = s.ln.Addr().(*net.TCPAddr).AddrPort()
		s.wg.Go(func() { _ = s.srv.ServeTCP(s.ln) })
	} else {
		s.pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s.addr = s.pc.LocalAddr().(*net.UDPAddr).AddrPort()
		s.wg.Go(func() { _ = s.srv.ServeUDP(s.pc) })
	}
	t.Cleanup(s.close)
	return s
}

func (s *testServer) close() {
	s.once.Do(func() {
		_ = s.ua.Close()
		if s.ln != nil {
			_ = s.ln.Close()
		}
		if s.pc != nil {
			_ = s.pc.Close()
		}
		s.wg.Wait()
	})
}

func (s *testServer) record(method string) {
	s.mu.Lock()
	s.got = append(s.got, method)
	s.mu.Unlock()
}

func (s *testServer) methods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

const testNonce = "0a4f113b"

func (s *testServer) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	s.record("INVITE")
	if s.o.Challenge != 0 {
		chalHdr, authHdr := "WWW-Authenticate", "Authorization"
		if s.o.Challenge == 407 {
			chalHdr, authHdr = "Proxy-Authenticate", "Proxy-Authorization"
		}
		h := req.GetHeader(authHdr)
		if h == nil {
			res := sip.NewResponseFromRequest(req, s.o.Challenge, "Unauthorized", nil)
			for _, alg := range s.o.Algorithms {
				res.AppendHeader(sip.NewHeader(chalHdr, fmt.Sprintf(`Digest realm="test", nonce=%q, algorithm=%s, qop="auth"`, testNonce, alg)))
			}
			_ = tx.Respond(res)
			return
		}
		if err := s.check(req, h.Value()); err != nil {
			s.t.Logf("credentials refused: %v", err)
			_ = tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
			return
		}
	}
	code := s.o.Code
	if code == 0 {
		code = 200
	}
	var body []byte
	if code == 200 {
		body = s.o.SDP
	}
	res := sip.NewResponseFromRequest(req, code, "Answer", body)
	res.To().Params.Add("tag", "srv1")
	res.AppendHeader(sip.NewHeader("Contact", "<sip:srv@"+s.addr.String()+">"))
	res.AppendHeader(sip.NewHeader("Server", "test-server"))
	if len(body) > 0 {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	if code < 300 {
		s.mu.Lock()
		s.invite = req
		s.mu.Unlock()
	}
	_ = tx.Respond(res)
}

// bye hangs up the answered call from the server's side, once the ACK came.
func (s *testServer) bye(ctx context.Context) (int, error) {
	res, err := s.request(ctx, sip.BYE, 10, "", nil)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// request sends method inside the answered call, from the server's side,
// once the ACK came; it returns the final response.
func (s *testServer) request(ctx context.Context, method sip.RequestMethod, cseq uint32, contentType string, body []byte) (*sip.Response, error) {
	select {
	case <-s.acked:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	inv := s.invite
	s.mu.Unlock()
	req := sip.NewRequest(method, *inv.Contact().Address.Clone())
	from := &sip.FromHeader{Address: inv.To().Address, Params: sip.NewParams()}
	from.Params.Add("tag", "srv1")
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: inv.From().Address, Params: inv.From().Params.Clone()})
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	req.AppendHeader(sip.NewHeader("Contact", "<sip:srv@"+s.addr.String()+">"))
	if contentType != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	req.SetBody(body)
	req.SetTransport(inv.Transport())
	req.SetDestination(inv.Source())
	cli, err := sipgo.NewClient(s.ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		return nil, err
	}
	return cli.Do(ctx, req)
}

// check verifies digest credentials (RFC 3261 §22.4, RFC 8760).
func (s *testServer) check(req *sip.Request, value string) error {
	cred, err := digest.ParseCredentials(value)
	if err != nil {
		return err
	}
	if cred.Username != s.o.User || cred.Nonce != testNonce || cred.URI != req.Recipient.String() {
		return fmt.Errorf("user %q nonce %q uri %q", cred.Username, cred.Nonce, cred.URI)
	}
	want, err := digest.Digest(&digest.Challenge{Realm: "test", Nonce: testNonce, Algorithm: cred.Algorithm, QOP: []string{"auth"}},
		digest.Options{Method: "INVITE", URI: cred.URI, Username: s.o.User, Password: s.o.Password, Cnonce: cred.Cnonce, Count: cred.Nc})
	if err != nil {
		return err
	}
	if want.Response != cred.Response {
		return errors.New("wrong response")
	}
	s.mu.Lock()
	s.verified = append(s.verified, cred.Algorithm)
	s.mu.Unlock()
	return nil
}

// TestDialDigest: 401 and 407 challenges are answered with MD5 or SHA-256,
// whichever the server offers first; wrong or missing credentials end the
// call with the server's status.
func TestDialDigest(t *testing.T) {
	for _, tc := range []struct {
		name      string
		challenge int
		algs      []string
		password  string
		user      string
		status    int
		verified  string
		line      string
	}{
		{"401 sha-256", 401, []string{"SHA-256", "MD5"}, "pw", "1001", 603, "SHA-256", "authenticating as 1001 after"},
		{"407 md5", 407, []string{"MD5", "SHA-256"}, "pw", "1001", 603, "MD5", "(407 Unauthorized, MD5)"},
		{"unknown algorithm skipped", 401, []string{"SHA-512-256", "MD5"}, "pw", "1001", 603, "MD5", "MD5"},
		{"wrong password", 401, []string{"MD5"}, "nope", "1001", 403, "", "call failed after"},
		{"no credentials", 401, []string{"MD5"}, "", "", 401, "", ": 401 Unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			srv := newTestServer(t, "udp", serverOptions{Challenge: tc.challenge, Algorithms: tc.algs, User: "1001", Password: "pw", Code: 603})
			d, err := dialer.New(dialer.Script{Target: "500", Server: srv.addr.String(), User: tc.user, Password: tc.password}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r, err := d.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			_ = dialer.WriteSummary(&b, r)
			t.Log("\n" + b.String())
			if r.Status != tc.status || r.Outcome != dialer.OutcomeRejected {
				t.Errorf("status %d outcome %s, want %d rejected", r.Status, r.Outcome, tc.status)
			}
			srv.mu.Lock()
			verified := strings.Join(srv.verified, ",")
			srv.mu.Unlock()
			if verified != tc.verified {
				t.Errorf("server verified %q, want %q", verified, tc.verified)
			}
			if !strings.Contains(b.String(), tc.line) {
				t.Errorf("summary lacks %q", tc.line)
			}
		})
	}
}
