package webhooks_test

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ringdesk/ringdesk/webhooks"
)

func ExampleSign() {
	body := []byte(`{"kind":"ticket.created","ticket_id":7,"at":"2026-11-21T10:00:00Z"}`)
	fmt.Println("Ringdesk-Signature: t=1795255200," + webhooks.Sign("s3cret", 1795255200, body))
	// Output:
	// Ringdesk-Signature: t=1795255200,v1=6a21b1b78dfeb492698341b4f927538598a38cdd4e9910d6f1816cc27bbc8efa
}

// A receiver checks every request before it trusts it.
func ExampleVerify() {
	const secret = "s3cret" // the webhook's secret in ringdesk.yaml
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if err := webhooks.Verify(secret, r.Header.Get(webhooks.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// body is a tickets.Change; de-duplicate on r.Header.Get(webhooks.HeaderDelivery).
		w.WriteHeader(http.StatusNoContent)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ringdesk", handler)
}
