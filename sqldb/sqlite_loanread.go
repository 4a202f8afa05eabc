package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// The streaming valuation's loan reads on SQLite, below database/sql. Read through the driver, a
// loans row of 35 columns costs about 5 µs of CPU, most of it per column: the driver takes the
// connection's mutex (SQLite's serialized mode) for the column's type and again for its value,
// and allocates every text value and every integer as an interface. Here the batch's statement
// runs on a read-only connection of its own, opened without mutexes (SQLite's multi-thread
// mode: the connection is used by one goroutine), and each column is decoded from SQLite's
// memory straight into the loan: dates are parsed in place, the enumerations and the currency are
// interned, and only the references, the region and the court are copied. The values are
// exactly those newLoanScan's destinations give (the same NULL rules and the same errors for a
// value of the wrong type); sqldb/valuation_stream_test.go compares the two paths.

// sqliteLoanReader is one read-only SQLite connection with the batch statement prepared.
type sqliteLoanReader struct {
	tls        *libc.TLS
	db, stmt   uintptr
	intern     map[string]string
	few        [35][]string // the first values of each column, for interned
	extrasJSON []byte
}

// openSQLiteLoanReader opens a read-only connection to the database file and prepares q.
func openSQLiteLoanReader(file string, busyMS int32, q string) (*sqliteLoanReader, error) {
	r := &sqliteLoanReader{tls: libc.NewTLS(), intern: map[string]string{}}
	cfile, err := libc.CString(file)
	if err != nil {
		r.tls.Close()
		return nil, err
	}
	defer libc.Xfree(r.tls, cfile)
	pp := r.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer r.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	rc := sqlite3.Xsqlite3_open_v2(r.tls, cfile, pp, sqlite3.SQLITE_OPEN_READONLY|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	r.db = *(*uintptr)(unsafe.Add(nil, pp))
	if rc != sqlite3.SQLITE_OK {
		err := r.err(rc)
		r.close()
		return nil, err
	}
	sqlite3.Xsqlite3_busy_timeout(r.tls, r.db, busyMS)
	csql, err := libc.CString(q)
	if err != nil {
		r.close()
		return nil, err
	}
	defer libc.Xfree(r.tls, csql)
	if rc := sqlite3.Xsqlite3_prepare_v2(r.tls, r.db, csql, -1, pp, 0); rc != sqlite3.SQLITE_OK {
		err := r.err(rc)
		r.close()
		return nil, err
	}
	r.stmt = *(*uintptr)(unsafe.Add(nil, pp))
	return r, nil
}

func (r *sqliteLoanReader) err(rc int32) error {
	msg := ""
	if r.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(r.tls, r.db))
	}
	return fmt.Errorf("sqlite: %s (%d)", msg, rc)
}

func (r *sqliteLoanReader) close() {
	if r.stmt != 0 {
		sqlite3.Xsqlite3_finalize(r.tls, r.stmt)
	}
	if r.db != 0 {
		sqlite3.Xsqlite3_close_v2(r.tls, r.db)
	}
	r.tls.Close()
}

// sqliteLoanReaders keeps the readers of one stream, for its batches and their parts.
type sqliteLoanReaders struct {
	file string
	busy int32
	q    string
	mu   sync.Mutex
	free []*sqliteLoanReader
}

// read reads the loans of [lo, hi) on a free reader (opened when none is free).
func (rs *sqliteLoanReaders) read(ctx context.Context, portfolioID, lo, hi int64, size, capacity int, p reclaim.Portfolio) ([]reclaim.Loan, []int64, error) {
	rs.mu.Lock()
	var r *sqliteLoanReader
	if n := len(rs.free); n > 0 {
		r, rs.free = rs.free[n-1], rs.free[:n-1]
	}
	rs.mu.Unlock()
	if r == nil {
		var err error
		if r, err = openSQLiteLoanReader(rs.file, rs.busy, rs.q); err != nil {
			return nil, nil, err
		}
	}
	loans, ids, err := r.read(ctx, portfolioID, lo, hi, size, p, make([]reclaim.Loan, 0, capacity), make([]int64, 0, capacity))
	rs.mu.Lock()
	rs.free = append(rs.free, r)
	rs.mu.Unlock()
	return loans, ids, err
}

