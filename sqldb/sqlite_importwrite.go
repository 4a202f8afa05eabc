package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// The import's INSERTs on SQLite, below database/sql. Through the driver, every text and blob
// argument of a multi-row INSERT is copied into memory of its own from SQLite's allocator (one
// malloc and one free per value, each behind the emulated pthread mutex), and unbound again
// after the step: a sixth of a 1M-loan import's CPU. Here the session prepares its statements
// once on the connection's own handle (the import holds the connection and its transaction),
// the row builder writes each table's values into a sqliteVals (integers and NULLs as they are,
// every text and blob byte one after the other in a single Go buffer), and a flush copies that
// buffer into one libc buffer, reused for the whole session, and binds the texts and blobs as
// views of it (SQLITE_STATIC: SQLite neither copies nor frees them). The values bound are exactly
// those the driver binds for the same rows: NULL, int64, a bool as 0 or 1, a text (the empty
// string too) and a blob (nil is NULL); sqldb/import_rawbind_test.go compares what the two paths
// store.
//
// The handle is the driver connection's own (modernc.org/sqlite's conn.db), read by reflection
// because the driver does not export it; when it cannot be read (another driver, a changed
// layout) the import binds through the driver as before.

// sqliteVal is one bound value: kind, and the integer or the text's offset and length in the
// sqliteVals' bytes.
type sqliteVal struct {
	kind uint8
	n    int32
	i    int64
}

const (
	valNull uint8 = iota
	valInt
	valText
	valBlob
)

// sqliteVals holds the values of rows of one table, in column order.
type sqliteVals struct {
	v     []sqliteVal
	bytes []byte
}

func (s *sqliteVals) reset()   { s.v, s.bytes = s.v[:0], s.bytes[:0] }
func (s *sqliteVals) len() int { return len(s.v) }
func (s *sqliteVals) null()    { s.v = append(s.v, sqliteVal{kind: valNull}) }

func (s *sqliteVals) int(i int64) { s.v = append(s.v, sqliteVal{kind: valInt, i: i}) }

// bool binds as the driver binds a bool: the integer 0 or 1.
func (s *sqliteVals) bool(b bool) {
	var i int64
	if b {
		i = 1
	}
	s.int(i)
}

// text appends s as text ("" is the empty text, not NULL).
func (s *sqliteVals) text(x string) {
	s.v = append(s.v, sqliteVal{kind: valText, n: int32(len(x)), i: int64(len(s.bytes))})
	s.bytes = append(s.bytes, x...)
}

// textBytes appends b as text.
func (s *sqliteVals) textBytes(b []byte) {
	s.v = append(s.v, sqliteVal{kind: valText, n: int32(len(b)), i: int64(len(s.bytes))})
	s.bytes = append(s.bytes, b...)
}

// textOrNull is textArg: NULL for the empty string.
func (s *sqliteVals) textOrNull(x string) {
	if x == "" {
		s.null()
		return
	}
	s.text(x)
}

// blob appends b as a blob; nil is NULL (as the driver binds it), an empty non-nil slice the
// empty blob.
func (s *sqliteVals) blob(b []byte) {
	if b == nil {
		s.null()
		return
	}
	s.v = append(s.v, sqliteVal{kind: valBlob, n: int32(len(b)), i: int64(len(s.bytes))})
	s.bytes = append(s.bytes, b...)
}

// minor is minorArg.
func (s *sqliteVals) minor(a money.Amount) {
	if a.IsAbsent() {
		s.null()
		return
	}
	s.int(a.Minor())
}

// count is countArg.
func (s *sqliteVals) count(n int) {
	if n < 0 {
		s.null()
		return
	}
	s.int(int64(n))
}

// args returns the values as driver arguments (the path through the driver), the same values
// the raw path binds.
func (s *sqliteVals) args() []any {
	out := make([]any, len(s.v))
	for i, v := range s.v {
		switch v.kind {
		case valInt:
			out[i] = v.i
		case valText:
			out[i] = string(s.bytes[v.i : v.i+int64(v.n)])
		case valBlob:
			out[i] = append([]byte{}, s.bytes[v.i:v.i+int64(v.n)]...)
		}
	}
	return out
}

