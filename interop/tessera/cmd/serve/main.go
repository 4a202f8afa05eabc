// Command serve is a plain static file server for a tlog-tiles directory,
// bound to 127.0.0.1, for running fsck.sh against a log on disk.
//
//	serve -dir /tmp/ctl/log -addr-file /tmp/ctl/addr [-token T] [-log /tmp/ctl/requests]
//
// It listens on an ephemeral port unless -addr is given, writes its base URL
// (http://127.0.0.1:PORT/) to -addr-file once listening, and serves until
// killed. With -token, requests without "Authorization: Bearer <token>" get
// 401. With -log, every request path and status is appended to that file, to
// record exactly what a client asked for. Tessera's private .state directory
// is not served.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
)

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(s int) { r.status = s; r.ResponseWriter.WriteHeader(s) }

func main() {
	dir := flag.String("dir", "", "directory to serve")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	addrFile := flag.String("addr-file", "", "write the base URL here once listening")
	token := flag.String("token", "", "require this bearer token")
	logPath := flag.String("log", "", "append 'STATUS PATH' per request to this file")
	flag.Parse()
	if *dir == "" {
		log.Fatal("serve: -dir is required")
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || (host != "127.0.0.1" && host != "::1" && host != "localhost") {
		log.Fatalf("serve: -addr %q must be a loopback address", *addr)
	}
	var (
		mu   sync.Mutex
		reqs *os.File
	)
	if *logPath != "" {
		if reqs, err = os.OpenFile(*logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	files := http.FileServer(http.Dir(*dir))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		switch {
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			http.Error(rec, "method not allowed", http.StatusMethodNotAllowed)
		case *token != "" && r.Header.Get("Authorization") != "Bearer "+*token:
			http.Error(rec, "unauthorized", http.StatusUnauthorized)
		case strings.HasPrefix(r.URL.Path, "/.state"):
			http.NotFound(rec, r)
		default:
			w.Header().Set("Content-Type", "application/octet-stream")
			files.ServeHTTP(rec, r)
		}
		if reqs != nil {
			mu.Lock()
			fmt.Fprintf(reqs, "%d %s\n", rec.status, r.URL.Path)
			mu.Unlock()
		}
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	url := fmt.Sprintf("http://%s/", ln.Addr())
	if *addrFile != "" {
		tmp := *addrFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(url+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(tmp, *addrFile); err != nil {
			log.Fatal(err)
		}
	}
	log.Printf("serve: %s on %s", *dir, url)
	log.Fatal(http.Serve(ln, h))
}