// close closes every reader (none may be reading).
func (rs *sqliteLoanReaders) close() {
	for _, r := range rs.free {
		r.close()
	}
	rs.free = nil
}

// text returns column i's text (or blob) as a view of SQLite's memory (valid until the next
// step) and whether it is NULL; a value of another type is an error.
func (r *sqliteLoanReader) text(i int32) (string, bool, error) {
	switch t := sqlite3.Xsqlite3_column_type(r.tls, r.stmt, i); t {
	case sqlite3.SQLITE_NULL:
		return "", true, nil
	case sqlite3.SQLITE_TEXT, sqlite3.SQLITE_BLOB:
		var p uintptr
		if t == sqlite3.SQLITE_TEXT {
			p = sqlite3.Xsqlite3_column_text(r.tls, r.stmt, i)
		} else {
			p = sqlite3.Xsqlite3_column_blob(r.tls, r.stmt, i)
		}
		n := sqlite3.Xsqlite3_column_bytes(r.tls, r.stmt, i)
		if p == 0 || n == 0 {
			return "", false, nil
		}
		return unsafe.String((*byte)(unsafe.Add(nil, p)), n), false, nil
	default:
		return "", false, fmt.Errorf("sqldb: column %d: cannot read SQLite type %d as text", i+1, t)
	}
}

// integer returns column i's integer and whether it is NULL; a value of another type is an error.
func (r *sqliteLoanReader) integer(i int32) (int64, bool, error) {
	switch t := sqlite3.Xsqlite3_column_type(r.tls, r.stmt, i); t {
	case sqlite3.SQLITE_NULL:
		return 0, true, nil
	case sqlite3.SQLITE_INTEGER:
		return sqlite3.Xsqlite3_column_int64(r.tls, r.stmt, i), false, nil
	default:
		return 0, false, fmt.Errorf("sqldb: column %d: cannot read SQLite type %d as an integer", i+1, t)
	}
}

// interned returns a Go copy of column i's value v, shared with every equal value this reader
// returned for the column: a column of few values (product, currency, ...) is looked up in a short
// list, a column of more in a map.
func (r *sqliteLoanReader) interned(i int32, v string) string {
	few := &r.few[i]
	for _, s := range *few {
		if s == v {
			return s
		}
	}
	if s, ok := r.intern[v]; ok {
		return s
	}
	s := strings.Clone(v)
	switch {
	case len(*few) < 8:
		*few = append(*few, s)
	case len(r.intern) < 1<<16:
		r.intern[s] = s
	}
	return s
}

// read runs the statement on (portfolio, lo, hi, size) and appends the loans and their ids.
func (r *sqliteLoanReader) read(ctx context.Context, portfolioID, lo, hi int64, size int, p reclaim.Portfolio,
	loans []reclaim.Loan, ids []int64) ([]reclaim.Loan, []int64, error) {
	st := r.stmt
	defer sqlite3.Xsqlite3_reset(r.tls, st)
	for i, v := range []int64{portfolioID, lo, hi, int64(size)} {
		if rc := sqlite3.Xsqlite3_bind_int64(r.tls, st, int32(i+1), v); rc != sqlite3.SQLITE_OK {
			return nil, nil, r.err(rc)
		}
	}
	if n := sqlite3.Xsqlite3_column_count(r.tls, st); n != 35 {
		return nil, nil, fmt.Errorf("sqldb: %d columns read, 35 expected", n)
	}
	for {
		switch rc := sqlite3.Xsqlite3_step(r.tls, st); rc {
		case sqlite3.SQLITE_ROW:
		case sqlite3.SQLITE_DONE:
			return loans, ids, nil
		default:
			return nil, nil, r.err(rc)
		}
		if len(loans)%4096 == 4095 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		id, null, err := r.integer(0)
		if err == nil && null {
			err = fmt.Errorf("sqldb: loans.id is NULL")
		}
		if err != nil {
			return nil, nil, err
		}
		loans = append(loans, reclaim.Loan{PortfolioRef: p.Ref, CutOffDate: p.CutOffDate})
		if err := r.row(&loans[len(loans)-1]); err != nil {
			return nil, nil, err
		}
		ids = append(ids, id)
	}
}

