package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-runewidth"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"reclaim/pii"
	"reclaim/sqldb"
)

// app is an opened database and keyring.
type app struct {
	db   *sqldb.DB
	keys *pii.Keyring
}

// openApp opens the database (migrating a SQLite database on first use; PostgreSQL is migrated
// explicitly with 'reclaim migrate') and the personal-data keyring, and refuses a key that is not
// the one the database records (key_ids; recorded on first use).
func (g *globals) openApp(ctx context.Context) (*app, error) {
	a, err := g.openAppUnchecked(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.db.BindPIIKey(ctx, a.keys.Fingerprint(), a.keys.KeyID()); err != nil {
		a.Close()
		return nil, fmt.Errorf("personal-data key (%s): %w", a.keys.Source(), err)
	}
	return a, nil
}

// openAppUnchecked is openApp without the key check ('reclaim pii rotate-key' does its own).
func (g *globals) openAppUnchecked(ctx context.Context) (*app, error) {
	dsn := g.resolvedDSN()
	sqlite := !strings.HasPrefix(dsn, "postgres")
	if sqlite {
		if err := os.MkdirAll(g.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("cannot create the data directory %s: %w", g.dataDir, err)
		}
	}
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{Migrate: sqlite})
	if err != nil {
		return nil, err
	}
	keys, err := pii.LoadKey(pii.KeyOptions{File: g.keyFile, DevDir: g.dataDir, AllowDev: true})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &app{db: db, keys: keys}, nil
}

func (a *app) Close() error { return a.db.Close() }

// withApp adapts a command body that needs the database and keyring: it opens them before the
// body and closes them after.
func (g *globals) withApp(fn func(cmd *cobra.Command, args []string, a *app) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a, err := g.openApp(cmd.Context())
		if err != nil {
			return err
		}
		defer a.Close()
		return fn(cmd, args, a)
	}
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table writes aligned columns, measuring Chinese characters as two cells wide.
func table(w io.Writer, header []string, rows [][]string) {
	width := make([]int, len(header))
	all := append([][]string{header}, rows...)
	for _, r := range all {
		for i, c := range r {
			if i < len(width) {
				width[i] = max(width[i], runewidth.StringWidth(c))
			}
		}
	}
	var b strings.Builder
	for _, r := range all {
		b.Reset()
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-runewidth.StringWidth(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f io.Writer) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress shows a progress bar on a terminal, only once the work has taken more than a second.
type progress struct {
	g     *globals
	desc  string
	total int64
	start time.Time
	bar   *progressbar.ProgressBar
}

func (g *globals) newProgress(desc string, total int64) *progress {
	return &progress{g: g, desc: desc, total: total, start: time.Now()}
}

// set moves the bar to n of total (bytes or rows, as the bar was made).
func (p *progress) set(n int64) {
	if p == nil || p.g.quiet || !isTerminal(p.g.stderr) || time.Since(p.start) < time.Second {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(p.total,
			progressbar.OptionSetWriter(p.g.stderr),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set64(n)
}

func (p *progress) done() {
	if p != nil && p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.g.stderr)
	}
}

// checkOutPath refuses output paths with control characters or in a directory that does not exist.
func checkOutPath(path string) error {
	if strings.ContainsAny(path, "\x00\n\r") {
		return usagef("invalid output path %q", path)
	}
	if dir := filepath.Dir(path); dir != "." {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return usagef("output directory %s does not exist", dir)
		}
	}
	return nil
}
