package web

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// TestOpenAPIMatchesRoutes: openapi.yaml describes exactly the routes the
// server registers, so the two cannot drift apart.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var spec struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPISpec, &spec); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(spec.OpenAPI, "3.1") {
		t.Errorf("openapi: %q, want 3.1.x", spec.OpenAPI)
	}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	var inSpec []string
	for path, item := range spec.Paths {
		for key := range item {
			if slices.Contains(methods, key) {
				inSpec = append(inSpec, strings.ToUpper(key)+" "+path)
			}
		}
	}
	e := newEnv(t)
	var served []string
	for _, rt := range e.srv.routes() {
		served = append(served, rt.method+" "+rt.path)
	}
	slices.Sort(inSpec)
	slices.Sort(served)
	for _, r := range served {
		if !slices.Contains(inSpec, r) {
			t.Errorf("%s is served but not in openapi.yaml", r)
		}
	}
	for _, r := range inSpec {
		if !slices.Contains(served, r) {
			t.Errorf("%s is in openapi.yaml but not served", r)
		}
	}

	r := e.ok(http.StatusOK, nil, http.MethodGet, "/api/v1/openapi.yaml", nil)
	if string(r.body) != string(openAPISpec) || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/yaml") {
		t.Errorf("GET openapi.yaml: %q, %d bytes", r.Header.Get("Content-Type"), len(r.body))
	}
}
