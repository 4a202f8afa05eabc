package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[string]int{
	reclaim.EINVALID:      http.StatusBadRequest,
	reclaim.ENOTFOUND:     http.StatusNotFound,
	reclaim.ECONFLICT:     http.StatusConflict,
	reclaim.EUNAUTHORIZED: http.StatusUnauthorized,
	reclaim.EFORBIDDEN:    http.StatusForbidden,
	reclaim.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	reclaim.EUNAVAILABLE:  http.StatusServiceUnavailable,
	reclaim.EINTERNAL:     http.StatusInternalServerError,
	reclaim.ECANCELED:     499,
	reclaim.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	"rate_limited":        http.StatusTooManyRequests,
}

// codeOf maps an HTTP status back to a code, for errors huma raises itself.
func codeOf(status int) string {
	switch {
	case status == http.StatusUnprocessableEntity || status == http.StatusBadRequest:
		return reclaim.EINVALID
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status == http.StatusMethodNotAllowed:
		return reclaim.EUNSUPPORTED
	}
	for code, s := range statusOf {
		if s == status {
			return code
		}
	}
	if status >= 500 {
		return reclaim.EINTERNAL
	}
	return reclaim.EINVALID
}

// ErrorBody is every error response: a stable code, a message safe to show, and per-field detail
// for invalid input.
type ErrorBody struct {
	Status  int               `json:"-"`
	Code    string            `json:"code" doc:"stable error code: invalid, not_found, conflict, unauthorized, forbidden, too_large, internal, ..."`
	Message string            `json:"message" doc:"what went wrong, safe to show to a user"`
	Fields  map[string]string `json:"fields,omitempty" doc:"per-field problems, by field location"`
}

// Error implements error.
func (e *ErrorBody) Error() string { return e.Message }

// GetStatus implements huma.StatusError.
func (e *ErrorBody) GetStatus() int { return e.Status }

func init() {
	// Errors huma raises (validation, bad JSON, body too large) take our shape too. 422s become
	// 400s: one status for bad input.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		if status == http.StatusUnprocessableEntity {
			status = http.StatusBadRequest
		}
		b := &ErrorBody{Status: status, Code: codeOf(status), Message: msg}
		for _, err := range errs {
			var d huma.ErrorDetailer
			if errors.As(err, &d) {
				det := d.ErrorDetail()
				if b.Fields == nil {
					b.Fields = map[string]string{}
				}
				loc := strings.TrimPrefix(det.Location, "body.")
				b.Fields[loc] = det.Message
			} else if err != nil && b.Message == "" {
				b.Message = err.Error()
			}
		}
		if status == http.StatusRequestEntityTooLarge {
			b.Code, b.Message = reclaim.ETOOLARGE, "the request body is too large"
		}
		if b.Message == "" {
			b.Message = http.StatusText(status)
		}
		return b
	}
}

// apiError turns any error into an ErrorBody: a reclaim.Error keeps its code and message; anything
// else is logged by the caller and shown as "internal error".
func apiError(err error) *ErrorBody {
	var re *reclaim.Error
	if errors.As(err, &re) {
		st, ok := statusOf[re.Code]
		if !ok {
			st = http.StatusInternalServerError
		}
		msg := re.Message
		if re.Code == reclaim.EINTERNAL {
			msg = "internal error"
		}
		return &ErrorBody{Status: st, Code: re.Code, Message: msg, Fields: re.Fields}
	}
	var be *ErrorBody
	if errors.As(err, &be) {
		return be
	}
	return &ErrorBody{Status: http.StatusInternalServerError, Code: reclaim.EINTERNAL, Message: "internal error"}
}
