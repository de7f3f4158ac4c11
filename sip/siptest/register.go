package siptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// rawWait is how long SendRaw waits for an answer at most.
const rawWait = 2 * time.Second

// ErrNoChallenge is returned when a 401/407 carries no challenge the phone
// can answer.
var ErrNoChallenge = errors.New("siptest: no usable digest challenge")

// RegisterRequest describes one REGISTER for RegisterRaw. Its zero value is
// a REGISTER of the phone's Contact with no Expires header.
type RegisterRequest struct {
	// Expires is the Expires header value, sent as is ("" leaves it out).
	Expires string
	// Contacts are Contact header values sent as is, one header each
	// (e.g. "*", or "<sip:1001@10.0.0.9:5060>;expires=60"). nil sends the
	// phone's own Contact.
	Contacts []string
	// NoContact sends no Contact at all: a query (RFC 3261 §10.2.3).
	NoContact bool
	// AOR is the user part of To and From, default the phone's user.
	AOR string
	// Username and Password are the digest credentials, default the phone's.
	Username, Password string
	// CallID overrides the phone's registration Call-ID.
	CallID string
	// CSeq overrides the next CSeq number; a challenge answer uses CSeq+1.
	CSeq uint32
	// Headers are added to the request.
	Headers []Header
	// Authorization is sent as is with the first request, e.g. a replay of
	// Response.Authorization.
	Authorization string
	// AnswerChallenge is a WWW-Authenticate value the first request answers
	// (nc=1), e.g. one that has gone stale meanwhile.
	AnswerChallenge string
	// Preauth answers the last challenge the phone saw again, with the next
	// nonce count (what phones do between challenges, RFC 7616 §3.4).
	Preauth bool
	// NoAuth returns a 401 as the result instead of answering it.
	NoAuth bool
}

// Register registers the phone's Contact with Expires: expires (a negative
// value sends no Expires header), answering a 401 with digest credentials.
// The result is the final response; its Challenge is the 401 that was answered.
func (p *Phone) Register(ctx context.Context, expires int) (*Response, error) {
	r := RegisterRequest{}
	if expires >= 0 {
		r.Expires = strconv.Itoa(expires)
	}
	return p.RegisterRaw(ctx, r)
}

// Unregister removes the phone's Contact (Expires: 0).
func (p *Phone) Unregister(ctx context.Context) (*Response, error) { return p.Register(ctx, 0) }

// RegisterRaw sends a REGISTER built from r, answering up to two 401s unless
// r.NoAuth.
func (p *Phone) RegisterRaw(ctx context.Context, r RegisterRequest) (*Response, error) {
	user, password := r.Username, r.Password
	if user == "" {
		user = p.opts.User
	}
	if password == "" && r.Username == "" {
		password = p.opts.Password
	}
	cseq := r.CSeq
	if cseq == 0 {
		cseq = p.nextRegCSeq()
	}
	auth := r.Authorization
	uri := p.registerURI()
	switch {
	case r.AnswerChallenge != "":
		a, err := p.digest([]string{r.AnswerChallenge}, "REGISTER", uri.String(), user, password, 1)
		if err != nil {
			return nil, err
		}
		auth = a
	case r.Preauth:
		p.mu.Lock()
		chal, nc := p.lastChal, p.lastNC+1
		p.lastNC = nc
		p.mu.Unlock()
		if chal == "" {
			return nil, ErrNoChallenge
		}
		a, err := p.digest([]string{chal}, "REGISTER", uri.String(), user, password, nc)
		if err != nil {
			return nil, err
		}
		auth = a
	}
	var chal *Response
	for round := 0; ; round++ {
		req := p.newRegister(r, cseq, auth)
		res, err := p.do(ctx, req)
		if err != nil {
			return nil, err
		}
		res.Challenge = chal
		if res.Code != 401 || r.NoAuth || round >= 2 {
			return res, nil
		}
		chals := res.HeaderValues("WWW-Authenticate")
		a, err := p.digest(chals, "REGISTER", uri.String(), user, password, 1)
		if err != nil {
			return res, err
		}
		chal, auth = res, a
		if r.CSeq != 0 {
			cseq++
		} else {
			cseq = p.nextRegCSeq()
		}
	}
}

