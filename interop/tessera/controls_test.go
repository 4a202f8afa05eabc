package controls_test

// Positive and negative controls for fsck.sh: a Tessera POSIX log written by
// cmd/mklog, served by cmd/serve on 127.0.0.1, must pass Tessera's fsck, and
// every tampered copy must fail. Run with
//
//	go test -v -run Controls .
//
// The first run builds fsck into $RECLAIM_TOOLS_DIR (about a minute on two
// cores); later runs take a few seconds plus the one deliberate timeout case.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

type fixture struct {
	bin    string // directory with mklog and serve
	script string // fsck.sh
}

func goCmd() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	if g, err := exec.LookPath("go"); err == nil {
		return g
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func setup(t *testing.T) fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs Tessera's fsck; skipped in -short mode")
	}
	for _, tool := range []string{"bash", "timeout", "tee", "grep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not available", tool)
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	cmd := exec.Command(goCmd(), "build", "-o", bin+string(filepath.Separator), "./cmd/mklog", "./cmd/serve")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return fixture{bin: bin, script: filepath.Join(wd, "fsck.sh")}
}

type logInfo struct {
	Dir      string `json:"dir"`
	VkeyFile string `json:"vkey_file"`
	Vkey     string `json:"vkey"`
	Origin   string `json:"origin"`
	Size     uint64 `json:"size"`
	Root     string `json:"root"`
}

func (f fixture) mklog(t *testing.T, dir string, n int, extra ...string) logInfo {
	t.Helper()
	skey := dir + ".skey"
	args := append([]string{"-dir", dir, "-n", fmt.Sprint(n), "-skey", skey}, extra...)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(filepath.Join(f.bin, "mklog"), args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mklog %v: %v\n%s", args, err, stderr.String())
	}
	var li logInfo
	if err := json.Unmarshal(stdout.Bytes(), &li); err != nil {
		t.Fatalf("mklog output %q: %v", stdout.String(), err)
	}
	return li
}

