package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/ingest"
	"reclaim/tape"
)

// Upload is a tape upload and the import it started.
type Upload struct {
	ID          string         `json:"id"`
	File        string         `json:"file"`
	Status      string         `json:"status" enum:"running,done,failed"`
	Rows        int64          `json:"rows"`
	BytesRead   int64          `json:"bytes_read"`
	Size        int64          `json:"size"`
	Started     time.Time      `json:"started"`
	Finished    *time.Time     `json:"finished,omitempty"`
	Message     string         `json:"message,omitempty"`
	PortfolioID int64          `json:"portfolio_id,omitempty"`
	Report      *ingest.Report `json:"report,omitempty"`
	owner       int64
	rejects     string
}

// Upload statuses.
const (
	UploadRunning = "running"
	UploadDone    = "done"
	UploadFailed  = "failed"
)

type uploads struct {
	mu sync.Mutex
	m  map[string]*Upload
}

func newUploads() *uploads { return &uploads{m: map[string]*Upload{}} }

// maxUploads is how many finished uploads a node remembers; older ones (and their rejects files)
// are forgotten first.
const maxUploads = 500

func (u *uploads) add(up *Upload) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m[up.ID] = up
	for len(u.m) > maxUploads {
		var oldest *Upload
		for _, x := range u.m {
			if x.Status != UploadRunning && (oldest == nil || x.Started.Before(oldest.Started)) {
				oldest = x
			}
		}
		if oldest == nil {
			return
		}
		os.Remove(oldest.rejects)
		delete(u.m, oldest.ID)
	}
}

func (u *uploads) get(id string) (Upload, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	up, ok := u.m[id]
	if !ok {
		return Upload{}, false
	}
	return *up, true
}

func (u *uploads) update(id string, fn func(*Upload)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if up, ok := u.m[id]; ok {
		fn(up)
	}
}

// UploadForm is the multipart form of a tape upload.
type UploadForm struct {
	File        huma.FormFile `form:"file" required:"true" doc:"the tape: CSV (UTF-8 or GBK) or XLSX"`
	Mapping     huma.FormFile `form:"mapping" required:"false" doc:"optional mapping file (YAML or JSON) for unknown headers"`
	Seller      string        `form:"seller" required:"false" maxLength:"200"`
	Name        string        `form:"name" required:"false" maxLength:"200"`
	SkipInvalid bool          `form:"skip_invalid" required:"false" doc:"import the valid rows and report the rest, instead of all-or-nothing"`
}

// UploadInput wraps the form.
type UploadInput struct {
	RawBody huma.MultipartFormFiles[UploadForm]
}

type uploadOut struct {
	Body Upload
}

// UploadPath names an upload.
type UploadPath struct {
	ID string `path:"id" pattern:"^[0-9a-f]{16}$"`
}

// tapeExts are the file extensions an upload may carry; anything else is refused.
var tapeExts = map[string]bool{".csv": true, ".txt": true, ".xlsx": true}

// safeName reduces a client-supplied file name to a display name without directories or
// control characters.
func safeName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = filepath.Base(name)
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" || name == "" {
		return "tape"
	}
	if len(name) > 200 {
		name = name[:200]
	}
	return name
}

