package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"reclaim"
	"reclaim/ingest"
	"reclaim/spill"
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
	rejects     *spill.File // the rejects CSV, encrypted; nil when none
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
// are forgotten first. A node's uploads and rejects do not survive a restart: their spill keys
// lived only in its memory.
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
		if oldest.rejects != nil {
			oldest.rejects.Remove()
		}
		delete(u.m, oldest.ID)
	}
}

// removeSpills deletes every upload's encrypted rejects file (at shutdown).
func (u *uploads) removeSpills() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, up := range u.m {
		if up.rejects != nil {
			up.rejects.Remove()
			up.rejects = nil
		}
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

// UploadInput gives the handler the request itself: the multipart body is read part by part
// (never through ParseMultipartForm, which spills large files in clear to the temp folder), and
// the tape goes straight into an encrypted spill file (package spill).
type UploadInput struct {
	req *http.Request
	w   http.ResponseWriter
}

// Resolve implements huma.Resolver: it keeps the request for the handler.
func (in *UploadInput) Resolve(ctx huma.Context) []error {
	in.req, in.w = humago.Unwrap(ctx)
	return nil
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
		DefaultStatus: http.StatusAccepted, MaxBodyBytes: s.cfg.MaxUploadBytes,
		Errors: []int{400, 413},
		Description: "Progress and the result are published on the event topic `upload.<id>` (GET /api/v1/stream). " +
			"The tape is kept only encrypted (AES-256-GCM, a key per upload held in memory) until the import ends."},
		func(ctx context.Context, in *UploadInput) (*uploadOut, error) {
			form, err := s.readUpload(ctx, in.req, in.w)
			if err != nil {
				return nil, err
			}
			u := reclaim.UserFrom(ctx)
			id := form.id
			up := &Upload{ID: id, File: form.name, Status: UploadRunning, Size: form.tape.Size(), Started: s.cfg.Now().UTC(), owner: u.ID}
			s.uploads.add(up)
			opts := ingest.Options{Mapping: form.mapping, SkipInvalid: form.skipInvalid, SellerName: strings.TrimSpace(form.seller),
				Name: strings.TrimSpace(form.title), Actor: reclaim.Actor(ctx), DisplayName: form.name}
			s.wg.Add(1)
			go s.runImport(id, form.tape, opts)
			out, _ := s.uploads.get(id)
			return &uploadOut{Body: out}, nil
		})
	// Documented after registration: declared on the operation, huma would parse the body itself.
	if pi := s.api.OpenAPI().Paths["/api/v1/uploads"]; pi != nil && pi.Post != nil {
		pi.Post.RequestBody = uploadRequestBody()
	}
	register(s, reclaim.PermTapeImport, huma.Operation{OperationID: "get-upload", Method: http.MethodGet,
		Path: "/api/v1/uploads/{id}", Summary: "An upload's progress and report", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *UploadPath) (*uploadOut, error) {
			up, err := s.ownUpload(ctx, in.ID)
			return &uploadOut{Body: up}, err
		})
	register(s, reclaim.PermTapeImport, huma.Operation{OperationID: "get-upload-rejects", Method: http.MethodGet,
		Path: "/api/v1/uploads/{id}/rejects.csv", Summary: "The upload's invalid rows with their reasons (personal cells masked; audited)", Tags: tags, Errors: []int{404},
		Description: "Only the user who uploaded the tape may download its rejects (anyone else, an admin too, gets 404). " +
			"Every download is recorded as an `" + EventRejectsDownloaded + "` event (who, when, which upload) before a byte is sent. " +
			"Cells of personal fields are masked and cells a spreadsheet would run as formulas start with a single quote."},
		func(ctx context.Context, in *UploadPath) (*huma.StreamResponse, error) {
			up, ok := s.uploads.get(in.ID)
			u := reclaim.UserFrom(ctx)
			if !ok || up.owner != u.ID {
				return nil, reclaim.Errorf(reclaim.ENOTFOUND, "upload %s not found", in.ID)
			}
			if up.Status == UploadRunning {
				return nil, reclaim.Errorf(reclaim.ECONFLICT, "the import is still running")
			}
			if up.rejects == nil {
				return nil, reclaim.Errorf(reclaim.ENOTFOUND, "this upload has no rejected rows")
			}
			var rows int64
			if up.Report != nil {
				rows = up.Report.Rejected
			}
			detail, _ := json.Marshal(map[string]any{"upload_id": up.ID, "file": up.File, "rows": rows, "bytes": up.rejects.Size()})
			// The download is recorded before a byte leaves; no record, no download.
			if _, err := s.store.AddEvent(ctx, reclaim.Event{PortfolioID: up.PortfolioID, Type: EventRejectsDownloaded,
				Actor: reclaim.Actor(ctx), Detail: string(detail)}); err != nil {
				return nil, err
			}
			rd := up.rejects.Reader()
			return &huma.StreamResponse{Body: func(hc huma.Context) {
				hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
				hc.SetHeader("Content-Disposition", `attachment; filename="rejects-`+up.ID+`.csv"`)
				hc.SetHeader("Cache-Control", "no-store")
				if _, err := io.Copy(hc.BodyWriter(), rd); err != nil {
					s.log.Warn("rejects download ended early", "upload", up.ID, "err", err)
				}
			}}, nil
		})
}

// EventRejectsDownloaded is the event recorded for every download of an upload's rejects file:
// its actor is who downloaded, its time when, its detail names the upload.
const EventRejectsDownloaded = "upload.rejects_downloaded"

// ownUpload returns an upload whose progress and report the caller may see: their own (admins
// see all). The rejects file is the uploader's only (see get-upload-rejects).
func (s *Server) ownUpload(ctx context.Context, id string) (Upload, error) {
	up, ok := s.uploads.get(id)
	u := reclaim.UserFrom(ctx)
	if !ok || (up.owner != u.ID && u.Role != reclaim.RoleAdmin) {
		return Upload{}, reclaim.Errorf(reclaim.ENOTFOUND, "upload %s not found", id)
	}
	return up, nil
}

func (s *Server) runImport(id string, in *spill.File, opts ingest.Options) {
	defer s.wg.Done()
	defer in.Remove() // the tape's encrypted copy goes on every path
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
	rw, err := spill.Create(s.cfg.UploadDir)
	if err != nil {
		s.log.Error("cannot create the rejects spill", "upload", id, "err", err)
	} else {
		opts.Rejects = rw
	}
	rep, err := ingest.RunInput(ctx, s.store.IngestStore(), s.sealer, in, opts)
	var rejects *spill.File
	if rw != nil {
		if rep != nil && rep.Invalid > 0 {
			var serr error
			if rejects, serr = rw.Seal(); serr != nil {
				s.log.Error("cannot keep the rejects", "upload", id, "err", serr)
			}
		} else {
			rw.Discard()
		}
	}
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
		u.Status, u.Finished, u.Message, u.Report, u.rejects = status, &now, msg, rep, rejects
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
