package httpapi

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

const notBuilt = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Reclaim: console not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;color:#1f2d3d}code{background:#f2f4f7;padding:.1em .3em}</style>
</head><body><h1>Reclaim</h1><p>The API is running, but this binary was built without the web console.</p>
<p>Build it and rebuild the binary:</p><pre><code>cd web &amp;&amp; npm ci &amp;&amp; npm run build
cd .. &amp;&amp; make build</code></pre><p>(<code>make demo</code> does both.) The API is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
<p lang="zh-CN">控制台尚未构建：请在 web 目录运行 <code>npm ci &amp;&amp; npm run build</code>，然后重新构建二进制文件。</p></body></html>`

// webHandler serves the console: hashed assets with immutable caching, other paths fall back to
// index.html (client-side routes), and a page explaining how to build the console when it is
// missing. Unknown /api paths get a JSON 404.
func (s *Server) webHandler() http.Handler {
	files := s.cfg.Web
	built := false
	if files != nil {
		if _, err := fs.Stat(files, "index.html"); err == nil {
			built = true
		}
	}
	fileServer := http.FileServer(http.FS(orEmpty(files)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeError(w, &ErrorBody{Status: http.StatusNotFound, Code: "not_found", Message: "no such API route"})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, &ErrorBody{Status: http.StatusMethodNotAllowed, Code: "not_supported", Message: "method not allowed"})
			return
		}
		if !built {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(notBuilt))
			return
		}
		p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if p != "" && p != "index.html" {
			if st, err := fs.Stat(files, p); err == nil && !st.IsDir() {
				if strings.HasPrefix(p, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				fileServer.ServeHTTP(w, r)
				return
			}
			if path.Ext(p) != "" { // a missing asset, not a client route
				http.NotFound(w, r)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-cache")
		index, err := fs.ReadFile(files, "index.html")
		if err != nil {
			http.Error(w, "console unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(index)
	})
}

type emptyFS struct{}

func (emptyFS) Open(string) (fs.File, error) { return nil, fs.ErrNotExist }

func orEmpty(f fs.FS) fs.FS {
	if f == nil {
		return emptyFS{}
	}
	return f
}
