package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reclaim"
	"reclaim/auth"
	"reclaim/date"
	"reclaim/httpapi"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/tape"
)

// uploadBody builds a multipart upload of data named name.
func uploadBody(name string, data []byte, fields ...string) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func (c *client) upload(name string, data []byte, fields ...string) (*http.Response, httpapi.Upload, []byte) {
	c.f.t.Helper()
	body, ct := uploadBody(name, data, fields...)
	req, _ := http.NewRequest("POST", c.f.ts.URL+"/api/v1/uploads", body)
	req.Header.Set("Content-Type", ct)
	res, err := c.c.Do(req)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var up httpapi.Upload
	json.Unmarshal(b, &up)
	return res, up, b
}

// waitUpload polls the upload until its import has ended.
func (c *client) waitUpload(id string) httpapi.Upload {
	c.f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res, b := c.do("GET", "/api/v1/uploads/"+id, "")
		var up httpapi.Upload
		json.Unmarshal(b, &up)
		if res.StatusCode != 200 {
			c.f.t.Fatalf("upload %s: %d %s", id, res.StatusCode, b)
		}
		if up.Status != httpapi.UploadRunning {
			return up
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.f.t.Fatalf("upload %s still running", id)
	return httpapi.Upload{}
}

// secrets returns personal values of a tape (national IDs, phones and names of its first rows)
// and its header line: none of them may ever be found in a file the server writes.
func secrets(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	layout, err := tape.NewLayout(rows[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{strings.Join(rows[0], ",")}
	for _, fld := range []tape.Field{tape.FNationalID, tape.FPhone, tape.FName, tape.FAddress} {
		b := layout.Bindings[fld]
		if b == nil || b.Column < 0 {
			t.Fatalf("the test tape has no %v column", fld)
		}
		for _, r := range rows[1:min(len(rows), 40)] {
			if v := strings.TrimSpace(r[b.Column]); len([]rune(v)) >= 3 {
				out = append(out, v)
			}
		}
	}
	return out
}

// fileSet lists the regular files under the dirs.
func fileSet(t *testing.T, dirs ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				out[p] = true
			}
			return nil
		})
	}
	return out
}

// checkNoPlaintext fails if a file under dirs that was not in before holds any of the secrets.
func checkNoPlaintext(t *testing.T, before map[string]bool, secrets []string, dirs ...string) {
	t.Helper()
	for p := range fileSet(t, dirs...) {
		if before[p] {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue // removed meanwhile
		}
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds tape plaintext %q", p, s)
				break
			}
		}
	}
}

func spillFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.spill"))
	return m
}