// row decodes the current row (loanBatchSelect's columns after the id) into l, as newLoanScan
// and loanScan.finish do.
func (r *sqliteLoanReader) row(l *reclaim.Loan) error {
	var err error
	// Each helper records the first error; the row is refused once it is decoded.
	text := func(i int32, intern bool, notNull bool) string {
		v, null, e := r.text(i)
		if e == nil && null && notNull {
			e = fmt.Errorf("sqldb: column %d: cannot read NULL as text", i+1)
		}
		if e != nil {
			err = cmpErr(err, e)
			return ""
		}
		if intern {
			return r.interned(i, v)
		}
		return strings.Clone(v)
	}
	day := func(i int32) date.Date {
		v, null, e := r.text(i)
		if e != nil || null {
			err = cmpErr(err, e)
			return date.Date{}
		}
		if len(v) > 10 {
			v = v[:10]
		}
		d, e := date.Parse(v)
		err = cmpErr(err, e)
		return d
	}
	num := func(i int32, ifNull int) int {
		v, null, e := r.integer(i)
		err = cmpErr(err, e)
		if null {
			return ifNull
		}
		return int(v)
	}
	flag := func(i int32) bool {
		v, _, e := r.integer(i)
		err = cmpErr(err, e)
		return v != 0
	}
	var cur money.Currency
	amount := func(i int32) money.Amount {
		v, null, e := r.integer(i)
		if e != nil || null {
			err = cmpErr(err, e)
			return money.Amount{}
		}
		return money.New(v, cur)
	}
	l.LoanID = text(1, false, true)
	l.BorrowerID = text(2, false, true)
	l.ProductType = reclaim.ProductType(text(3, true, false))
	l.OriginationDate = day(4)
	cur = money.Currency(text(6, true, true))
	l.Currency = cur
	l.OriginalAmount = amount(5)
	l.PrincipalOutstanding = amount(7)
	l.InterestOutstanding = amount(8)
	l.FeesOutstanding = amount(9)
	l.TotalClaim = amount(10)
	l.DefaultDate = day(11)
	l.DaysPastDue = num(12, 0)
	l.FiveCategory = reclaim.FiveCategory(text(13, true, false))
	l.WrittenOff = flag(14)
	l.WriteOffDate = day(15)
	l.SecurityType = reclaim.SecurityType(text(16, true, false))
	l.LastPaymentDate = day(17)
	l.LastPaymentAmount = amount(18)
	l.LegalStatus = reclaim.LegalStatus(text(19, true, false))
	l.LegalStartDate = day(20)
	l.Court = text(21, false, false)
	l.LimitationExpiryDate = day(22)
	l.BirthYear = num(23, 0)
	l.Age = num(24, -1)
	l.RegionCode = text(25, false, false)
	l.Deceased = flag(26)
	l.Bankrupt = flag(27)
	l.PhoneAvailable = flag(28)
	l.LastContactDate = day(29)
	l.ForbearanceCount = num(30, -1)
	l.RepaymentPlanActive = flag(31)
	l.AgencyPlacements = num(32, 0)
	l.ComplaintFlag = flag(33)
	if v, null, e := r.text(34); e != nil {
		err = cmpErr(err, e)
	} else if !null && v != "" {
		r.extrasJSON = append(r.extrasJSON[:0], v...)
		err = cmpErr(err, json.Unmarshal(r.extrasJSON, &l.Extras))
	}
	return err
}

// cmpErr returns the first of two errors.
func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}