func (s *Server) uploadRoutes() {
	tags := []string{"uploads"}
	register(s, reclaim.PermTapeImport, huma.Operation{OperationID: "upload-tape", Method: http.MethodPost,
		Path: "/api/v1/uploads", Summary: "Upload a tape and import it in the background", Tags: tags,
		DefaultStatus: http.StatusAccepted, MaxBodyBytes: s.cfg.MaxUploadBytes, BodyReadTimeout: 10 * time.Minute,
		Description: "Progress and the result are published on the event topic `upload.<id>` (GET /api/v1/stream)."},
		func(ctx context.Context, in *UploadInput) (*uploadOut, error) {
			form := in.RawBody.Data()
			name := safeName(form.File.Filename)
			ext := strings.ToLower(filepath.Ext(name))
			if !tapeExts[ext] {
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "a tape is a .csv or .xlsx file",
					Fields: map[string]string{"file": "unsupported file type " + ext}}
			}
			var mapping *tape.Mapping
			if form.Mapping.IsSet {
				data, err := io.ReadAll(io.LimitReader(form.Mapping, 1<<20))
				if err != nil {
					return nil, err
				}
				if mapping, err = tape.ParseMapping(data, safeName(form.Mapping.Filename)); err != nil {
					return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "the mapping file is not valid",
						Fields: map[string]string{"mapping": err.Error()}}
				}
			}
			var b [8]byte
			rand.Read(b[:])
			id := hex.EncodeToString(b[:])
			path := filepath.Join(s.cfg.UploadDir, "reclaim-upload-"+id+ext)
			f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return nil, err
			}
			size, err := io.Copy(f, form.File)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(path)
				return nil, err
			}
			u := reclaim.UserFrom(ctx)
			up := &Upload{ID: id, File: name, Status: UploadRunning, Size: size, Started: s.cfg.Now().UTC(), owner: u.ID,
				rejects: filepath.Join(s.cfg.UploadDir, "reclaim-rejects-"+id+".csv")}
			s.uploads.add(up)
			opts := ingest.Options{Mapping: mapping, SkipInvalid: form.SkipInvalid, SellerName: strings.TrimSpace(form.Seller),
				Name: strings.TrimSpace(form.Name), Actor: reclaim.Actor(ctx), RejectsPath: up.rejects, DisplayName: name}
			s.wg.Add(1)
			go s.runImport(id, path, opts)
			out, _ := s.uploads.get(id)
			return &uploadOut{Body: out}, nil
		})
	register(s, reclaim.PermTapeImport, huma.Operation{OperationID: "get-upload", Method: http.MethodGet,
		Path: "/api/v1/uploads/{id}", Summary: "An upload's progress and report", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *UploadPath) (*uploadOut, error) {
			up, err := s.ownUpload(ctx, in.ID)
			return &uploadOut{Body: up}, err
		})
	register(s, reclaim.PermTapeImport, huma.Operation{OperationID: "get-upload-rejects", Method: http.MethodGet,
		Path: "/api/v1/uploads/{id}/rejects.csv", Summary: "The upload's invalid rows, unchanged, with their reasons", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *UploadPath) (*huma.StreamResponse, error) {
			up, err := s.ownUpload(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			if up.Status == UploadRunning {
				return nil, reclaim.Errorf(reclaim.ECONFLICT, "the import is still running")
			}
			f, err := os.Open(up.rejects)
			if err != nil {
				return nil, reclaim.Errorf(reclaim.ENOTFOUND, "this upload has no rejected rows")
			}
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				defer f.Close()
				hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
				hc.SetHeader("Content-Disposition", `attachment; filename="rejects-`+up.ID+`.csv"`)
				io.Copy(hc.BodyWriter(), f)
			}}, nil
		})
}

// ownUpload returns an upload the caller may see: their own (admins see all).
func (s *Server) ownUpload(ctx context.Context, id string) (Upload, error) {
	up, ok := s.uploads.get(id)
	u := reclaim.UserFrom(ctx)
	if !ok || (up.owner != u.ID && u.Role != reclaim.RoleAdmin) {
		return Upload{}, reclaim.Errorf(reclaim.ENOTFOUND, "upload %s not found", id)
	}
	return up, nil
}

func (s *Server) runImport(id, path string, opts ingest.Options) {
	defer s.wg.Done()
	defer os.Remove(path)
	ctx := context.Background()
	topic := "upload." + id
	last := time.Time{}
	opts.Progress = func(rows, read, size int64) {
		s.uploads.update(id, func(u *Upload) { u.Rows, u.BytesRead = rows, max(read, 0) })
		if now := time.Now(); now.Sub(last) > 200*time.Millisecond {
			last = now
			s.publish(ctx, topic, "progress", map[string]int64{"rows": rows, "bytes_read": max(read, 0), "size": size})
		}
	}
	rep, err := ingest.Run(ctx, s.store.IngestStore(), s.sealer, path, opts)
	now := s.cfg.Now().UTC()
	status := UploadDone
	msg := ""
	if rep != nil {
		msg = rep.Message
	}
	if err != nil {
		status = UploadFailed
		if msg == "" {
			msg = reclaim.ErrorMessage(err)
		}
		if reclaim.ErrorCode(err) == reclaim.EINTERNAL {
			s.log.Error("import failed", "upload", id, "err", err)
		}
	}
	s.metrics.imports.WithLabelValues(status).Inc()
	s.uploads.update(id, func(u *Upload) {
		u.Status, u.Finished, u.Message, u.Report = status, &now, msg, rep
		if rep != nil {
			u.Rows, u.BytesRead, u.PortfolioID = rep.Rows, u.Size, rep.PortfolioID
		}
	})
	ev := map[string]any{"status": status, "message": msg}
	if rep != nil {
		ev["portfolio_id"] = rep.PortfolioID
		ev["rows"], ev["imported"], ev["rejected"] = rep.Rows, rep.Imported, rep.Rejected
	}
	s.publish(ctx, topic, status, ev)
}

func (s *Server) publish(ctx context.Context, topic, typ string, data any) {
	if s.broker == nil {
		return
	}
	if err := s.broker.Publish(ctx, topic, typ, data); err != nil {
		s.log.Warn("publish failed", "topic", topic, "err", err)
	}
}
