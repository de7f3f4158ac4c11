package siptest

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Header is one header field as it appeared on the wire (name as sent,
// value without the name).
type Header struct {
	Name, Value string
}

// Message is a SIP request or response as the phone saw it.
type Message struct {
	// Method is the request method; "" for a response.
	Method string
	// RequestURI is the Request-URI of a request.
	RequestURI string
	// Code and Reason are the status of a response.
	Code   int
	Reason string
	// Headers are all header fields in order. Comma-separated lists of
	// Via, Contact, Route and Record-Route are split into one entry each.
	Headers []Header
	// Body is the message body.
	Body []byte
	// Source is the ip:port the message came from, Transport how ("UDP", "TCP").
	Source    string
	Transport string
}

// Header returns the value of the first header named name (case-insensitive,
// compact forms included), or "".
func (m *Message) Header(name string) string {
	if v := m.HeaderValues(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// HeaderValues returns the values of every header named name, in order.
func (m *Message) HeaderValues(name string) []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, h := range m.Headers {
		if headerNameIs(h.Name, name) {
			out = append(out, h.Value)
		}
	}
	return out
}

// Has reports whether a header named name is present.
func (m *Message) Has(name string) bool { return len(m.HeaderValues(name)) > 0 }

var compactNames = map[string]string{ //nolint:gochecknoglobals // immutable table
	"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "c": "content-type",
	"l": "content-length", "k": "supported", "s": "subject", "e": "content-encoding",
	"o": "event", "u": "allow-events", "r": "refer-to", "b": "referred-by",
}

func headerNameIs(have, want string) bool {
	have, want = strings.ToLower(have), strings.ToLower(want)
	if long, ok := compactNames[have]; ok {
		have = long
	}
	if long, ok := compactNames[want]; ok {
		want = long
	}
	return have == want
}

// Contact is one Contact of a REGISTER response (RFC 3261 §10.3 step 8).
type Contact struct {
	// URI is the contact address, e.g. "sip:1001@127.0.0.1:40000".
	URI string
	// Expires is the expires parameter, -1 when absent.
	Expires int
	// Params are all header parameters, expires included.
	Params map[string]string
}

// Response is a final response, with what tests of registrars and
// authenticators usually look at already taken apart.
type Response struct {
	Message
	// Contacts are the Contact headers, in order.
	Contacts []Contact
	// Challenge is the 401/407 the phone answered with credentials before
	// this response arrived, nil when it was not challenged (or did not answer).
	Challenge *Response
	// Authorization is the Authorization or Proxy-Authorization value sent
	// with the request this response answers, "" when none.
	Authorization string
	// CSeq is the CSeq number of the request this response answers.
	CSeq uint32
}

// Contact returns the response's contact with the given URI, or nil.
func (r *Response) Contact(uri string) *Contact {
	for i := range r.Contacts {
		if r.Contacts[i].URI == uri {
			return &r.Contacts[i]
		}
	}
	return nil
}

func headersOf(msg sip.Message) []Header {
	type headered interface{ Headers() []sip.Header }
	hm, ok := msg.(headered)
	if !ok {
		return nil
	}
	hs := hm.Headers()
	out := make([]Header, 0, len(hs))
	for _, h := range hs {
		out = append(out, Header{Name: h.Name(), Value: h.Value()})
	}
	return out
}

func messageOfRequest(req *sip.Request) *Message {
	return &Message{
		Method:     string(req.Method),
		RequestURI: req.Recipient.String(),
		Headers:    headersOf(req),
		Body:       append([]byte(nil), req.Body()...),
		Source:     req.Source(),
		Transport:  strings.ToUpper(req.Transport()),
	}
}

func responseOf(res *sip.Response) *Response {
	r := &Response{Message: Message{
		Code:      res.StatusCode,
		Reason:    res.Reason,
		Headers:   headersOf(res),
		Body:      append([]byte(nil), res.Body()...),
		Source:    res.Source(),
		Transport: strings.ToUpper(res.Transport()),
	}}
	if cs := res.CSeq(); cs != nil {
		r.CSeq = cs.SeqNo
	}
	for _, h := range res.GetHeaders("Contact") {
		var c *sip.ContactHeader
		switch v := h.(type) {
		case *sip.ContactHeader:
			c = v
		default:
			c = &sip.ContactHeader{}
			if _, err := sip.ParseAddressValue(h.Value(), &c.Address, &c.Params); err != nil {
				continue
			}
		}
		ct := Contact{URI: c.Address.String(), Expires: -1, Params: map[string]string{}}
		if c.Address.Wildcard {
			ct.URI = "*"
		}
		for _, kv := range c.Params {
			ct.Params[kv.K] = kv.V
		}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				ct.Expires = n
			}
		}
		r.Contacts = append(r.Contacts, ct)
	}
	return r
}

// reasonPhrase is the phone's reason phrase for code.
func reasonPhrase(code int) string {
	switch code {
	case 100:
		return "Trying"
	case 180:
		return "Ringing"
	case 183:
		return "Session Progress"
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 480:
		return "Temporarily Unavailable"
	case 481:
		return "Call/Transaction Does Not Exist"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 500:
		return "Server Internal Error"
	case 503:
		return "Service Unavailable"
	case 603:
		return "Decline"
	default:
		return "Status " + strconv.Itoa(code)
	}
}

// WaitReady pings the SIP server at addr (UDP) with OPTIONS until it answers
// 200, or fails the test after d: once it answers, its Serve has installed
// the handler (and loaded its registrations).
func WaitReady(tb testing.TB, addr netip.AddrPort, d time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for i := 0; ctx.Err() == nil; i++ {
		res, err := SendRaw(ctx, addr.String(), RawOptions(addr, fmt.Sprintf("ready-%d-%d", time.Now().UnixNano(), i)))
		if err != nil {
			tb.Fatalf("ping sip server %s: %v", addr, err)
		}
		if strings.HasPrefix(string(res), "SIP/2.0 200") {
			return
		}
	}
	tb.Fatalf("sip server on %s did not answer OPTIONS within %s", addr, d)
}

// RawOptions is an out-of-dialog OPTIONS to the server at to, as the bytes
// of one datagram (rport asks for the answer to come back to its source).
func RawOptions(to netip.AddrPort, id string) []byte {
	return []byte("OPTIONS sip:" + to.String() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK" + id + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:probe@127.0.0.1>;tag=" + id + "\r\n" +
		"To: <sip:" + to.String() + ">\r\n" +
		"Call-ID: " + id + "@probe\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n")
}