// appendLoanVals appends the loan's column values (loanColumns' order) as appendLoan gives them
// to the driver on SQLite.
func (imp *Import) appendLoanVals(s *sqliteVals, pid, bid int64, l *reclaim.Loan) error {
	day := func(d date.Date) {
		if v := imp.dateValue(d); v == nil {
			s.null()
		} else {
			s.text(v.(string))
		}
	}
	by, age := imp.storedBirth(l) // the birth year, never the birth date
	s.int(pid)
	s.int(bid)
	s.text(l.LoanID)
	s.text(l.BorrowerID)
	s.textOrNull(string(l.ProductType))
	day(l.OriginationDate)
	s.minor(l.OriginalAmount)
	s.text(string(l.Currency))
	s.minor(l.PrincipalOutstanding)
	s.minor(l.InterestOutstanding)
	s.minor(l.FeesOutstanding)
	s.minor(l.TotalClaim)
	day(l.DefaultDate)
	s.int(int64(l.DaysPastDue))
	s.textOrNull(string(l.FiveCategory))
	s.bool(l.WrittenOff)
	day(l.WriteOffDate)
	s.textOrNull(string(l.SecurityType))
	day(l.LastPaymentDate)
	s.minor(l.LastPaymentAmount)
	s.textOrNull(string(l.LegalStatus))
	day(l.LegalStartDate)
	s.textOrNull(l.Court)
	day(l.LimitationExpiryDate)
	if by > 0 {
		s.int(int64(by))
	} else {
		s.null()
	}
	s.count(age)
	s.textOrNull(l.RegionCode)
	s.bool(l.Deceased)
	s.bool(l.Bankrupt)
	s.bool(l.PhoneAvailable)
	day(l.LastContactDate)
	s.count(l.ForbearanceCount)
	s.bool(l.RepaymentPlanActive)
	s.int(int64(l.AgencyPlacements))
	s.bool(l.ComplaintFlag)
	if len(l.Extras) == 0 {
		s.null()
		return nil
	}
	b, err := json.Marshal(l.Extras)
	if err != nil {
		return err
	}
	s.textBytes(b)
	return nil
}

// sqliteWriter is the session's statements on the connection's handle and the libc buffer the
// texts and blobs are bound from.
type sqliteWriter struct {
	tls   *libc.TLS
	db    uintptr
	stmts map[stmtKey]uintptr
	buf   uintptr // libc memory, bufN bytes (at least 1, so that no text is bound from NULL)
	bufN  int
}

// sqliteHandle returns the sqlite3* of a modernc.org/sqlite driver connection.
func sqliteHandle(dc any) (uintptr, bool) {
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return 0, false
	}
	e := v.Elem()
	if e.Kind() != reflect.Struct || e.Type().PkgPath() != "modernc.org/sqlite" || e.Type().Name() != "conn" {
		return 0, false
	}
	f := e.FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Uintptr || f.Uint() == 0 {
		return 0, false
	}
	return uintptr(f.Uint()), true
}

// openSQLiteWriter returns a writer on the session's connection, or nil when the handle cannot
// be read (the import then binds through the driver). Called inside conn.Raw.
func openSQLiteWriter(dc any) *sqliteWriter {
	h, ok := sqliteHandle(dc)
	if !ok {
		return nil
	}
	w := &sqliteWriter{tls: libc.NewTLS(), db: h, stmts: map[stmtKey]uintptr{}}
	// The session's transaction is open on this connection: a handle in autocommit mode is not
	// the one we think it is.
	if sqlite3.Xsqlite3_get_autocommit(w.tls, h) != 0 {
		w.tls.Close()
		return nil
	}
	return w
}

// close finalizes the statements and frees the buffer. Called inside conn.Raw.
func (w *sqliteWriter) close() {
	for _, st := range w.stmts {
		sqlite3.Xsqlite3_finalize(w.tls, st)
	}
	w.stmts = nil
	if w.buf != 0 {
		libc.Xfree(w.tls, w.buf)
		w.buf, w.bufN = 0, 0
	}
	w.tls.Close()
}

// sqliteStepError is an error SQLite returned on the raw path, with its extended result code
// (what *sqlite.Error carries through the driver: isUniqueViolation and retryable read both).
type sqliteStepError struct {
	code int
	msg  string
}

func (e *sqliteStepError) Error() string { return e.msg }
func (e *sqliteStepError) Code() int     { return e.code }