// TestUploadLeavesNoPlaintext uploads tapes that import, that fail, and that the client abandons
// mid-body, with TMPDIR pointed at a directory of the test's own. After each, no file in TMPDIR or
// in the upload directory holds tape plaintext (the multipart spill in clear of Go's
// ParseMultipartForm is gone), and only a failed import's rejects file remains, encrypted.
func TestUploadLeavesNoPlaintext(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		c := f.as(reclaim.RoleAnalyst)
		good := f.writeTape("good-upload.csv", 2000, nil)
		bad := f.writeTape("bad-upload-tape.csv", 2000, map[string]float64{"claim_sum": 0.01, "mobile": 0.01})
		sec := append(secrets(t, good), secrets(t, bad)...)
		// The tapes exist before the snapshot, so only what the server writes is checked.
		before := fileSet(t, tmp, f.dir)

		data, _ := os.ReadFile(good)
		res, up, b := c.upload("good.csv", data, "seller", "Bank G")
		if res.StatusCode != 202 {
			t.Fatalf("upload: %d %s", res.StatusCode, b)
		}
		if up = c.waitUpload(up.ID); up.Status != httpapi.UploadDone {
			t.Fatalf("good tape: %+v", up)
		}
		checkNoPlaintext(t, before, sec, tmp, f.dir)
		if s := spillFiles(t, f.dir); len(s) != 0 {
			t.Errorf("after a successful import: spill files %v", s)
		}
		if res, _ := c.do("GET", "/api/v1/uploads/"+up.ID+"/rejects.csv", ""); res.StatusCode != 404 {
			t.Errorf("rejects of a clean import: %d", res.StatusCode)
		}

		data, _ = os.ReadFile(bad)
		res, up, b = c.upload("bad.csv", data)
		if res.StatusCode != 202 {
			t.Fatalf("upload: %d %s", res.StatusCode, b)
		}
		if up = c.waitUpload(up.ID); up.Status != httpapi.UploadFailed || up.Report == nil || up.Report.Invalid == 0 {
			t.Fatalf("bad tape: %+v", up)
		}
		checkNoPlaintext(t, before, sec, tmp, f.dir)
		if s := spillFiles(t, f.dir); len(s) != 1 {
			t.Errorf("after a failed import: spill files %v, want the rejects only", s)
		}
		if strings.Contains(string(b), f.dir) || strings.Contains(string(b), "rejects_file") {
			t.Errorf("the upload reveals a server path: %s", b)
		}

		// A client that goes away mid-body: a raw request announces the whole tape and sends half.
		body, ct := uploadBody("cut.csv", data)
		conn, err := net.Dial("tcp", strings.TrimPrefix(f.ts.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		var cookie string
		for _, ck := range c.c.Jar.Cookies(mustURL(f.ts.URL)) {
			cookie += ck.Name + "=" + ck.Value + "; "
		}
		fmt.Fprintf(conn, "POST /api/v1/uploads HTTP/1.1\r\nHost: x\r\nCookie: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
			cookie, ct, body.Len())
		conn.Write(body.Bytes()[:body.Len()/2])
		time.Sleep(200 * time.Millisecond) // the server is now writing the spill
		conn.Close()
		deadline := time.Now().Add(10 * time.Second)
		for len(spillFiles(t, f.dir)) != 1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if s := spillFiles(t, f.dir); len(s) != 1 {
			t.Errorf("after an abandoned upload: spill files %v, want the earlier rejects only", s)
		}
		checkNoPlaintext(t, before, sec, tmp, f.dir)

		// A form that fails validation after the file part: nothing kept either.
		res, _, b = c.upload("late.csv", data, "skip_invalid", "maybe")
		if res.StatusCode != 400 {
			t.Errorf("bad skip_invalid: %d %s", res.StatusCode, b)
		}
		if s := spillFiles(t, f.dir); len(s) != 1 {
			t.Errorf("after a refused form: spill files %v", s)
		}
		for p := range fileSet(t, tmp) {
			if !before[p] && !strings.HasPrefix(p, f.dir+string(filepath.Separator)) { // f.dir is the upload dir
				t.Errorf("new file in TMPDIR: %s", p)
			}
		}
	})
}

// TestStaleSpillRemovedAtStart: spill files (and clear-text spools of earlier versions) in the
// upload directory are left from a run that ended without cleaning up; a new server removes them.
func TestStaleSpillRemovedAtStart(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	dir := t.TempDir()
	stale := []string{"reclaim-00112233445566778899aabb.spill", "reclaim-upload-0011223344556677.csv", "reclaim-rejects-0011223344556677.csv"}
	for _, n := range append(stale, "operator-notes.txt") {
		os.WriteFile(filepath.Join(dir, n), []byte("张三,110101199003077777"), 0o600)
	}
	if _, err := httpapi.New(httpapi.Config{UploadDir: dir}, sqldb.KeyedDB{DB: f.db}, nil, f.broker); err != nil {
		t.Fatal(err)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s survived the start", n)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "operator-notes.txt")); err != nil {
		t.Errorf("a file that is not a spill was removed: %v", err)
	}
}

