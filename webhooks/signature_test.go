package webhooks

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ts := now.Unix()
	body := []byte(`{"kind":"ticket.created","ticket_id":7}`)
	good := signatureHeader(secret, ts, body)
	tests := []struct {
		name   string
		secret string
		header string
		body   string
		now    time.Time
		want   error
	}{
		{name: "good", secret: secret, header: good, body: string(body), now: now},
		{name: "good within tolerance", secret: secret, header: good, body: string(body), now: now.Add(4 * time.Minute)},
		{name: "rotation: one of two v1 matches", secret: secret, header: good[:len("t=")+len(strconv.FormatInt(ts, 10))] + ",v1=00ff," + Sign(secret, ts, body) + ",v0=ignored", body: string(body), now: now},
		{name: "wrong secret", secret: "other", header: good, body: string(body), now: now, want: ErrSignatureMismatch},
		{name: "modified body", secret: secret, header: good, body: `{"kind":"ticket.created","ticket_id":8}`, now: now, want: ErrSignatureMismatch},
		{name: "modified timestamp", secret: secret, header: "t=" + strconv.FormatInt(ts+1, 10) + "," + Sign(secret, ts, body), body: string(body), now: now, want: ErrSignatureMismatch},
		{name: "stale timestamp", secret: secret, header: good, body: string(body), now: now.Add(6 * time.Minute), want: ErrStaleTimestamp},
		{name: "future timestamp", secret: secret, header: good, body: string(body), now: now.Add(-6 * time.Minute), want: ErrStaleTimestamp},
		{name: "upper-case hex", secret: secret, header: "t=" + strconv.FormatInt(ts, 10) + ",v1=" + upper(Sign(secret, ts, body)[3:]), body: string(body), now: now, want: ErrSignatureMismatch},
		{name: "empty header", secret: secret, header: "", body: string(body), now: now, want: ErrMalformedSignature},
		{name: "no timestamp", secret: secret, header: Sign(secret, ts, body), body: string(body), now: now, want: ErrMalformedSignature},
		{name: "no signature", secret: secret, header: "t=" + strconv.FormatInt(ts, 10), body: string(body), now: now, want: ErrMalformedSignature},
		{name: "bad timestamp", secret: secret, header: "t=soon," + Sign(secret, ts, body), body: string(body), now: now, want: ErrMalformedSignature},
		{name: "two timestamps", secret: secret, header: "t=1," + good, body: string(body), now: now, want: ErrMalformedSignature},
		{name: "no secret", secret: "", header: good, body: string(body), now: now, want: ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, []byte(tt.body), tt.now, 5*time.Minute)
			if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
				t.Errorf("Verify(%q) = %v, want %v", tt.header, err, tt.want)
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestVerifyDefaultTolerance(t *testing.T) {
	now := time.Unix(1795255200, 0)
	h := signatureHeader(secret, now.Unix(), nil)
	if err := Verify(secret, h, nil, now.Add(DefaultTolerance-time.Second), 0); err != nil {
		t.Errorf("within the default tolerance: %v", err)
	}
	if err := Verify(secret, h, nil, now.Add(DefaultTolerance+time.Second), 0); !errors.Is(err, ErrStaleTimestamp) {
		t.Errorf("past the default tolerance: %v, want ErrStaleTimestamp", err)
	}
}

func FuzzVerify(f *testing.F) {
	body := []byte(`{"kind":"contact.created","contact_id":1}`)
	f.Add(secret, signatureHeader(secret, 1795255200, body), body, int64(1795255200))
	f.Add(secret, "t=,v1=", []byte{}, int64(0))
	f.Add("k", "t=-9223372036854775808,v1=zz,,=,t", []byte("x"), int64(-1))
	f.Add("k", "t=9223372036854775807,v1="+Sign("k", 9223372036854775807, nil)[3:], []byte(nil), int64(9223372036854775807))
	f.Fuzz(func(t *testing.T, secret, header string, body []byte, now int64) {
		_ = Verify(secret, header, body, time.Unix(now, 0), time.Minute)
		if secret == "" {
			return
		}
		// Whatever we sign, we accept.
		if err := Verify(secret, signatureHeader(secret, now, body), body, time.Unix(now, 0), time.Minute); err != nil {
			t.Fatalf("Verify of our own signature: %v", err)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	body := make([]byte, 1024)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Sign(secret, 1795255200, body)
	}
}