func (w *sqliteWriter) err(rc int32) error {
	code := sqlite3.Xsqlite3_extended_errcode(w.tls, w.db)
	if code&0xff != rc&0xff {
		code = rc
	}
	str := libc.GoString(sqlite3.Xsqlite3_errstr(w.tls, code))
	msg := libc.GoString(sqlite3.Xsqlite3_errmsg(w.tls, w.db))
	if msg == str {
		return &sqliteStepError{int(code), fmt.Sprintf("%s (%d)", str, code)}
	}
	return &sqliteStepError{int(code), fmt.Sprintf("%s: %s (%d)", str, msg, code)}
}

// prepared returns the writer's statement k, preparing q once.
func (w *sqliteWriter) prepared(k stmtKey, q func() string) (uintptr, error) {
	if st, ok := w.stmts[k]; ok {
		return st, nil
	}
	cq, err := libc.CString(q())
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(w.tls, cq)
	pp := w.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer w.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	if rc := sqlite3.Xsqlite3_prepare_v3(w.tls, w.db, cq, -1, sqlite3.SQLITE_PREPARE_PERSISTENT, pp, 0); rc != sqlite3.SQLITE_OK {
		return 0, w.err(rc)
	}
	st := *(*uintptr)(unsafe.Add(nil, pp))
	w.stmts[k] = st
	return st, nil
}

// stmt returns the prepared INSERT of n rows into table.
func (w *sqliteWriter) stmt(table, cols string, ncols, n int) (uintptr, error) {
	return w.prepared(stmtKey{table, n}, func() string { return multiInsertSQL(table, cols, ncols, n) })
}

// load copies b into the libc buffer, growing it as needed. A statement may still hold views of
// the old buffer: they are never read, as every parameter is bound again before the next step.
func (w *sqliteWriter) load(b []byte) error {
	if len(b) > w.bufN || w.buf == 0 {
		n := max(len(b), 64<<10, 2*w.bufN)
		p := libc.Xmalloc(w.tls, libc.Tsize_t(n))
		if p == 0 {
			return fmt.Errorf("sqldb: out of memory for %d bytes of import values", n)
		}
		if w.buf != 0 {
			libc.Xfree(w.tls, w.buf)
		}
		w.buf, w.bufN = p, n
	}
	if len(b) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Add(nil, w.buf)), len(b)), b)
	}
	return nil
}

// insert inserts the rows of ncols values held in s, sqliteBatch rows per statement.
func (w *sqliteWriter) insert(ctx context.Context, table, cols string, ncols int, s *sqliteVals) error {
	if err := w.load(s.bytes); err != nil {
		return err
	}
	vals := s.v
	for len(vals) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(vals)/ncols, sqliteBatch)
		st, err := w.stmt(table, cols, ncols, n)
		if err != nil {
			return err
		}
		if _, err := w.exec(st, vals[:n*ncols]); err != nil {
			return err
		}
		vals = vals[n*ncols:]
	}
	return nil
}

// exec binds vals to st, steps it once (a statement that returns no row) and resets it, and
// returns the rows it changed.
func (w *sqliteWriter) exec(st uintptr, vals []sqliteVal) (int64, error) {
	defer sqlite3.Xsqlite3_reset(w.tls, st)
	if err := w.bind(st, vals); err != nil {
		return 0, err
	}
	if rc := sqlite3.Xsqlite3_step(w.tls, st); rc != sqlite3.SQLITE_DONE {
		return 0, w.err(rc)
	}
	return int64(sqlite3.Xsqlite3_changes64(w.tls, w.db)), nil
}

// bind binds vals to st's parameters 1..len(vals); texts and blobs are views of the buffer.
func (w *sqliteWriter) bind(st uintptr, vals []sqliteVal) error {
	tls, buf := w.tls, w.buf
	for i, v := range vals {
		var rc int32
		switch v.kind {
		case valNull:
			rc = sqlite3.Xsqlite3_bind_null(tls, st, int32(i+1))
		case valInt:
			rc = sqlite3.Xsqlite3_bind_int64(tls, st, int32(i+1), v.i)
		case valText:
			rc = sqlite3.Xsqlite3_bind_text(tls, st, int32(i+1), buf+uintptr(v.i), v.n, 0)
		case valBlob:
			rc = sqlite3.Xsqlite3_bind_blob(tls, st, int32(i+1), buf+uintptr(v.i), v.n, 0)
		}
		if rc != sqlite3.SQLITE_OK {
			return w.err(rc)
		}
	}
	return nil
}
