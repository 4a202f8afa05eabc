package sqldb

import (
	"context"
	"embed"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrationsFS holds the migrations of both engines: migrations/sqlite/NNNNN_name.sql and
// migrations/postgres/NNNNN_name.sql. Both folders carry the same versions.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationsFS embed.FS

// MigrationStatus is one migration known to the binary and whether the database has it.
type MigrationStatus struct {
	Version   int64     // the NNNNN prefix of the file
	Path      string    // file name inside the dialect's folder
	Applied   bool      // recorded in the goose_db_version table
	AppliedAt time.Time // zero when not applied
}

func (d *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrationsFS, "migrations/"+d.dialect)
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if d.dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, d.w, sub, opts...)
}

// Migrate applies every pending migration in version order, each in its own transaction. It is
// safe to run from several processes at once on PostgreSQL (an advisory lock serialises them) and
// on SQLite (the single writer serialises them). Errors are *reclaim.Error (EINTERNAL).
func (d *DB) Migrate(ctx context.Context) error {
	p, err := d.provider()
	if err != nil {
		return dbError(err, "loading migrations")
	}
	if _, err := p.Up(ctx); err != nil {
		return dbError(err, "applying migrations")
	}
	return d.backfillTxnKeys(ctx)
}

// MigrationStatus lists every migration embedded in the binary, in version order, with whether
// and when it was applied.
func (d *DB) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, err := d.provider()
	if err != nil {
		return nil, dbError(err, "loading migrations")
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, dbError(err, "reading migration status")
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		m := MigrationStatus{Version: s.Source.Version, Path: s.Source.Path, Applied: s.State == goose.StateApplied}
		if m.Applied {
			m.AppliedAt = s.AppliedAt.UTC()
		}
		out = append(out, m)
	}
	return out, nil
}
