package sip

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseReferTo feeds arbitrary Refer-To values to parseReferTo (RFC
// 3515 §2.1, with an escaped Replaces header, RFC 3891 §7). Properties: it
// never panics; an error is ErrBadRefer; on success the target has a user,
// and Replaces, when set, names a whole dialog.
func FuzzParseReferTo(f *testing.F) {
	for _, seed := range []string{
		"sip:1002@pbx.example.com",
		"<sip:1002@127.0.0.1>",
		"<sip:1002@127.0.0.1:5060;transport=udp>",
		"\"Bob\" <sips:bob@example.com>;foo=bar",
		"<sip:1003@127.0.0.1?Replaces=abc%40host%3Bto-tag%3Dt1%3Bfrom-tag%3Df1>",
		"<sip:1003@pbx?Replaces=abc%40host%3Bfrom-tag%3Df1%3Bto-tag%3Dt1%3Bearly-only&Require=replaces>",
		"<sip:1003@127.0.0.1?Replaces=abc>",
		"<sip:1003@127.0.0.1?Replaces=%zz>",
		"<sip:%31%30%30%33@127.0.0.1>",
		"tel:+3512100000",
		"<tel:+3512100000>",
		"<sip:127.0.0.1>",
		"",
		"<",
		"<sip:>",
		"\x00\xff<sip:@?=&;>",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		ev, err := parseReferTo(v)
		if err != nil {
			if !errors.Is(err, ErrBadRefer) {
				t.Fatalf("parseReferTo(%q) = %v, want an ErrBadRefer", v, err)
			}
			return
		}
		if ev.User == "" {
			t.Fatalf("parseReferTo(%q) accepted a target without a user: %+v", v, ev)
		}
		if ev.Target == "" {
			t.Fatalf("parseReferTo(%q) accepted an empty target: %+v", v, ev)
		}
		if r := ev.Replaces; r != nil {
			checkDialogRef(t, v, *r)
		}
	})
}

// FuzzParseReplaces feeds arbitrary Replaces values (RFC 3891 §6.1) to
// parseReplaces. Properties: it never panics; an error is ErrBadRefer; on
// success the Call-ID, to-tag and from-tag are all set, and the reference
// matches its own dialog with the tags in either order.
func FuzzParseReplaces(f *testing.F) {
	for _, seed := range []string{
		"abc@host;to-tag=t1;from-tag=f1",
		"abc@host;from-tag=f1;to-tag=t1;early-only",
		" abc@host ; TO-TAG=t1 ; From-Tag=f1 ",
		"abc@host;to-tag=t1",
		"abc@host;to-tag=;from-tag=f1",
		";to-tag=t1;from-tag=f1",
		"abc",
		"",
		";;;==;",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		ref, err := parseReplaces(v)
		if err != nil {
			if !errors.Is(err, ErrBadRefer) {
				t.Fatalf("parseReplaces(%q) = %v, want an ErrBadRefer", v, err)
			}
			if ref != (DialogRef{}) {
				t.Fatalf("parseReplaces(%q) failed but returned %+v", v, ref)
			}
			return
		}
		checkDialogRef(t, v, ref)
		if ref.CallID != strings.TrimSpace(ref.CallID) {
			t.Fatalf("parseReplaces(%q): Call-ID %q keeps surrounding space", v, ref.CallID)
		}
	})
}

// checkDialogRef fails unless ref names a whole dialog and matches it.
func checkDialogRef(t *testing.T, in string, ref DialogRef) {
	t.Helper()
	if ref.CallID == "" || ref.ToTag == "" || ref.FromTag == "" {
		t.Fatalf("%q gave an incomplete dialog reference %+v", in, ref)
	}
	if !ref.Matches(ref.CallID, ref.ToTag, ref.FromTag) || !ref.Matches(ref.CallID, ref.FromTag, ref.ToTag) {
		t.Fatalf("%q: %+v does not match its own dialog", in, ref)
	}
}