// serve starts cmd/serve on dir and returns its base URL and request log.
func (f fixture) serve(t *testing.T, dir, token string) (string, string) {
	t.Helper()
	tmp := t.TempDir()
	addrFile, reqLog := filepath.Join(tmp, "addr"), filepath.Join(tmp, "requests")
	args := []string{"-dir", dir, "-addr-file", addrFile, "-log", reqLog}
	if token != "" {
		args = append(args, "-token", token)
	}
	cmd := exec.Command(filepath.Join(f.bin, "serve"), args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(addrFile); err == nil {
			return strings.TrimSpace(string(b)), reqLog
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("serve did not start")
	return "", ""
}

type result struct {
	rc   int
	out  string
	took time.Duration
}

// fsck runs fsck.sh URL VKEY [ORIGIN] [TOKEN] with extra environment.
func (f fixture) fsck(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{f.script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := result{out: out.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.rc = ee.ExitCode()
	default:
		t.Fatalf("fsck.sh: %v\n%s", err, r.out)
	}
	return r
}

func verdict(out string) string {
	var last string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if strings.Contains(l, "fsck failed:") || strings.HasPrefix(l, "fsck.sh: ") || strings.Contains(l, "panic:") || strings.Contains(l, "] Invalid") || strings.Contains(l, "] Failed") {
			if len(l) > 220 {
				l = l[:220] + "..."
			}
			last += "\n      " + l
		}
	}
	return last
}

func copyLog(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "log")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func flip(t *testing.T, path string, off int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off += len(b)
	}
	b[off] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendTo(t *testing.T, path string, extra []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// entry encodes s as one tlog-tiles bundle entry (uint16 length prefix).
func entry(s string) []byte {
	return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...)
}

func TestControls(t *testing.T) {
	f := setup(t)
	work := t.TempDir()
	good := f.mklog(t, filepath.Join(work, "good"), 1000, "-key-seed", "control")
	t.Logf("fixture: %d entries, root %s, key %s", good.Size, good.Root, good.Vkey)

	// Second key with the same name: a signature under it must not be accepted.
	_, otherVkey, err := note.GenerateKey(nil, good.Origin)
	if err != nil {
		t.Fatal(err)
	}
	otherVkeyFile := filepath.Join(work, "other.vkey")
	if err := os.WriteFile(otherVkeyFile, []byte(otherVkey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	type tc struct {
		name   string
		pass   bool
		tamper func(t *testing.T, dir string) // applied to a copy of the good log
		token  string                         // required by the server
		args   func(url string) []string      // fsck.sh args; default URL VKEY
		env    []string
		paths  []string // request paths that must appear in the server log
	}
	cases := []tc{
		{name: "positive: 1000-entry Tessera log over HTTP", pass: true,
			paths: []string{"/checkpoint", "/tile/entries/000", "/tile/entries/003.p/232", "/tile/0/000", "/tile/0/003.p/232", "/tile/1/000.p/3"}},
		{name: "positive: bearer token required and supplied", pass: true, token: "s3cret",
			args: func(u string) []string { return []string{u, good.VkeyFile, "", "s3cret"} }},
		{name: "positive: explicit ORIGIN equal to key name", pass: true,
			args: func(u string) []string { return []string{u, good.VkeyFile, good.Origin} }},
		{name: "positive: checkpoint also carries a (witness) signature from an unknown key", pass: true,
			tamper: func(t *testing.T, d string) {
				skey, err := os.ReadFile(good.Dir + ".skey")
				if err != nil {
					t.Fatal(err)
				}
				logSigner, err := note.NewSigner(strings.TrimSpace(string(skey)))
				if err != nil {
					t.Fatal(err)
				}
				wskey, _, err := note.GenerateKey(nil, "witness.example/w1")
				if err != nil {
					t.Fatal(err)
				}
				witness, err := note.NewSigner(wskey)
				if err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(d, "checkpoint")
				raw, _ := os.ReadFile(p)
				body := raw[:bytes.Index(raw, []byte("\n\n"))+1]
				signed, err := note.Sign(&note.Note{Text: string(body)}, logSigner, witness)
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(p, signed, 0o644)
			}},
		// fsck v1.0.4 leniencies: these malformed logs PASS. Reclaim's own
		// tests must check these properties; fsck will not.
		{name: "lenient: full bundle tile/entries/000 with an extra 257th entry appended", pass: true,
			tamper: func(t *testing.T, d string) { appendTo(t, filepath.Join(d, "tile/entries/000"), entry("extra")) }},
		{name: "lenient: partial bundle tile/entries/003.p/232 with an extra entry appended", pass: true,
			tamper: func(t *testing.T, d string) { appendTo(t, filepath.Join(d, "tile/entries/003.p/232"), entry("extra")) }},
		{name: "lenient: partial hash tile tile/0/003.p/232 with 32 garbage bytes appended", pass: true,
			tamper: func(t *testing.T, d string) {
				appendTo(t, filepath.Join(d, "tile/0/003.p/232"), bytes.Repeat([]byte{7}, 32))
			}},
		{name: "lenient: partials deleted, only over-long 'full' tile/0/003 and tile/entries/003 served", pass: true,
			tamper: func(t *testing.T, d string) {
				for _, p := range []string{"tile/0/003", "tile/entries/003"} {
					b, err := os.ReadFile(filepath.Join(d, p+".p/232"))
					if err != nil {
						t.Fatal(err)
					}
					if p == "tile/0/003" {
						b = append(b, bytes.Repeat([]byte{9}, 24*32)...)
					} else {
						for i := 0; i < 24; i++ {
							b = append(b, entry(fmt.Sprint("garbage", i))...)
						}
					}
					os.RemoveAll(filepath.Join(d, p+".p"))
					os.WriteFile(filepath.Join(d, p), b, 0o644)
				}
			}},
		{name: "negative: full hash tile tile/0/000 with 32 garbage bytes appended",
			tamper: func(t *testing.T, d string) { appendTo(t, filepath.Join(d, "tile/0/000"), bytes.Repeat([]byte{7}, 32)) }},
		{name: "negative: full bundle tile/entries/000 with one dangling byte appended",
			tamper: func(t *testing.T, d string) { appendTo(t, filepath.Join(d, "tile/entries/000"), []byte{0}) }},
		{name: "negative: full bundle tile/entries/001 missing its last entry (fsck panics)",
			tamper: func(t *testing.T, d string) {
				p := filepath.Join(d, "tile/entries/001")
				b, _ := os.ReadFile(p)
				os.WriteFile(p, b[:len(b)-302], 0o644) // mklog entries are 300 bytes + 2-byte prefix
			}},
		{name: "negative: bearer token required, none supplied", token: "s3cret"},
		{name: "negative: ORIGIN differs from checkpoint origin",
			args: func(u string) []string { return []string{u, good.VkeyFile, "reclaim.example/other-pool"} }},
		{name: "negative: verifier key of another signer with the same name",
			args: func(u string) []string { return []string{u, otherVkeyFile} }},
		{name: "negative: checkpoint size line changed (signature breaks)",
			tamper: func(t *testing.T, d string) {
				p := filepath.Join(d, "checkpoint")
				b, _ := os.ReadFile(p)
				os.WriteFile(p, bytes.Replace(b, []byte("\n1000\n"), []byte("\n999\n"), 1), 0o644)
			}},
		{name: "negative: one entry byte flipped in full bundle tile/entries/000 (N=4)",
			tamper: func(t *testing.T, d string) { flip(t, filepath.Join(d, "tile/entries/000"), 100) }},
		{name: "negative: same bundle flip with FSCK_N=1 (fsck stalls; timeout must fail)",
			env:    []string{"FSCK_N=1", "FSCK_TIMEOUT=5"},
			tamper: func(t *testing.T, d string) { flip(t, filepath.Join(d, "tile/entries/000"), 100) }},
		{name: "negative: one entry byte flipped in partial bundle tile/entries/003.p/232",
			tamper: func(t *testing.T, d string) { flip(t, filepath.Join(d, "tile/entries/003.p/232"), -3) }},
		{name: "negative: length prefix of first entry in tile/entries/001 corrupted",
			tamper: func(t *testing.T, d string) { flip(t, filepath.Join(d, "tile/entries/001"), 0) }},
		{name: "negative: one byte flipped in hash tile tile/0/001",
			tamper: func(t *testing.T, d string) { flip(t, filepath.Join(d, "tile/0/001"), 40) }},
		{name: "negative: one byte flipped in partial level-1 tile tile/1/000.p/3",
			tamper: func(t *testing.T, d string) { flip(t, filepath.Join(d, "tile/1/000.p/3"), 5) }},
		{name: "negative: hash tile tile/0/002 missing (404)",
			tamper: func(t *testing.T, d string) { os.Remove(filepath.Join(d, "tile/0/002")) }},
		{name: "negative: partial bundle missing, no full bundle either",
			tamper: func(t *testing.T, d string) { os.RemoveAll(filepath.Join(d, "tile/entries/003.p")) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := good.Dir
			if c.tamper != nil {
				dir = copyLog(t, good.Dir)
				c.tamper(t, dir)
			}
			url, reqLog := f.serve(t, dir, c.token)
			args := []string{url, good.VkeyFile}
			if c.args != nil {
				args = c.args(url)
			}
			env := c.env
			if !c.pass && len(env) == 0 {
				env = []string{"FSCK_TIMEOUT=20"}
			}
			r := f.fsck(t, env, args...)
			t.Logf("exit %d after %v:%s", r.rc, r.took.Round(time.Millisecond), verdict(r.out))
			if got := r.rc == 0; got != c.pass {
				t.Fatalf("fsck.sh exit %d, want pass=%v; output:\n%s", r.rc, c.pass, r.out)
			}
			if len(c.paths) > 0 {
				b, _ := os.ReadFile(reqLog)
				t.Logf("requests:\n%s", b)
				for _, p := range c.paths {
					if !bytes.Contains(b, []byte("200 "+p+"\n")) {
						t.Errorf("fsck did not fetch %s", p)
					}
				}
			}
		})
	}
}

// TestControlsShapes checks fsck against Tessera logs of edge-case sizes
// (empty, exact tile multiples, three tile levels) and over file://.
func TestControlsShapes(t *testing.T) {
	f := setup(t)
	work := t.TempDir()
	for _, n := range []int{0, 1, 256, 512, 70000} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			li := f.mklog(t, filepath.Join(work, fmt.Sprintf("n%d", n)), n, "-batch", "1024")
			url, reqLog := f.serve(t, li.Dir, "")
			r := f.fsck(t, nil, url, li.VkeyFile)
			b, _ := os.ReadFile(reqLog)
			t.Logf("exit %d after %v, %d requests:%s", r.rc, r.took.Round(time.Millisecond), bytes.Count(b, []byte("\n")), verdict(r.out))
			if r.rc != 0 {
				t.Fatalf("fsck.sh failed:\n%s", r.out)
			}
			if n == 70000 {
				for _, p := range []string{"/tile/2/000.p/1", "/tile/1/000", "/tile/1/001.p/17", "/tile/0/273.p/112", "/tile/entries/273.p/112"} {
					if !bytes.Contains(b, []byte("200 "+p+"\n")) {
						t.Errorf("fsck did not fetch %s", p)
					}
				}
				fr := f.fsck(t, nil, "file://"+li.Dir, li.VkeyFile)
				t.Logf("file:// URL: exit %d after %v", fr.rc, fr.took.Round(time.Millisecond))
				if fr.rc != 0 {
					t.Fatalf("fsck.sh over file:// failed:\n%s", fr.out)
				}
			}
		})
	}
}

// TestControlsKeyNameNotOrigin re-signs a Tessera checkpoint with a key whose
// name differs from the checkpoint's origin line (as a Reclaim deployment
// might do): fsck then needs ORIGIN, because it defaults the origin to the
// key name.
func TestControlsKeyNameNotOrigin(t *testing.T) {
	f := setup(t)
	work := t.TempDir()
	li := f.mklog(t, filepath.Join(work, "log"), 300, "-key-seed", "rename")
	v, err := note.NewVerifier(li.Vkey)
	if err != nil {
		t.Fatal(err)
	}
	cpPath := filepath.Join(li.Dir, "checkpoint")
	raw, err := os.ReadFile(cpPath)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(raw, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := note.GenerateKey(nil, "reclaim-ledger-signing-key-1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: n.Text}, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cpPath, signed, 0o644); err != nil {
		t.Fatal(err)
	}
	vkeyFile := filepath.Join(work, "renamed.vkey")
	if err := os.WriteFile(vkeyFile, []byte(vkey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	url, _ := f.serve(t, li.Dir, "")
	without := f.fsck(t, []string{"FSCK_TIMEOUT=20"}, url, vkeyFile)
	t.Logf("without ORIGIN: exit %d:%s", without.rc, verdict(without.out))
	if without.rc == 0 {
		t.Errorf("fsck passed without ORIGIN although key name %q != origin %q", s.Name(), li.Origin)
	}
	with := f.fsck(t, nil, url, vkeyFile, li.Origin)
	t.Logf("with ORIGIN=%s: exit %d:%s", li.Origin, with.rc, verdict(with.out))
	if with.rc != 0 {
		t.Errorf("fsck failed with explicit ORIGIN:\n%s", with.out)
	}
}
