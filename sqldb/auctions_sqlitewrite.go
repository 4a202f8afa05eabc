package sqldb

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// The bid batcher's INSERT of market_events on SQLite, below database/sql (issue 14; the
// import's sqliteWriter, sqlite_importwrite.go, does the same for loans). Through the driver,
// the batch's multi-row INSERT had SQL of its own for every batch size, so it was prepared again
// for nearly every transaction; every text argument was copied into memory of its own and freed
// again; and a multi-row INSERT into a table with a unique key and a foreign key may fail
// half-way, so SQLite kept a statement journal for it (a copy of every page the statement
// touched). Here one single-row INSERT is prepared once on the writer connection's own handle
// and stepped once per record: a one-row statement never needs a statement journal (nothing of
// it is left to undo when it fails), and its texts are bound as views of one buffer holding all
// the batch's text bytes. The values bound are those the driver binds for the same record (a
// bool as 0 or 1, an absent amount or key as NULL); TestMarketEventsRawMatchesDriver compares
// what the two paths store.

// marketEventCols is market_events' columns in the order the batcher writes them.
const marketEventCols = "auction_id, seq, at, type, bidder, amount_minor, idem_key, accepted, rule, reason, actor"

// errNoRawHandle says the writer connection's SQLite handle cannot be read (another driver or a
// changed layout): the batcher writes through database/sql.
var errNoRawHandle = errors.New("sqldb: no raw SQLite handle")

// marketDriverInsert makes the batcher write through database/sql on SQLite too (tests compare
// the two paths).
var marketDriverInsert atomic.Bool

// eventVals appends the records' values (marketEventCols' order) to s as the driver would
// receive them from writeGroups' database/sql path; it reports text that Tx.Exec would refuse.
func (m *Market) eventVals(s *sqliteVals, all []*pendingEvent) error {
	for _, p := range all {
		s.int(p.la.id)
		s.int(p.seq)
		s.text(m.db.instant(p.rec.At).(string))
		s.text(string(p.rec.Event.Type))
		s.text(p.rec.Event.Bidder)
		s.minor(p.rec.Event.Amount)
		s.textOrNull(p.rec.Event.Key)
		s.bool(p.rec.Result.Accepted)
		s.text(p.rec.Result.Rule)
		s.text(truncate(p.rec.Result.Reason, 1000))
		s.text(p.actor)
	}
	// What checkArgs refuses on Tx.Exec: text that is not UTF-8 or holds a NUL.
	for i, v := range s.v {
		if v.kind != valText {
			continue
		}
		b := s.bytes[v.i : v.i+int64(v.n)]
		if !utf8.Valid(b) {
			return errBadText(i%11+1, "is not valid UTF-8")
		}
		for _, c := range b {
			if c == 0 {
				return errBadText(i%11+1, "contains a NUL character")
			}
		}
	}
	return nil
}

// rawWriter returns the batcher's writer on the driver connection dc (inside tx.raw), opening
// it on first use or when the pool replaced the connection; nil when the handle cannot be read.
func (m *Market) rawWriter(dc any) *sqliteWriter {
	h, ok := sqliteHandle(dc)
	if !ok {
		return nil
	}
	if m.ew != nil && m.ew.db != h {
		// The pool replaced the writer connection: the old handle is closed (a zombie until
		// its statements are finalized, which close does).
		m.ew.close()
		m.ew = nil
	}
	if m.ew == nil {
		m.ew = openSQLiteWriter(dc)
	}
	return m.ew
}

// stepEach binds and steps st once per ncols values of s (texts as views of s.bytes, loaded
// into the writer's buffer) and returns the rows the steps changed.
func stepEach(ctx context.Context, w *sqliteWriter, st uintptr, s *sqliteVals, ncols int) (int64, error) {
	if err := w.load(s.bytes); err != nil {
		return 0, err
	}
	var changed int64
	for i := 0; i < len(s.v); i += ncols {
		if i%(ncols*64) == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		n, err := w.exec(st, s.v[i:i+ncols])
		if err != nil {
			return 0, err
		}
		changed += n
	}
	return changed, nil
}

// insertEventsRaw inserts the records on the transaction's connection (tx begun by writeTxConn)
// with the batcher's prepared one-row INSERT. Only the batcher goroutine calls it. It returns
// errNoRawHandle, having written nothing, when the handle cannot be read.
func (m *Market) insertEventsRaw(ctx context.Context, tx *Tx, all []*pendingEvent) error {
	if marketDriverInsert.Load() {
		return errNoRawHandle
	}
	s := &m.evVals
	s.reset()
	if err := m.eventVals(s, all); err != nil {
		return err
	}
	return tx.raw(func(dc any) error {
		w := m.rawWriter(dc)
		if w == nil {
			return errNoRawHandle
		}
		st, err := w.stmt("market_events", marketEventCols, 11, 1)
		if err != nil {
			return err
		}
		_, err = stepEach(ctx, w, st, s, 11)
		return err
	})
}

// advanceRaw runs advanceSQL for the groups with a statement prepared once per number of
// auctions on the transaction's connection, and returns the rows it updated. It returns
// errNoRawHandle, having run nothing, when the handle cannot be read.
func (m *Market) advanceRaw(ctx context.Context, tx *Tx, groups [][]*pendingEvent) (int64, error) {
	if marketDriverInsert.Load() || len(groups) >= len(m.advance) {
		return 0, errNoRawHandle
	}
	s := &m.evVals
	s.reset()
	for _, g := range groups {
		last := g[len(g)-1]
		s.int(last.la.id)
		s.int(last.seq)
		s.text(m.db.instant(last.end).(string))
		s.int(g[0].seq - 1)
	}
	var n int64
	err := tx.raw(func(dc any) error {
		w := m.rawWriter(dc)
		if w == nil {
			return errNoRawHandle
		}
		st, err := w.prepared(stmtKey{"market_auctions advance", len(groups)}, func() string { return m.advanceSQL(len(groups)) })
		if err != nil {
			return err
		}
		// One statement of 4 x len(groups) parameters: bind them all, step once.
		if err := w.load(s.bytes); err != nil {
			return err
		}
		n, err = w.exec(st, s.v)
		return err
	})
	return n, err
}

// closeEventWriter finalizes the batcher's prepared statement (after the batcher stopped).
func (m *Market) closeEventWriter() {
	if m.ew == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w := m.ew
	m.ew = nil
	conn, err := m.db.w.Conn(ctx)
	if err != nil {
		if ctx.Err() == nil {
			// The database is closed: its handle is a zombie until the statements are
			// finalized, and nobody else can use it any more.
			w.close()
		}
		// Otherwise the connection stayed busy (an import holds it): the statements are left
		// to the connection's close rather than finalized under another user of the handle.
		return
	}
	defer conn.Close()
	conn.Raw(func(any) error { w.close(); return nil })
}
