package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/ringdesk/ringdesk/tickets"
)

const jsonContentType = "application/json; charset=utf-8"

// decodeJSON reads the request body into dst: exactly one JSON value of
// Content-Type application/json, at most maxBody bytes, with no field dst
// does not have. Every error it returns is an *apiError with a 4xx status.
func decodeJSON(w http.ResponseWriter, r *http.Request, maxBody int64, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "the request body must be JSON with Content-Type: application/json")
	}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, maxBody)
	}
	// exactly one value: what follows may only be white space
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errorf(http.StatusRequestEntityTooLarge, "the request body is larger than %d bytes", maxBody)
		}
		return errorf(http.StatusBadRequest, "invalid JSON: data after the first JSON value")
	}
	return nil
}

// jsonError describes a decoding error for the client.
func jsonError(err error, maxBody int64) error {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "the request body is larger than %d bytes", maxBody)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "the request body is empty: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "invalid JSON: the body ends in the middle of a value")
	case errors.As(err, &syntax):
		return errorf(http.StatusBadRequest, "invalid JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field != "" {
			return errorf(http.StatusBadRequest, "field %q: want %s, got JSON %s", typ.Field, typeName(typ), typ.Value)
		}
		return errorf(http.StatusBadRequest, "want %s, got JSON %s", typeName(typ), typ.Value)
	}
	msg := err.Error()
	if field, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return errorf(http.StatusBadRequest, "unknown field %s", field)
	}
	// time.Time and other values with their own UnmarshalJSON
	return errorf(http.StatusBadRequest, "invalid request body: %s", strings.TrimPrefix(msg, "json: "))
}

func typeName(e *json.UnmarshalTypeError) string {
	if e.Type == nil {
		return "another type"
	}
	switch e.Type.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	default:
	}
	return e.Type.String()
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("web: encode response: %w", err)
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// errorBody is every error response: {"error": "message"}.
type errorBody struct {
	Error string `json:"error"`
}

// status maps an error to the HTTP status and the message the client
// gets: the tickets sentinels map to 404, 400 and 409; anything else is
// our fault (500) and its text stays in the log.
func status(err error) (int, string) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.msg
	case errors.Is(err, tickets.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, tickets.ErrInvalid):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, tickets.ErrConflict):
		return http.StatusConflict, err.Error()
	}
	return http.StatusInternalServerError, "internal error"
}

// fail writes err as a JSON error response.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := status(err)
	if code == http.StatusInternalServerError {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			s.log.Debug("web: client went away", "method", r.Method, "path", r.URL.Path)
		} else {
			s.log.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	}
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ringdesk"`)
	}
	_ = writeJSON(w, code, errorBody{Error: msg})
}

// pathID is the positive integer path value name.
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusBadRequest, "%s %q is not a positive integer", name, v)
	}
	return id, nil
}
