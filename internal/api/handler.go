// Package api serves the Athena API over both of its protocols on one port: AWS JSON 1.1
// (POST / with X-Amz-Target; aws-sdk-go-v2, older botocore such as 1.40) and restJson1 (a
// request line per operation; today's botocore and what is built on it). It verifies
// SigV4, decodes and validates requests against the service model, calls the domain, and
// writes responses and errors the way those clients expect. It is the only package that
// knows HTTP.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"glaux/internal/athena"
	"glaux/internal/sigv4"
	"glaux/internal/wire"
)

// MaxBodyBytes bounds a request body: the largest legal request is an ImportNotebook or
// UpdateNotebook with a 10 MiB payload, which JSON escaping can at most double (\" and \\).
const MaxBodyBytes = 24 << 20

const targetPrefix = "AmazonAthena."

// Verifier checks a request's signature; *sigv4.Verifier implements it.
type Verifier interface {
	Verify(r *http.Request, body []byte) (sigv4.Identity, error)
}

// Handler answers Athena JSON requests.
type Handler struct {
	svc      Service
	verifier Verifier
	log      *slog.Logger
	newID    func() string
	authz    *authorizer // nil: every valid key may do everything (authz.go)
}

// NewHandler returns the JSON API handler. verifier may not be nil: glaux always checks
// signatures (the loopback default is the documented test/test key).
func NewHandler(svc Service, verifier Verifier, log *slog.Logger) *Handler {
	return &Handler{svc: svc, verifier: verifier, log: log, newID: athena.NewUUID}
}

// apiError is an error as it goes on the wire.
type apiError struct {
	status int
	Type   string `json:"__type"`
	// Message with a capital M: aws-sdk-go-v2 fills typed errors from exact keys.
	Message         string `json:"Message"`
	AthenaErrorCode string `json:"AthenaErrorCode,omitempty"`
	ResourceName    string `json:"ResourceName,omitempty"`
	Reason          string `json:"Reason,omitempty"`
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

var errUnknownOperation = errors.New("unknown operation")

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := h.newID()
	w.Header().Set("x-amzn-RequestId", reqID)
	start := time.Now()
	// Without X-Amz-Target, anything but POST / is restJson1 (POST / is no Athena route).
	if r.Header.Get("X-Amz-Target") == "" && (r.Method != http.MethodPost || r.URL.Path != "/") {
		h.serveREST(w, r, reqID, start)
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	out, err := h.serve(r, op, nil, nil)
	if err != nil {
		ae := h.toAPIError(op, err, reqID)
		h.write(w, ae.status, ae, jsonContentType, "")
		h.log.Debug("request failed", "op", op, "type", ae.Type, "message", ae.Message, "request_id", reqID, "elapsed", time.Since(start))
		return
	}
	h.write(w, http.StatusOK, out, jsonContentType, "")
}

// serveREST answers a restJson1 request: the route gives the operation and its success
// status; errors carry their type in x-amzn-ErrorType as well as in the body.
func (h *Handler) serveREST(w http.ResponseWriter, r *http.Request, reqID string, start time.Time) {
	route, labels, methodMismatch := matchRoute(r.Method, r.URL.EscapedPath())
	var op string
	var rr *restRequest
	var routeErr error
	switch {
	case route != nil:
		op, rr = route.op, &restRequest{labels: labels, query: r.URL.Query(), header: r.Header}
	case methodMismatch:
		routeErr = &apiError{status: http.StatusMethodNotAllowed, Type: "UnknownOperationException",
			Message: fmt.Sprintf("No Athena operation is %s %s", r.Method, r.URL.EscapedPath())}
	default:
		routeErr = &apiError{status: http.StatusNotFound, Type: "UnknownOperationException",
			Message: fmt.Sprintf("No Athena operation is %s %s (restJson1), and the request has no X-Amz-Target (AWS JSON 1.1)", r.Method, r.URL.EscapedPath())}
	}
	out, err := h.serve(r, op, rr, routeErr)
	if err != nil {
		ae := h.toAPIError(op, err, reqID)
		h.write(w, ae.status, ae, restContentType, ae.Type)
		h.log.Debug("request failed", "op", op, "protocol", "restJson1", "type", ae.Type, "message", ae.Message, "request_id", reqID, "elapsed", time.Since(start))
		return
	}
	h.write(w, route.status, out, restContentType, "")
}

// serve reads and verifies a request, then decodes, authorizes and runs op. rr is nil for
// AWS JSON 1.1; routeErr is a restJson1 request that matched no route, answered only once
// its signature is verified.
func (h *Handler) serve(r *http.Request, op string, rr *restRequest, routeErr error) (any, error) {
	if rr == nil && routeErr == nil && r.Method != http.MethodPost {
		return nil, &apiError{status: http.StatusMethodNotAllowed, Type: "UnknownOperationException", Message: "Athena operations are HTTP POST requests"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, Type: "RequestEntityTooLargeException",
				Message: fmt.Sprintf("Request body is larger than %d bytes", MaxBodyBytes)}
		}
		return nil, &apiError{status: http.StatusBadRequest, Type: "SerializationException", Message: "Could not read the request body"}
	}
	id, err := h.verifier.Verify(r, body)
	if err != nil {
		return nil, err
	}
	if routeErr != nil {
		return nil, routeErr
	}
	if rr == nil && (!strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix) || !wire.ModelOperations[op]) {
		return nil, &apiError{status: http.StatusBadRequest, Type: "UnknownOperationException",
			Message: fmt.Sprintf("X-Amz-Target %q is not an operation of AmazonAthena", r.Header.Get("X-Amz-Target"))}
	}
	if _, served := wire.Errors[op]; !served {
		return nil, &apiError{status: http.StatusBadRequest, Type: "InvalidRequestException", AthenaErrorCode: "UNSUPPORTED_OPERATION",
			Message: fmt.Sprintf("glaux serves the Athena for Apache Spark API; the operation %s is not supported", op)}
	}
	in, err := decodeInput(op, body, rr)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(r.Context(), id, op, in); err != nil {
		return nil, err
	}
	return run(r.Context(), h.svc, op, in)
}