func (p *Phone) nextRegCSeq() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.regCSeq
	p.regCSeq++
	return n
}

// registerURI is the REGISTER Request-URI: the registrar, no user part
// (RFC 3261 §10.2).
func (p *Phone) registerURI() sip.Uri { return p.uri("") }

func (p *Phone) newRegister(r RegisterRequest, cseq uint32, auth string) *sip.Request {
	aor := r.AOR
	if aor == "" {
		aor = p.opts.User
	}
	callID := r.CallID
	if callID == "" {
		callID = p.regCallID
	}
	req := sip.NewRequest(sip.REGISTER, p.registerURI())
	from := &sip.FromHeader{DisplayName: p.opts.DisplayName, Address: p.aorURI(aor), Params: sip.NewParams()}
	from.Params.Add("tag", newTag())
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: p.aorURI(aor), Params: sip.NewParams()})
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.REGISTER})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	switch {
	case r.NoContact:
	case r.Contacts != nil:
		for _, c := range r.Contacts {
			req.AppendHeader(sip.NewHeader("Contact", c))
		}
	default:
		req.AppendHeader(p.contactHeader())
	}
	if r.Expires != "" {
		req.AppendHeader(sip.NewHeader("Expires", r.Expires))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))
	for _, h := range r.Headers {
		req.AppendHeader(sip.NewHeader(h.Name, h.Value))
	}
	if auth != "" {
		req.AppendHeader(sip.NewHeader("Authorization", auth))
	}
	req.SetBody(nil)
	p.route(req)
	return req
}

// Digest answers the first of chals (WWW-Authenticate or Proxy-Authenticate
// values, in the server's order) whose algorithm the phone implements, for a
// request with method and Request-URI uri, with nonce count nc.
func (p *Phone) Digest(chals []string, method, uri string, nc int) (string, error) {
	return p.digest(chals, method, uri, p.opts.User, p.opts.Password, nc)
}

func (p *Phone) digest(chals []string, method, uri, user, password string, nc int) (string, error) {
	for _, v := range chals {
		c, err := digest.ParseChallenge(v)
		if err != nil {
			continue
		}
		alg := strings.ToUpper(c.Algorithm)
		if alg == "" {
			alg = "MD5"
		}
		if !slices.Contains(p.opts.DigestAlgorithms, alg) {
			continue
		}
		if len(c.QOP) > 0 && !c.SupportsQOP("auth") {
			continue
		}
		cred, err := digest.Digest(c, digest.Options{
			Method:   method,
			URI:      uri,
			Username: user,
			Password: password,
			Count:    nc,
		})
		if err != nil {
			return "", fmt.Errorf("siptest: digest: %w", err)
		}
		p.mu.Lock()
		p.lastChal, p.lastNC = v, max(nc, 1)
		p.mu.Unlock()
		return cred.String(), nil
	}
	return "", fmt.Errorf("%w in %q (phone implements %v)", ErrNoChallenge, chals, p.opts.DigestAlgorithms)
}

// Request describes an out-of-dialog request for Phone.Do.
type Request struct {
	// Method is the request method, e.g. "OPTIONS", "SUBSCRIBE", "FOO".
	Method string
	// User is the user part of the Request-URI and To ("" for the server itself).
	User string
	// ToTag puts a To tag in, as if the request belonged to a dialog.
	ToTag string
	// CallID overrides the random Call-ID.
	CallID string
	// CSeq overrides the CSeq number (default 1).
	CSeq uint32
	// NoContact leaves out the Contact the phone adds otherwise.
	NoContact bool
	// Headers are added to the request.
	Headers []Header
	// ContentType and Body are the body.
	ContentType string
	Body        []byte
	// Authenticate answers a 401/407 with the phone's credentials.
	Authenticate bool
}

