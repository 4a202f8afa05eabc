// Package sqldbtest runs database tests against every engine sqldb supports: SQLite always (a
// fresh file per test) and PostgreSQL when RECLAIM_TEST_POSTGRES_DSN is set (a fresh schema per
// test, dropped afterwards). When CI=true and the variable is missing, the PostgreSQL variant
// fails instead of skipping, so that CI cannot silently lose half the suite.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"reclaim/sqldb"
)

// EnvPostgresDSN names the environment variable holding the PostgreSQL test DSN, for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvPostgresDSN = "RECLAIM_TEST_POSTGRES_DSN"

// ForEachEngine runs fn as subtests "sqlite" and "postgres", each with a freshly migrated,
// empty database that is closed and removed when the subtest ends.
func ForEachEngine(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	t.Run(sqldb.SQLite, func(t *testing.T) {
		fn(t, OpenSQLite(t))
	})
	t.Run(sqldb.Postgres, func(t *testing.T) {
		fn(t, OpenPostgres(t))
	})
}

// SQLiteDSN returns the DSN of a new SQLite file in a per-test temporary directory.
func SQLiteDSN(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "reclaim.db")
}

// OpenSQLite opens and migrates a fresh SQLite database, closed at cleanup.
func OpenSQLite(tb testing.TB) *sqldb.DB {
	tb.Helper()
	return Open(tb, SQLiteDSN(tb))
}

// Open opens and migrates the database at dsn, closed at cleanup.
func Open(tb testing.TB, dsn string) *sqldb.DB {
	tb.Helper()
	db, err := sqldb.Open(context.Background(), dsn, sqldb.Options{Migrate: true})
	if err != nil {
		tb.Fatalf("open %s: %v", dsn, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN creates a fresh schema t_<random> in the database named by
// RECLAIM_TEST_POSTGRES_DSN, registers its DROP ... CASCADE for cleanup, and returns a DSN whose
// search_path is that schema. Without the variable it skips the test, or fails it when CI=true.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvPostgresDSN)
	if base == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set; PostgreSQL tests are required in CI", EnvPostgresDSN)
		}
		tb.Skipf("%s not set; skipping PostgreSQL", EnvPostgresDSN)
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", EnvPostgresDSN, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sqldb.Open(context.Background(), base, sqldb.Options{MaxConns: 1})
	if err != nil {
		tb.Fatalf("connect to %s: %v", EnvPostgresDSN, err)
	}
	if err := admin.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
		_, err := tx.Exec(context.Background(), `CREATE SCHEMA `+schema)
		return err
	}); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if err := admin.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
			_, err := tx.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
			return err
		}); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenPostgres opens and migrates a database in a fresh PostgreSQL schema (see PostgresDSN).
func OpenPostgres(tb testing.TB) *sqldb.DB {
	tb.Helper()
	return Open(tb, PostgresDSN(tb))
}

// ForEachEngineDSN is ForEachEngine for tests that open (and reopen) databases themselves: fn
// gets the DSN of an empty, unmigrated database on each engine.
func ForEachEngineDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run(sqldb.SQLite, func(t *testing.T) { fn(t, SQLiteDSN(t)) })
	t.Run(sqldb.Postgres, func(t *testing.T) { fn(t, PostgresDSN(t)) })
}
