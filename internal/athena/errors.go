package athena

import (
	"errors"
	"fmt"
)

// Code is the small set of error kinds the domain speaks; internal/api alone maps them to
// Athena exception names and HTTP statuses.
type Code int

const (
	CodeInvalidRequest Code = iota + 1
	CodeResourceNotFound
	CodeSessionAlreadyExists
	CodeTooManyRequests
	CodeInternal
)

// Error is the domain's one error type.
type Error struct {
	Code    Code
	Message string
	// AthenaErrorCode is InvalidRequestException's machine-readable reason (INVALID_INPUT, ...).
	AthenaErrorCode string
	// ResourceName names the missing resource of a ResourceNotFoundException.
	ResourceName string
	// Reason is TooManyRequestsException's throttle reason.
	Reason string
}

func (e *Error) Error() string { return e.Message }

// Athena error codes seen from the real service.
const (
	ErrCodeInvalidInput       = "INVALID_INPUT"
	ErrCodeIdempotentMismatch = "IDEMPOTENT_PARAMETER_MISMATCH"
	ErrCodeResourceNotFound   = "RESOURCE_NOT_FOUND"
	ErrCodeInvalidState       = "INVALID_STATE"
	ErrCodeConcurrentLimit    = "CONCURRENT_QUERY_LIMIT_EXCEEDED"
)

func invalid(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidRequest, AthenaErrorCode: ErrCodeInvalidInput, Message: fmt.Sprintf(format, args...)}
}

func invalidState(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidRequest, AthenaErrorCode: ErrCodeInvalidState, Message: fmt.Sprintf(format, args...)}
}

func notFound(resource, format string, args ...any) *Error {
	return &Error{Code: CodeResourceNotFound, ResourceName: resource, Message: fmt.Sprintf(format, args...)}
}

func tooMany(format string, args ...any) *Error {
	return &Error{Code: CodeTooManyRequests, Reason: ErrCodeConcurrentLimit, Message: fmt.Sprintf(format, args...)}
}

func idempotentMismatch() *Error {
	return &Error{Code: CodeInvalidRequest, AthenaErrorCode: ErrCodeIdempotentMismatch, Message: "Idempotent parameters do not match"}
}

// ErrNotFound is returned by Store lookups of a missing record.
var ErrNotFound = errors.New("not found")