// decode reads a request body into in. An empty body means {} (the awsJson protocol says
// servers must accept it); malformed JSON and wrong member types are SerializationException.
func decode(body []byte, in any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return &apiError{status: http.StatusBadRequest, Type: "SerializationException", Message: "The request body must be a JSON object"}
	}
	if err := json.Unmarshal(body, in); err != nil {
		msg := "The request body is not valid JSON"
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			msg = fmt.Sprintf("Member %s must be of type %s, not a JSON %s", typeErr.Field, jsonTypeName(typeErr.Type.String()), typeErr.Value)
		}
		return &apiError{status: http.StatusBadRequest, Type: "SerializationException", Message: msg}
	}
	return nil
}

func jsonTypeName(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "list"
	case strings.HasPrefix(t, "int"):
		return "integer"
	case t == "bool":
		return "boolean"
	case t == "string":
		return "string"
	case strings.HasPrefix(t, "map"):
		return "map"
	case strings.HasPrefix(t, "float"), t == "wire.Time":
		return "number"
	}
	return "object"
}

// toAPIError maps any error to its wire form. Only the error types the operation lists
// reach the client (Go clients dispatch on that list); anything unexpected is logged and
// becomes a generic InternalServerException.
func (h *Handler) toAPIError(op string, err error, reqID string) *apiError {
	var ae *apiError
	var de *athena.Error
	var ve *wire.ValidationError
	var se *sigv4.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &se):
		return &apiError{status: se.Status, Type: se.Code, Message: se.Message}
	case errors.As(err, &ve):
		return &apiError{status: http.StatusBadRequest, Type: "InvalidRequestException", AthenaErrorCode: athena.ErrCodeInvalidInput, Message: ve.Error()}
	case errors.As(err, &de):
		out := &apiError{status: http.StatusBadRequest, Message: de.Message, AthenaErrorCode: de.AthenaErrorCode, ResourceName: de.ResourceName, Reason: de.Reason}
		switch de.Code {
		case athena.CodeResourceNotFound:
			out.Type = "ResourceNotFoundException"
		case athena.CodeSessionAlreadyExists:
			out.Type = "SessionAlreadyExistsException"
		case athena.CodeTooManyRequests:
			out.Type = "TooManyRequestsException"
			out.status = http.StatusTooManyRequests
		case athena.CodeInternal:
			out.Type, out.status = "InternalServerException", http.StatusInternalServerError
		default:
			out.Type = "InvalidRequestException"
		}
		if !listed(op, out.Type) {
			out.Type, out.status = "InvalidRequestException", http.StatusBadRequest
			if out.AthenaErrorCode == "" && de.Code == athena.CodeResourceNotFound {
				out.AthenaErrorCode = athena.ErrCodeResourceNotFound
			}
		}
		if out.Type != "InvalidRequestException" {
			out.AthenaErrorCode = ""
		}
		return out
	case errors.Is(err, context.Canceled):
		return &apiError{status: 499, Type: "InternalServerException", Message: "The request was canceled"}
	}
	h.log.Error("internal error", "op", op, "request_id", reqID, "err", err)
	return &apiError{status: http.StatusInternalServerError, Type: "InternalServerException",
		Message: "An internal error occurred. Request id " + reqID}
}

func listed(op, errType string) bool {
	for _, e := range wire.Errors[op] {
		if e == errType {
			return true
		}
	}
	return false
}

const (
	jsonContentType = "application/x-amz-json-1.1"
	restContentType = "application/json"
)

// write sends v as JSON; errType, for a restJson1 error, goes in x-amzn-ErrorType too.
func (h *Handler) write(w http.ResponseWriter, status int, v any, contentType, errType string) {
	b, err := json.Marshal(v)
	if err != nil {
		h.log.Error("encoding response", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"__type":"InternalServerException","Message":"response encoding failed"}`)
		if errType != "" {
			errType = "InternalServerException"
		}
	}
	if errType != "" {
		w.Header().Set("x-amzn-ErrorType", errType)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
