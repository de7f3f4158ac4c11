package web

import (
	_ "embed" // openapi.yaml
	"net/http"
)

// openAPISpec describes every route of routes(); openapi_test.go keeps the
// two equal.
//
//go:embed openapi.yaml
var openAPISpec []byte

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request, _ *principal) error {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPISpec)
	return nil
}