// Do sends an out-of-dialog request and returns its final response. Meant
// for requests the server is expected to refuse; a 2xx to an INVITE is
// acknowledged and hung up at once.
func (p *Phone) Do(ctx context.Context, r Request) (*Response, error) {
	method := sip.RequestMethod(strings.ToUpper(r.Method))
	callID := r.CallID
	if callID == "" {
		callID = newID()
	}
	cseq := r.CSeq
	if cseq == 0 {
		cseq = 1
	}
	fromTag := newTag()
	build := func(auth string, authHdr string) *sip.Request {
		req := sip.NewRequest(method, p.uri(r.User))
		from := &sip.FromHeader{DisplayName: p.opts.DisplayName, Address: p.aorURI(p.opts.User), Params: sip.NewParams()}
		from.Params.Add("tag", fromTag)
		req.AppendHeader(from)
		to := &sip.ToHeader{Address: p.aorURI(r.User), Params: sip.NewParams()}
		if r.ToTag != "" {
			to.Params.Add("tag", r.ToTag)
		}
		req.AppendHeader(to)
		cid := sip.CallIDHeader(callID)
		req.AppendHeader(&cid)
		req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
		mf := sip.MaxForwardsHeader(70)
		req.AppendHeader(&mf)
		if !r.NoContact {
			req.AppendHeader(p.contactHeader())
		}
		req.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))
		for _, h := range r.Headers {
			req.AppendHeader(sip.NewHeader(h.Name, h.Value))
		}
		if auth != "" {
			req.AppendHeader(sip.NewHeader(authHdr, auth))
		}
		if r.ContentType != "" {
			req.AppendHeader(sip.NewHeader("Content-Type", r.ContentType))
		}
		req.SetBody(r.Body)
		p.route(req)
		return req
	}
	req := build("", "")
	res, err := p.doFinal(ctx, req)
	if err != nil {
		return nil, err
	}
	if r.Authenticate && (res.Code == 401 || res.Code == 407) {
		chalHdr, authHdr := "WWW-Authenticate", "Authorization"
		if res.Code == 407 {
			chalHdr, authHdr = "Proxy-Authenticate", "Proxy-Authorization"
		}
		ruri := p.uri(r.User)
		auth, err := p.Digest(res.HeaderValues(chalHdr), string(method), ruri.String(), 1)
		if err != nil {
			return res, err
		}
		chal := res
		cseq++
		res, err = p.doFinal(ctx, build(auth, authHdr))
		if err != nil {
			return nil, err
		}
		res.Challenge = chal
		res.Authorization = auth
	}
	return res, nil
}

// doFinal is do, plus ACK and BYE for a 2xx to an INVITE.
func (p *Phone) doFinal(ctx context.Context, req *sip.Request) (*Response, error) {
	res, err := p.do(ctx, req)
	if err != nil || req.Method != sip.INVITE || res.Code < 200 || res.Code >= 300 {
		return res, err
	}
	tag, _ := req.From().Params.Get("tag")
	d := newDialog(p, req.CallID().Value(), tag)
	d.localURI = req.From().Address
	d.remoteURI = req.To().Address
	d.localCSeq = req.CSeq().SeqNo
	for _, h := range res.Headers {
		if headerNameIs(h.Name, "To") {
			var to sip.ToHeader
			if _, err := sip.ParseAddressValue(h.Value, &to.Address, &to.Params); err == nil {
				d.remoteTag, _ = to.Params.Get("tag")
			}
		}
	}
	if len(res.Contacts) > 0 {
		_ = sip.ParseUri(res.Contacts[0].URI, &d.remoteTarget)
	}
	if err := d.sendAck(req.CSeq().SeqNo); err == nil {
		_, _ = d.Bye(ctx)
	}
	return res, nil
}

// SendRaw sends data as one UDP datagram to the server from a socket of
// its own and returns the first datagram that comes back within 2 s (or
// before ctx ends), nil when none does. For malformed-input tests.
func (p *Phone) SendRaw(ctx context.Context, data []byte) ([]byte, error) {
	return SendRaw(ctx, p.server.String(), data)
}

// SendRaw sends data as one UDP datagram to addr from a new socket and
// returns the first datagram that comes back within 2 s (or before ctx
// ends), nil when none does.
func SendRaw(ctx context.Context, addr string, data []byte) ([]byte, error) {
	ra, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialUDP("udp", nil, ra)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err = conn.Write(data); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(rawWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err = conn.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	buf := make([]byte, 65536)
	n, err := conn.Read(buf)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}
