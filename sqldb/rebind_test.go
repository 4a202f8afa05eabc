package sqldb

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"reclaim"
)

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT ?", "SELECT $1"},
		{"INSERT INTO t (a, b) VALUES (?, ?)", "INSERT INTO t (a, b) VALUES ($1, $2)"},
		{"SELECT '?' FROM t WHERE a = ?", "SELECT '?' FROM t WHERE a = $1"},
		{"SELECT 'it''s ?' , ?", "SELECT 'it''s ?' , $1"},
		{`SELECT E'\'?' , ?`, `SELECT E'\'?' , $1`},
		{`SELECT "col?" FROM t WHERE x = ?`, `SELECT "col?" FROM t WHERE x = $1`},
		{"SELECT ? -- what?\n, ?", "SELECT $1 -- what?\n, $2"},
		{"SELECT /* ? */ ?", "SELECT /* ? */ $1"},
		{"SELECT $$ ? $$, ?", "SELECT $$ ? $$, $1"},
		{"SELECT $tag$ it's ? $tag$, ?", "SELECT $tag$ it's ? $tag$, $1"},
		{"SELECT data ?? 'k', ?", "SELECT data ? 'k', $1"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
		{"SELECT name'?'", "SELECT name'?'"}, // e.g. a typed literal; not an E string
		{"SELECT 名字 FROM t WHERE a = ? AND b = '值?'", "SELECT 名字 FROM t WHERE a = $1 AND b = '值?'"},
	}
	for _, tt := range tests {
		if got := Rebind(Postgres, tt.in); got != tt.want {
			t.Errorf("Rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Rebind(SQLite, tt.in); got != tt.in {
			t.Errorf("Rebind(sqlite, %q) changed the query to %q", tt.in, got)
		}
	}
	// Many placeholders.
	q, want := "", ""
	for i := 1; i <= 120; i++ {
		q += "?,"
		want += fmt.Sprintf("$%d,", i)
	}
	if got := Rebind(Postgres, q); got != want {
		t.Errorf("120 placeholders: got %q", got)
	}
}

func FuzzRebind(f *testing.F) {
	f.Add("SELECT ? FROM t WHERE a = '?' AND b = ?")
	f.Add("$$?$$ $a$ ? $a$ -- ?\n /* ? */ ?")
	f.Add("a ?? b ? c")
	f.Fuzz(func(t *testing.T, q string) {
		out := Rebind(Postgres, q)
		if strings.ContainsAny(q, "'\"-/$") {
			return // quoting and comments: covered by TestRebind; here only "never panics"
		}
		// Without quotes or comments every ? is a placeholder, numbered in order, and ?? is a ?.
		var want strings.Builder
		n := 0
		for i := 0; i < len(q); i++ {
			switch {
			case q[i] == '?' && i+1 < len(q) && q[i+1] == '?':
				want.WriteByte('?')
				i++
			case q[i] == '?':
				n++
				fmt.Fprintf(&want, "$%d", n)
			default:
				want.WriteByte(q[i])
			}
		}
		if out != want.String() {
			t.Fatalf("Rebind(%q) = %q, want %q", q, out, want.String())
		}
	})
}

func TestRetryable(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "40001"}, true},
		{&pgconn.PgError{Code: "40P01"}, true},
		{fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "40001"}), true},
		{reclaim.WrapError(reclaim.EINTERNAL, &pgconn.PgError{Code: "40P01"}, "x"), true},
		{&pgconn.PgError{Code: "23505"}, false},
		{errors.New("other"), false},
	} {
		if got := retryable(tt.err); got != tt.want {
			t.Errorf("retryable(%v) = %v", tt.err, got)
		}
	}
	if !isUniqueViolation(&pgconn.PgError{Code: "23505"}) {
		t.Error("23505 is a unique violation")
	}
	if c := reclaim.ErrorCode(dbError(&pgconn.PgError{Code: "23505"}, "x")); c != reclaim.ECONFLICT {
		t.Errorf("unique violation maps to %s", c)
	}
}
