package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/textnorm"
)

// Text at the edge. Every string a request carries must be acceptable text (textnorm.Check: valid
// UTF-8, no NUL, no control character other than tab, line feed and carriage return), on every
// route and in every place: path, query, headers the operation reads, JSON body and form fields.
// Two checks make it so, both before any handler runs:
//
//   - checkText (middleware, every /api/ request): the decoded path, every query parameter, and
//     the raw bytes of a JSON body (encoding/json would silently turn invalid UTF-8 into U+FFFD);
//   - checkInput (in register, every operation): a walk over the decoded input struct, which
//     sees what JSON escapes decode to ("\u0000") and multipart form values.
//
// A refusal is 400 with code "invalid" and the offending field named, never the text echoed.

// badText is the validation error for a field whose text is not acceptable.
func badText(field string, err error) *reclaim.Error {
	return &reclaim.Error{Code: reclaim.EINVALID, Message: field + " " + err.Error(), Fields: map[string]string{field: err.Error()}}
}

// checkText refuses an /api/ request whose path, query parameters or JSON body hold text that is
// not acceptable. A JSON body, or one without a Content-Type (which huma reads as JSON), is read
// whole (at most MaxBodyBytes, already limited) to check it and handed on unchanged; multipart
// uploads are checked field by field in checkInput.
func (s *Server) checkText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		if err := textnorm.Check(r.URL.Path); err != nil {
			writeError(w, apiError(badText("path", err)))
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			writeError(w, apiError(&reclaim.Error{Code: reclaim.EINVALID, Message: "the query string is malformed"}))
			return
		}
		for k, vs := range q {
			if err := textnorm.Check(k); err != nil {
				writeError(w, apiError(badText("query", err)))
				return
			}
			for _, v := range vs {
				if err := textnorm.Check(v); err != nil {
					writeError(w, apiError(badText("query."+k, err)))
					return
				}
			}
		}
		if ct := r.Header.Get("Content-Type"); r.Body != nil && r.Body != http.NoBody && (ct == "" || isJSON(ct)) {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					writeError(w, &ErrorBody{Status: http.StatusRequestEntityTooLarge, Code: reclaim.ETOOLARGE,
						Message: "the request body is larger than the limit of " + strconv.FormatInt(mbe.Limit>>20, 10) + " MiB"})
					return
				}
				writeError(w, apiError(&reclaim.Error{Code: reclaim.EINVALID, Message: "the request body could not be read"}))
				return
			}
			if err := textnorm.Check(string(b)); errors.Is(err, textnorm.ErrUTF8) {
				writeError(w, apiError(badText("body", err)))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		next.ServeHTTP(w, r)
	})
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

var timeType = reflect.TypeOf(time.Time{})

// checkInput walks a decoded operation input and refuses the first string that is not
// acceptable text, naming its field as huma does (path.id, query.purpose, body fields by their
// JSON names). []byte fields are binary (base64 in JSON) and pass; interfaces (open files) are
// not entered.
func checkInput(in any) error {
	return walkText(reflect.ValueOf(in), "", 0)
}

func walkText(v reflect.Value, name string, depth int) error {
	if depth > 12 || !v.IsValid() {
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		if err := textnorm.Check(v.String()); err != nil {
			if name == "" {
				name = "body"
			}
			return badText(name, err)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return walkText(v.Elem(), name, depth+1)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			return nil
		}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			fn := fieldName(f)
			if f.Anonymous || fn == "" {
				fn = name // embedded structs and the Body wrapper add no name of their own
			} else if name != "" && !strings.Contains(fn, ".") {
				fn = name + "." + fn
			}
			if err := walkText(v.Field(i), fn, depth+1); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := walkText(v.Index(i), name+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			if k.Kind() == reflect.String {
				if err := textnorm.Check(k.String()); err != nil {
					return badText(name, err)
				}
			}
			kn := name
			if k.Kind() == reflect.String {
				kn = strings.TrimPrefix(name+"."+k.String(), ".")
			}
			if err := walkText(it.Value(), kn, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldName is how a field is named in errors: path.x, query.x, header.x, form field x, JSON
// name x; "" for the Body/RawBody wrappers and untagged fields.
func fieldName(f reflect.StructField) string {
	for _, tag := range []string{"path", "query", "header"} {
		if n := f.Tag.Get(tag); n != "" {
			n, _, _ = strings.Cut(n, ",")
			return tag + "." + n
		}
	}
	for _, tag := range []string{"form", "json"} {
		if n := f.Tag.Get(tag); n != "" && n != "-" {
			n, _, _ = strings.Cut(n, ",")
			return n
		}
	}
	if f.Name == "Body" || f.Name == "RawBody" {
		return ""
	}
	if f.IsExported() {
		return f.Name
	}
	return ""
}

// Amounts and dates at the edge. The API takes the documented forms only (money.ParseStrict,
// date.ParseStrict): an amount is -?digits with at most two decimals, a date is YYYY-MM-DD. The
// lenient readers (万, 1E2, full-width digits, ¥, 2025/07/02, 20250702, timestamps) are for
// tapes, not API calls.

// apiDateMin is the earliest business date the API accepts: no pool, statement or collection
// Reclaim handles predates it.
var apiDateMin = date.Of(1990, 1, 1)

// apiDateMax is the latest business date the API accepts: tomorrow by the server's UTC clock.
// Every date the API takes today (a value date, a statement or reporting period) records
// something that has happened; one day of slack covers callers ahead of UTC (China is UTC+8).
func (s *Server) apiDateMax() date.Date { return date.FromTime(s.cfg.Now().UTC()).AddDays(1) }

// apiDate reads field's value as a date in the API's form and range.
func (s *Server) apiDate(field, v string) (date.Date, error) {
	d, err := date.ParseStrictWithin(v, apiDateMin, s.apiDateMax())
	if err != nil {
		why := "a date YYYY-MM-DD"
		if errors.Is(err, date.ErrRange) {
			why = "a date from " + apiDateMin.String() + " to " + s.apiDateMax().String()
		} else if errors.Is(err, date.ErrInvalid) {
			why = "a day of the calendar"
		}
		return date.Date{}, &reclaim.Error{Code: reclaim.EINVALID, Message: field + " must be " + why, Fields: map[string]string{field: why}}
	}
	return d, nil
}

// Sign rules for apiAmount.
const (
	anySign     = iota // a balance, which may be negative
	nonNegative        // a sum of credits or debits
	positive           // money received
)

// apiAmount reads field's value as a CNY amount in the API's form with the sign rule.
func apiAmount(field, v string, rule int) (money.Amount, error) {
	a, err := money.ParseStrict(v, money.CNY)
	why := ""
	switch {
	case errors.Is(err, money.ErrOverflow):
		why = "an amount within range"
	case err != nil:
		why = "an amount in yuan written like 1234.56: ASCII digits, at most two decimals, an optional leading minus and nothing else"
	case rule == positive && a.Sign() <= 0:
		why = "an amount greater than zero"
	case rule == nonNegative && a.Sign() < 0:
		why = "an amount of zero or more"
	default:
		return a, nil
	}
	return money.Amount{}, &reclaim.Error{Code: reclaim.EINVALID, Message: field + " must be " + why, Fields: map[string]string{field: why}}
}
