package calls_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ringdesk/ringdesk/internal/testkit"
	"github.com/ringdesk/ringdesk/sip/siptest"
)

// rawSIP sends hand-built in-dialog requests on behalf of a siptest phone,
// for what siptest cannot do: an ACK that carries SDP (the answer to an offer
// in a 2xx, RFC 3264 §5) and a re-INVITE without SDP. It has its own UDP
// socket; Ringdesk matches in-dialog requests by Call-ID and tags, and
// answers to the Via's address.
type rawSIP struct {
	conn   *net.UDPConn
	local  netip.AddrPort
	server netip.AddrPort
}

func newRawSIP(tb testing.TB, server netip.AddrPort) *rawSIP {
	tb.Helper()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		tb.Fatalf("raw sip socket: %v", err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return &rawSIP{conn: conn, local: conn.LocalAddr().(*net.UDPAddr).AddrPort(), server: server}
}

// dialogOf is what a raw request needs to be part of a phone's dialog.
type dialogOf struct {
	callID, localTag, remoteTag string
	localURI, remoteURI         string // From and To addresses
	target                      string // Request-URI: the peer's Contact
	contact                     string // our Contact
}

// callerDialog is the dialog of an answered call placed by phone p.
func callerDialog(tb testing.TB, p *siptest.Phone, c *siptest.Call, dialed string) dialogOf {
	tb.Helper()
	fin := c.Final()
	if fin == nil || len(fin.Contacts) == 0 {
		tb.Fatalf("the call has no 2xx with a Contact")
	}
	host := fin.Source
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return dialogOf{
		callID: c.CallID(), localTag: c.LocalTag(), remoteTag: c.RemoteTag(),
		localURI: "sip:" + p.User() + "@" + host, remoteURI: "sip:" + dialed + "@" + host,
		target: fin.Contacts[0].URI, contact: p.ContactURI(),
	}
}

// request builds an in-dialog request.
func (r *rawSIP) request(d dialogOf, method string, cseq uint32, body []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, d.target)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n", r.local, testkit.RandHex(16))
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <%s>;tag=%s\r\n", d.localURI, d.localTag)
	fmt.Fprintf(&b, "To: <%s>;tag=%s\r\n", d.remoteURI, d.remoteTag)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", d.callID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", cseq, method)
	if method == "INVITE" {
		fmt.Fprintf(&b, "Contact: <%s>\r\n", d.contact)
	}
	b.WriteString("User-Agent: rawsip\r\n")
	if len(body) > 0 {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return []byte(b.String())
}

func (r *rawSIP) send(tb testing.TB, msg []byte) {
	tb.Helper()
	if _, err := r.conn.WriteToUDPAddrPort(msg, r.server); err != nil {
		tb.Fatalf("raw sip send: %v", err)
	}
}

// ack sends the ACK for the 2xx to the INVITE with CSeq cseq, with body.
func (r *rawSIP) ack(tb testing.TB, d dialogOf, cseq uint32, body []byte) {
	tb.Helper()
	r.send(tb, r.request(d, "ACK", cseq, body))
}

// rawResponse is a SIP response read off the raw socket.
type rawResponse struct {
	code    int
	headers map[string]string // lower-case name -> first value
	body    []byte
}

// reInvite sends a re-INVITE with CSeq cseq and body (nil: none) and returns
// the final response; the caller acknowledges it.
func (r *rawSIP) reInvite(tb testing.TB, d dialogOf, cseq uint32, body []byte) rawResponse {
	tb.Helper()
	r.send(tb, r.request(d, "INVITE", cseq, body))
	deadline := time.Now().Add(waitFor)
	buf := make([]byte, 65536)
	for {
		if err := r.conn.SetReadDeadline(deadline); err != nil {
			tb.Fatal(err)
		}
		n, _, err := r.conn.ReadFromUDPAddrPort(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			tb.Fatalf("no final response to the raw re-INVITE within %s", waitFor)
		} else if err != nil {
			tb.Fatalf("raw sip read: %v", err)
		}
		res, ok := parseRawResponse(buf[:n])
		if !ok || res.code < 200 || !strings.HasSuffix(res.headers["cseq"], " INVITE") {
			continue
		}
		if got, _ := strconv.Atoi(strings.Fields(res.headers["cseq"])[0]); uint32(got) != cseq {
			continue
		}
		return res
	}
}

func parseRawResponse(b []byte) (rawResponse, bool) {
	head, body, ok := bytes.Cut(b, []byte("\r\n\r\n"))
	if !ok {
		return rawResponse{}, false
	}
	lines := strings.Split(string(head), "\r\n")
	status := strings.Fields(lines[0])
	if len(status) < 2 || status[0] != "SIP/2.0" {
		return rawResponse{}, false
	}
	code, err := strconv.Atoi(status[1])
	if err != nil {
		return rawResponse{}, false
	}
	res := rawResponse{code: code, headers: make(map[string]string), body: append([]byte(nil), body...)}
	for _, ln := range lines[1:] {
		name, value, ok := strings.Cut(ln, ":")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if _, seen := res.headers[name]; !seen {
			res.headers[name] = strings.TrimSpace(value)
		}
	}
	return res, true
}
