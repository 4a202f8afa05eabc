// Package reclaim is the domain vocabulary of Reclaim, a platform for buying, valuing, working out
// and disposing of personal non-performing loans: sellers, portfolios, loans, borrowers and their
// personal data, repayments, events, and the one error type that every layer returns.
//
// The package holds types and service contracts only. Engines (money, date, tape, synth, ...) build
// on it; adapters (sqldb, httpapi) implement or serve its services; cmd/reclaim wires them.
package reclaim

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error codes. Each maps to one HTTP status in httpapi and one exit code in the CLI.
const (
	EINVALID      = "invalid"       // the input breaks a rule; Fields says where
	ENOTFOUND     = "not_found"     // the named thing does not exist (or is not visible)
	ECONFLICT     = "conflict"      // the change collides with existing state (a duplicate import)
	EUNAUTHORIZED = "unauthorized"  // no valid credentials
	EFORBIDDEN    = "forbidden"     // credentials lack the permission
	ETOOLARGE     = "too_large"     // the input exceeds a size limit
	EUNAVAILABLE  = "unavailable"   // a dependency is down; retry later
	EINTERNAL     = "internal"      // a bug or an unexpected failure; details are logged, not shown
	ECANCELED     = "canceled"      // the caller gave up
	EUNSUPPORTED  = "not_supported" // a valid request for something not offered
)

// Error is the error every Reclaim layer returns for conditions a user can act on. Code is one of
// the E* constants; Message is safe to show; Fields carries per-field detail for EINVALID.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	// Err is the wrapped cause, if any; it is logged but never shown to a user.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(k + ": " + e.Fields[k])
		}
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the code and message that wraps cause.
func WrapError(code string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other non-nil
// error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of the first *Error in err's chain, or "internal error".
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
