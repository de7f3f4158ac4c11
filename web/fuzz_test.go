package web

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ringdesk/ringdesk/tickets"
)

// FuzzDecodeJSON: the body decoder never panics, and every error it
// returns is a 4xx apiError.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"subject":"x","status":"open","contact_id":3}`,
		`{"subject":"x"} {}`,
		`{"bogus":1}`,
		`{"subject":5}`,
		`[]`, `null`, ``, `{`, `"x"`, `{"public":"yes"}`,
		`{"task":{"title":"t","due":"2026-01-02T03:04:05Z"}}`,
		`{"task":{"due":"yesterday"}}`,
		"\xff\xfe", `{"subject":"\ud800"}`, `{"contact_id":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, dst := range []any{&tickets.TicketInput{}, &tickets.SummaryInput{}, &taskPatch{}, &map[string]any{}} {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/tickets", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			err := decodeJSON(httptest.NewRecorder(), r, 256, dst)
			if err == nil {
				continue
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.status < 400 || ae.status > 499 || ae.msg == "" {
				t.Fatalf("decode %q into %T: %v, want a 4xx apiError", body, dst, err)
			}
		}
	})
}
