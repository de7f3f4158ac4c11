package sdp

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const (
	// MaxBodySize is the longest session description accepted, in bytes.
	MaxBodySize = 64 << 10
	// MaxMediaLines is the largest number of m= lines accepted in one
	// session description.
	MaxMediaLines = 64
)

// mediaFix records an m= line whose media type or transport protocol
// pion/sdp does not know (e.g. T.38's "m=image 0 udptl t38"). normalize hands
// pion stand-ins and parse puts the real values back afterwards.
type mediaFix struct {
	index int    // m= line, from 0
	media string // the real <media>
	proto string // the real <proto>
}

// line is one line of a session description being normalised.
type line struct {
	text    string
	section int // 0 for the session level, n for the n-th m= section
	rank    int // where RFC 4566 §5 puts the line type inside its section
}

// normalize rewrites body into the form pion/sdp parses, accepting what
// real phones send (RFC 4566 §5 asks for CRLF and a fixed line order; phones
// and gateways are not always so careful):
//   - CRLF, bare LF or bare CR line endings, with or without a final one;
//   - blank lines, and spaces or tabs around lines (trimmed), a UTF-8 BOM;
//   - lines out of RFC 4566 order within their section (stably sorted);
//   - a missing s= or t= line (s=- and t=0 0 are added);
//   - b= lines with an unknown bandwidth type, which RFC 4566 §5.8 says to
//     ignore (dropped);
//   - u= lines that are not URIs, and e= and p= lines after the first
//     (RFC 4566 §5.6 allows several; pion/sdp does not), all dropped;
//   - media types and transport protocols pion/sdp does not know, such as
//     "image" and "udptl" (stand-ins, restored after parsing; see mediaFix).
//
// It refuses bodies over MaxBodySize or with more than MaxMediaLines m= lines.
func normalize(body []byte) (string, []mediaFix, error) {
	if len(body) > MaxBodySize {
		return "", nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrTooLarge, len(body), MaxBodySize)
	}
	text := strings.TrimPrefix(string(body), "\ufeff")
	raw := strings.FieldsFunc(text, func(r rune) bool { return r == '\r' || r == '\n' })
	lines := make([]line, 0, len(raw)+2)
	var fixes []mediaFix
	section, hasS, hasT, hasE, hasP := 0, false, false, false, false
	for n, l := range raw {
		l = strings.Trim(l, " \t")
		if l == "" {
			continue
		}
		if len(l) < 2 || l[1] != '=' {
			return "", nil, fmt.Errorf("%w: line %d %s is not <type>=<value>", ErrMalformed, n+1, quote(l))
		}
		typ := l[0]
		switch {
		case typ == 'm':
			section++
			if section > MaxMediaLines {
				return "", nil, fmt.Errorf("%w: more than %d m= lines", ErrTooManyMedia, MaxMediaLines)
			}
			var fix mediaFix
			if l, fix = fixMediaLine(l); fix.media != "" {
				fix.index = section - 1
				fixes = append(fixes, fix)
			}
			lines = append(lines, line{text: l, section: section})
			continue
		case typ == 'b' && !validBandwidth(l[2:]):
			continue
		case section == 0 && typ == 'u':
			if _, err := url.Parse(l[2:]); err != nil {
				continue
			}
		case section == 0 && typ == 'e':
			if hasE {
				continue
			}
			hasE = true
		case section == 0 && typ == 'p':
			if hasP {
				continue
			}
			hasP = true
		case section == 0 && typ == 's':
			hasS = true
		case section == 0 && typ == 't':
			hasT = true
		}
		lines = append(lines, line{text: l, section: section, rank: rank(typ, section)})
	}
	if len(lines) == 0 {
		return "", nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	if !hasS {
		lines = append(lines, line{text: "s=-", rank: rank('s', 0)})
	}
	if !hasT {
		lines = append(lines, line{text: "t=0 0", rank: rank('t', 0)})
	}
	byPosition := func(a, b line) int {
		return cmp.Or(cmp.Compare(a.section, b.section), cmp.Compare(a.rank, b.rank))
	}
	if !slices.IsSortedFunc(lines, byPosition) {
		slices.SortStableFunc(lines, byPosition)
	}
	var sb strings.Builder
	sb.Grow(len(text) + 2*len(lines) + 16)
	for _, l := range lines {
		sb.WriteString(l.text)
		sb.WriteString("\r\n")
	}
	return sb.String(), fixes, nil
}

// rank orders the line types of a section as RFC 4566 §5 does:
// v o s i u e p c b (t r)* z k a at the session level, m i c b k a in a media
// section. Types it does not know go last, where pion/sdp rejects them.
func rank(typ byte, section int) int {
	order := "vosiuepcbtzka"
	if section > 0 {
		order = "micbka"
	}
	if typ == 'r' && section == 0 {
		typ = 't' // r= lines stay behind their t= line
	}
	if i := strings.IndexByte(order, typ); i >= 0 {
		return i
	}
	return len(order)
}

// knownMedia and knownProto are the media types and protocol names that
// pion/sdp v3.0.20 accepts in an m= line (unmarshalMediaDescription).
func knownMedia(s string) bool {
	switch s {
	case "audio", "video", "text", "application", "message":
		return true
	}
	return false
}

func knownProto(s string) bool {
	for p := range strings.SplitSeq(s, "/") {
		switch p {
		case "UDP", "RTP", "AVP", "SAVP", "SAVPF", "TLS", "DTLS", "SCTP", "AVPF", "TCP",
			"MSRP", "BFCP", "UDT", "IX", "MRCPv2", "FEC":
		default:
			return false
		}
	}
	return true
}

// fixMediaLine replaces a media type or protocol pion/sdp does not know with
// stand-ins, and reports the real ones. A line too short to be an m= line is
// left for pion/sdp to reject.
func fixMediaLine(l string) (string, mediaFix) {
	fields := strings.FieldsFunc(l[2:], func(r rune) bool { return r == ' ' || r == '\t' })
	if len(fields) < 3 || (knownMedia(fields[0]) && knownProto(fields[2])) {
		return l, mediaFix{}
	}
	fix := mediaFix{media: fields[0], proto: fields[2]}
	fields[0], fields[2] = "application", "UDP"
	return "m=" + strings.Join(fields, " "), fix
}

// validBandwidth reports whether pion/sdp accepts the value of a b= line:
// "<bwtype>:<bandwidth>" with a known or "X-" type (RFC 4566 §5.8).
func validBandwidth(v string) bool {
	typ, n, ok := strings.Cut(v, ":")
	if !ok || strings.Contains(n, ":") {
		return false
	}
	if _, err := strconv.ParseUint(n, 10, 64); err != nil {
		return false
	}
	switch typ {
	case "CT", "AS", "TIAS", "RS", "RR":
		return true
	}
	return strings.HasPrefix(typ, "X-")
}

// quote quotes s for an error message, shortened to a readable length.
func quote(s string) string {
	const maxLen = 40
	if len(s) > maxLen {
		return strconv.Quote(s[:maxLen]) + "..."
	}
	return strconv.Quote(s)
}