// TestRejectsDownload: the rejects file is the uploader's alone (another analyst and an admin get
// 404), every download is recorded (who, when, which upload) before it is served, personal cells
// are masked and no cell is a live formula.
func TestRejectsDownload(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		bad := f.writeTape("rejects-tape.csv", 500, map[string]float64{"claim_sum": 0.05, "national_id": 0.05})
		sec := secrets(t, bad)
		data, _ := os.ReadFile(bad)
		owner := f.as(reclaim.RoleAnalyst)
		res, up, b := owner.upload("r.csv", data)
		if res.StatusCode != 202 {
			t.Fatalf("upload: %d %s", res.StatusCode, b)
		}
		up = owner.waitUpload(up.ID)
		path := "/api/v1/uploads/" + up.ID + "/rejects.csv"

		h, _ := auth.HashWith(testPassword, cheap)
		db.CreateUser(ctx, reclaim.User{Username: "analyst2", Role: reclaim.RoleAnalyst, PasswordHash: h})
		other := f.anon()
		other.do("POST", "/api/v1/auth/login", `{"username":"analyst2","password":"`+testPassword+`"}`)
		for who, c := range map[string]*client{"another analyst": other, "an admin": f.as(reclaim.RoleAdmin)} {
			if res, b := c.do("GET", path, ""); res.StatusCode != 404 {
				t.Errorf("%s downloads the rejects: %d %s", who, res.StatusCode, truncate(b))
			}
		}
		evs, _ := db.ListEvents(ctx, 0, 100)
		for _, e := range evs {
			if e.Type == httpapi.EventRejectsDownloaded {
				t.Fatalf("a refused download was recorded: %+v", e)
			}
		}

		res, body := owner.do("GET", path, "")
		if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("owner's download: %d %v", res.StatusCode, res.Header)
		}
		for _, s := range sec[1:] {
			if strings.Contains(string(body), s) {
				t.Errorf("the rejects file holds personal data in clear: %q", s)
			}
		}
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
		if err != nil || int64(len(rows)-1) != up.Report.Invalid {
			t.Fatalf("rejects: %d rows for %d invalid, %v", len(rows)-1, up.Report.Invalid, err)
		}
		for _, r := range rows {
			for _, c := range r {
				if c != "" && strings.ContainsRune("=+@\t\r", rune(c[0])) {
					t.Errorf("live formula cell %q", c)
				}
			}
		}
		evs, err = db.ListEvents(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []reclaim.Event
		for _, e := range evs {
			if e.Type == httpapi.EventRejectsDownloaded {
				got = append(got, e)
			}
		}
		if len(got) != 1 || got[0].Actor != "user:analyst1" || !strings.Contains(got[0].Detail, up.ID) || got[0].At.IsZero() {
			t.Fatalf("audit of the download: %+v", got)
		}
	})
}

// FuzzUploadForm posts arbitrary multipart bodies to the upload route: never a 5xx, always an
// error code when refused, and a refused body leaves no spill file behind.
func FuzzUploadForm(f *testing.F) {
	db := sqldbtest.OpenSQLite(f)
	keys, _ := pii.LoadKey(pii.KeyOptions{DevDir: f.TempDir(), AllowDev: true})
	dir := f.TempDir()
	srv, err := httpapi.New(httpapi.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), UploadDir: dir},
		sqldb.KeyedDB{DB: db, Keys: keys}, keys, nil)
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	u, err := db.CreateUser(context.Background(), reclaim.User{Username: "fuzzer", Role: reclaim.RoleAnalyst, PasswordHash: "x"})
	if err != nil {
		f.Fatal(err)
	}
	tok, hash, _ := auth.NewToken()
	if _, err := db.CreateToken(context.Background(), u.ID, "fuzz", hash); err != nil {
		f.Fatal(err)
	}
	const boundary = "B0UNDARY"
	part := func(name, file, body string) string {
		disp := `form-data; name="` + name + `"`
		if file != "" {
			disp += `; filename="` + file + `"`
		}
		return "--" + boundary + "\r\nContent-Disposition: " + disp + "\r\n\r\n" + body + "\r\n"
	}
	end := "--" + boundary + "--\r\n"
	for _, s := range []string{
		part("file", "t.csv", "loan_id\nL1\n") + end,
		part("file", "t.csv", "loan_id\nL1\n") + part("skip_invalid", "", "yes") + end,
		part("seller", "", "Bank") + end,
		part("file", "t.exe", "MZ") + end,
		part("mapping", "m.yaml", "columns: [") + part("file", "t.csv", "a\n1\n") + end,
		part("file", "t.csv", "loan_id\nL1\n"), // no closing boundary
		part("other", "", "x") + end,
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		before, _ := filepath.Glob(filepath.Join(dir, "*.spill"))
		req := httptest.NewRequest("POST", "/api/v1/uploads", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code == 202 {
			// Let the import end, so that no background work changes the directory.
			var up httpapi.Upload
			json.Unmarshal(rec.Body.Bytes(), &up)
			for i := 0; i < 1000; i++ {
				r := httptest.NewRequest("GET", "/api/v1/uploads/"+up.ID, nil)
				r.Header.Set("Authorization", "Bearer "+tok)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				json.Unmarshal(w.Body.Bytes(), &up)
				if up.Status != httpapi.UploadRunning {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			return
		}
		if errorCode(rec.Body.Bytes()) == "" {
			t.Fatalf("%d without an error code for %q: %s", rec.Code, body, rec.Body)
		}
		after, _ := filepath.Glob(filepath.Join(dir, "*.spill"))
		if len(after) > len(before) {
			t.Fatalf("a refused upload (%d) left a spill file: %v", rec.Code, after)
		}
	})
}

// TestUploadXLSX: a workbook is imported through the encrypted spill (the XLSX reader seeks in it
// through io.ReaderAt), and the spill is gone afterwards.
func TestUploadXLSX(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		var buf bytes.Buffer
		cfg := synth.Config{Seed: 77, Loans: 1500, PortfolioRef: "PKG-XLSX", CutOff: date.Of(2025, 6, 30), Profile: synth.BankMixed}
		if _, err := synth.WriteTape(context.Background(), cfg, &buf, nil, synth.TapeOptions{Format: "xlsx", Chinese: true, IncludePersonal: true}, nil); err != nil {
			t.Fatal(err)
		}
		c := f.as(reclaim.RoleAnalyst)
		res, up, b := c.upload("贷款.xlsx", buf.Bytes())
		if res.StatusCode != 202 {
			t.Fatalf("upload: %d %s", res.StatusCode, b)
		}
		up = c.waitUpload(up.ID)
		if up.Status != httpapi.UploadDone || up.Report == nil || up.Report.Imported != 1500 || up.Report.Format != "xlsx" {
			t.Fatalf("xlsx upload: %s %s %+v", up.Status, up.Message, up.Report)
		}
		if s := spillFiles(t, f.dir); len(s) != 0 {
			t.Errorf("spill files left: %v", s)
		}
	})
}

