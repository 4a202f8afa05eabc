package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/spill"
	"reclaim/tape"
)

// uploadForm is a tape upload read from its multipart body.
type uploadForm struct {
	id          string
	name        string      // the tape's display name
	tape        *spill.File // the tape, encrypted
	mapping     *tape.Mapping
	seller      string
	title       string
	skipInvalid bool
}

// maxMappingBytes bounds an uploaded mapping file.
const maxMappingBytes = 1 << 20

// readUpload reads the multipart body part by part. The tape is encrypted into a spill file as it
// arrives; nothing of it is ever written in clear, and on any failure (a malformed body, a body
// over the limit, a client that goes away) the spill file is removed before the error returns.
func (s *Server) readUpload(ctx context.Context, r *http.Request, w http.ResponseWriter) (_ *uploadForm, err error) {
	if r == nil {
		return nil, errors.New("upload: no request")
	}
	if w != nil {
		// A large tape over a slow link: the body may take this long (the headers had 10 s).
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(10 * time.Minute))
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "an upload is a multipart/form-data body",
			Fields: map[string]string{"body": err.Error()}}
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	form := &uploadForm{id: hex.EncodeToString(b[:])}
	var sw *spill.Writer
	defer func() {
		if err != nil {
			if sw != nil {
				sw.Discard()
			}
			if form.tape != nil {
				form.tape.Remove()
			}
		}
	}()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.bodyError(ctx, err)
		}
		switch field := part.FormName(); field {
		case "file":
			if form.tape != nil {
				return nil, fieldError("file", "one tape per upload")
			}
			form.name = safeName(part.FileName())
			if ext := strings.ToLower(filepath.Ext(form.name)); !tapeExts[ext] {
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "a tape is a .csv or .xlsx file",
					Fields: map[string]string{"file": "unsupported file type " + ext}}
			}
			if sw, err = spill.Create(s.cfg.UploadDir); err != nil {
				return nil, err
			}
			if _, err := io.Copy(sw, part); err != nil {
				return nil, s.bodyError(ctx, err)
			}
			form.tape, err = sw.Seal()
			sw = nil
			if err != nil {
				return nil, err
			}
		case "mapping":
			data, err := io.ReadAll(io.LimitReader(part, maxMappingBytes+1))
			if err != nil {
				return nil, s.bodyError(ctx, err)
			}
			if len(data) > maxMappingBytes {
				return nil, &reclaim.Error{Code: reclaim.ETOOLARGE, Message: "the mapping file is larger than 1 MiB",
					Fields: map[string]string{"mapping": "too large"}}
			}
			if form.mapping, err = tape.ParseMapping(data, safeName(part.FileName())); err != nil {
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "the mapping file is not valid",
					Fields: map[string]string{"mapping": err.Error()}}
			}
		case "seller", "name", "skip_invalid":
			v, err := io.ReadAll(io.LimitReader(part, 4<<10))
			if err != nil {
				return nil, s.bodyError(ctx, err)
			}
			val := string(v)
			if !utf8.ValidString(val) || strings.ContainsRune(val, 0) || utf8.RuneCountInString(val) > 200 {
				return nil, fieldError(field, "at most 200 characters of text")
			}
			switch field {
			case "seller":
				form.seller = val
			case "name":
				form.title = val
			default:
				if val != "" {
					if form.skipInvalid, err = strconv.ParseBool(val); err != nil {
						return nil, fieldError(field, "true or false")
					}
				}
			}
		default:
			return nil, fieldError(field, "unknown form field")
		}
		part.Close()
	}
	if form.tape == nil {
		return nil, fieldError("file", "required")
	}
	return form, nil
}

func fieldError(field, msg string) error {
	return &reclaim.Error{Code: reclaim.EINVALID, Message: "the upload form is not valid", Fields: map[string]string{field: msg}}
}

// bodyError classifies a failure to read the request body.
func (s *Server) bodyError(ctx context.Context, err error) error {
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		return &reclaim.Error{Code: reclaim.ETOOLARGE,
			Message: "the request body is larger than the limit of " + strconv.FormatInt(mb.Limit>>20, 10) + " MiB"}
	case ctx.Err() != nil:
		return reclaim.WrapError(reclaim.ECANCELED, err, "the upload was interrupted; nothing was kept")
	}
	var re *reclaim.Error
	if errors.As(err, &re) {
		return err
	}
	return reclaim.WrapError(reclaim.EINVALID, err, "the upload body ended early or is not valid multipart/form-data; nothing was kept")
}

// uploadRequestBody documents the multipart form in the OpenAPI document.
func uploadRequestBody() *huma.RequestBody {
	n := 200
	return &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"multipart/form-data": {Schema: &huma.Schema{Type: "object", Required: []string{"file"},
			Properties: map[string]*huma.Schema{
				"file":         {Type: "string", Format: "binary", Description: "the tape: CSV (UTF-8 or GBK) or XLSX"},
				"mapping":      {Type: "string", Format: "binary", Description: "optional mapping file (YAML or JSON) for unknown headers, at most 1 MiB"},
				"seller":       {Type: "string", MaxLength: &n},
				"name":         {Type: "string", MaxLength: &n},
				"skip_invalid": {Type: "boolean", Description: "import the valid rows and report the rest, instead of all-or-nothing"},
			}}},
	}}
}