// TestShutdownRemovesRejects: a graceful stop deletes the encrypted rejects files, whose keys are
// about to die with the process.
func TestShutdownRemovesRejects(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	c := f.as(reclaim.RoleAnalyst)
	data, _ := os.ReadFile(f.writeTape("stop.csv", 300, map[string]float64{"claim_sum": 0.05}))
	res, up, b := c.upload("stop.csv", data)
	if res.StatusCode != 202 {
		t.Fatalf("upload: %d %s", res.StatusCode, b)
	}
	if up = c.waitUpload(up.ID); up.Status != httpapi.UploadFailed || len(spillFiles(t, f.dir)) != 1 {
		t.Fatalf("want a failed upload with its rejects: %s, spills %v", up.Status, spillFiles(t, f.dir))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(ctx, ln) }()
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if s := spillFiles(t, f.dir); len(s) != 0 {
		t.Errorf("spill files after shutdown: %v", s)
	}
}

// TestUploadXLSXBomb: a workbook whose header cell unpacks to 64 MiB is refused by the import with
// the limit named, and its spill is removed.
func TestUploadXLSXBomb(t *testing.T) {
	f := newFixture(t, sqldbtest.OpenSQLite(t))
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range map[string]string{
		"xl/workbook.xml":            `<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/s.xml"/></Relationships>`,
	} {
		w, _ := zw.Create(name)
		io.WriteString(w, body)
	}
	w, _ := zw.Create("xl/worksheets/s.xml")
	io.WriteString(w, `<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>`)
	chunk := bytes.Repeat([]byte("A"), 1<<20)
	for range 64 {
		w.Write(chunk)
	}
	io.WriteString(w, `</t></is></c></row></sheetData></worksheet>`)
	zw.Close()
	c := f.as(reclaim.RoleAnalyst)
	res, up, body := c.upload("bomb.xlsx", b.Bytes())
	if res.StatusCode != 202 {
		t.Fatalf("upload: %d %s", res.StatusCode, body)
	}
	up = c.waitUpload(up.ID)
	if up.Status != httpapi.UploadFailed || !strings.Contains(up.Message, "limit of 131072 bytes") {
		t.Fatalf("bomb: %s %q", up.Status, up.Message)
	}
	if s := spillFiles(t, f.dir); len(s) != 0 {
		t.Errorf("spill files left: %v", s)
	}
}
