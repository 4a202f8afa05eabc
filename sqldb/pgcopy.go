package sqldb

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"reclaim/date"
	"reclaim/money"
)

// copyBuf builds rows in PostgreSQL's binary COPY format (the COPY page of PostgreSQL's manual,
// "Binary Format"), one typed field at a time, without reflection: an import's rows have a fixed
// shape, and pgx's generic CopyFrom spent about a fifth of the importing process' CPU planning and
// encoding each value through its type map (docs/benchmarks.md, issue 11). Each append method
// writes one field; an int4 out of range is recorded in err, like the error COPY would return.
type copyBuf struct {
	b   []byte
	err error
}

// copySignature is the binary COPY header: the signature, flags 0 and no header extension.
const copySignature = "PGCOPY\n\xff\r\n\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00"

// pgEpochDays is the number of days from 1970-01-01 to 2000-01-01, PostgreSQL's date epoch.
const pgEpochDays = 10957

// start empties the buffer and writes the header.
func (c *copyBuf) start() {
	c.b = append(c.b[:0], copySignature...)
	c.err = nil
}

// rows reports whether any row was written since start.
func (c *copyBuf) rows() bool { return len(c.b) > len(copySignature) }

// row starts a row of n fields.
func (c *copyBuf) row(n int) { c.b = binary.BigEndian.AppendUint16(c.b, uint16(n)) }

func (c *copyBuf) null() { c.b = binary.BigEndian.AppendUint32(c.b, math.MaxUint32) }

func (c *copyBuf) int8(v int64) {
	c.b = binary.BigEndian.AppendUint32(c.b, 8)
	c.b = binary.BigEndian.AppendUint64(c.b, uint64(v))
}

// int4 writes an INTEGER; a value outside its range is an error, as it would be in SQL.
func (c *copyBuf) int4(v int64) {
	if v < math.MinInt32 || v > math.MaxInt32 {
		if c.err == nil {
			c.err = fmt.Errorf("sqldb: %d is out of range for an integer column", v)
		}
		v = 0
	}
	c.b = binary.BigEndian.AppendUint32(c.b, 4)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(int32(v)))
}

func (c *copyBuf) bool(v bool) {
	c.b = binary.BigEndian.AppendUint32(c.b, 1)
	if v {
		c.b = append(c.b, 1)
	} else {
		c.b = append(c.b, 0)
	}
}

// text writes a TEXT value (the server checks that it is valid in the database encoding).
func (c *copyBuf) text(s string) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(s)))
	c.b = append(c.b, s...)
}

// textOrNull writes NULL for the empty string (textArg).
func (c *copyBuf) textOrNull(s string) {
	if s == "" {
		c.null()
		return
	}
	c.text(s)
}

func (c *copyBuf) bytea(v []byte) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(v)))
	c.b = append(c.b, v...)
}

// date writes a DATE, NULL for the zero date (dateArg).
func (c *copyBuf) date(d date.Date) {
	if d.IsZero() {
		c.null()
		return
	}
	c.b = binary.BigEndian.AppendUint32(c.b, 4)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(int32(d.Days()-pgEpochDays)))
}

// minor writes an amount's minor units as BIGINT, NULL for the absent amount (minorArg).
func (c *copyBuf) minor(a money.Amount) {
	if a.IsAbsent() {
		c.null()
		return
	}
	c.int8(a.Minor())
}

// count writes n as INTEGER, NULL for a negative ("unknown") count (countArg).
func (c *copyBuf) count(n int) {
	if n < 0 {
		c.null()
		return
	}
	c.int4(int64(n))
}

// finish writes the trailer and returns the COPY data.
func (c *copyBuf) finish() []byte {
	c.b = binary.BigEndian.AppendUint16(c.b, math.MaxUint16)
	return c.b
}

// copyTable is a table an import fills with binary COPY, its columns and their types as the
// copyBuf methods write them.
type copyTable struct {
	name  string
	cols  []string
	types []string // format_type names, checked by TestImportCopyTypes against the schema
	sql   string
}

func newCopyTable(name string, cols ...string) *copyTable {
	t := &copyTable{name: name}
	for _, c := range cols {
		n, typ, _ := strings.Cut(c, " ")
		t.cols = append(t.cols, n)
		t.types = append(t.types, typ)
	}
	t.sql = "COPY " + name + " (" + strings.Join(t.cols, ", ") + ") FROM STDIN (FORMAT binary)"
	return t
}

var (
	loansCopy = newCopyTable("loans",
		"portfolio_id bigint", "borrower_id bigint", "loan_ref text", "borrower_ref text", "product_type text",
		"origination_date date", "original_amount_minor bigint", "currency text", "principal_minor bigint",
		"interest_minor bigint", "fees_minor bigint", "total_claim_minor bigint", "default_date date",
		"days_past_due integer", "five_category text", "written_off boolean", "write_off_date date",
		"security_type text", "last_payment_date date", "last_payment_amount_minor bigint", "legal_status text",
		"legal_start_date date", "court text", "limitation_expiry_date date", "birth_year integer", "age integer",
		"region_code text", "deceased boolean", "bankrupt boolean", "phone_available boolean",
		"last_contact_date date", "forbearance_count integer", "repayment_plan_active boolean",
		"agency_placements integer", "complaint_flag boolean", "extras_json text")
	borrowersCopy = newCopyTable("borrowers", "id bigint", "portfolio_id bigint", "borrower_ref text",
		"masked_name text", "masked_national_id text", "masked_phone text")
	piiCopy = newCopyTable("borrower_pii", "borrower_id bigint", "key_id text", "sealed bytea", "blind bytea")
)

// copyDataMax is the largest CopyData message a copyWire sends. The server reads a whole message
// before it parses any of it, so a chunk's megabytes in small messages let it start on the first
// rows while the rest arrive (pgx's CopyFrom sends 64 KiB too).
const copyDataMax = 64 << 10

// copyWire sends the COPY ... FROM STDIN statements of one chunk (one per table) as one stream of
// protocol messages, without waiting for any reply, and reads the replies later (confirm).
//
// pgx's CopyFrom waits for each statement's replies before it returns, and the session sent a
// chunk as three of them: the server went idle at each statement's end until the client's
// goroutine (on a core busy converting the next rows) read the reply and sent the next
// statement. Sent this way, the server reads the next statement's rows from its socket as soon
// as it is done with one, and a pipelined session sends the next chunk before it reads this
// one's replies (importPipe.settle), so the server has rows queued from the first chunk to the
// last. The protocol allows it: a simple-query COPY that fails is answered by ErrorResponse and
// ReadyForQuery, and the server then ignores the CopyData and CopyDone that follow until the next
// statement (the "COPY Operations" section of the protocol chapter of PostgreSQL's manual); every
// statement after the failure then fails in the aborted transaction, and confirm returns the
// first error.
//
// The messages are written to pgx's net.Conn directly and the replies read through pgx's
// frontend, which reads through pgx's own buffer: nothing pgx buffered is skipped (what
// PgConn.SyncConn guards against when a caller reads the net.Conn itself), and pgx leaves no
// message unwritten between two of its operations.
type copyWire struct {
	tables []*copyTable
	data   [][]byte
	hdr    []byte      // the messages' headers and the statements' text, back to back
	bufs   net.Buffers // what send writes: slices of hdr and of data, in order
	owed   int         // statements sent whose replies are unread
}

// reset empties w for the next chunk.
func (w *copyWire) reset() {
	w.tables, w.data, w.owed = w.tables[:0], w.data[:0], 0
	clear(w.bufs[:cap(w.bufs)])
	w.bufs = w.bufs[:0]
}

// add queues one COPY of data (finished by a copyBuf for t) into t.
func (w *copyWire) add(t *copyTable, data []byte) {
	w.tables = append(w.tables, t)
	w.data = append(w.data, data)
}

// send writes every queued statement and its rows to the connection in one writev, and records
// that their replies are owed. A failed write leaves the connection unusable: it is closed, so
// that the pool drops it.
func (w *copyWire) send(ctx context.Context, pc *pgconn.PgConn) error {
	size := 0
	for i, t := range w.tables {
		size += 1 + 4 + len(t.sql) + 1 // Query
		size += (len(w.data[i]) + copyDataMax - 1) / copyDataMax * (1 + 4)
		size += 1 + 4 // CopyDone
	}
	if cap(w.hdr) < size {
		w.hdr = make([]byte, 0, size)
	}
	hdr := w.hdr[:0]
	w.bufs = w.bufs[:0]
	// Each header is appended within hdr's capacity, so the slices taken stay valid.
	put := func(b []byte) {
		w.bufs = append(w.bufs, b)
	}
	for i, t := range w.tables {
		start := len(hdr)
		hdr = append(hdr, 'Q')
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(4+len(t.sql)+1))
		hdr = append(append(hdr, t.sql...), 0)
		put(hdr[start:])
		for d := w.data[i]; len(d) > 0; {
			n := min(len(d), copyDataMax)
			start = len(hdr)
			hdr = append(hdr, 'd')
			hdr = binary.BigEndian.AppendUint32(hdr, uint32(4+n))
			put(hdr[start:])
			put(d[:n])
			d = d[n:]
		}
		start = len(hdr)
		hdr = append(hdr, 'c', 0, 0, 0, 4)
		put(hdr[start:])
	}
	w.hdr = hdr
	conn := pc.Conn()
	stop := context.AfterFunc(ctx, func() { conn.SetWriteDeadline(time.Unix(1, 0)) })
	bufs := w.bufs // WriteTo consumes its receiver
	_, err := bufs.WriteTo(conn)
	if !stop() || err != nil {
		pc.Close(context.Background())
		if err == nil {
			err = ctx.Err()
		}
		return fmt.Errorf("sending rows to the server: %w", err)
	}
	w.owed = len(w.tables)
	return nil
}

// confirm reads the replies send left unread, a ReadyForQuery per statement, and returns the
// first statement's error, naming its table. An error reading leaves the connection unusable: it
// is closed.
func (w *copyWire) confirm(ctx context.Context, pc *pgconn.PgConn) error {
	if w.owed == 0 {
		return nil
	}
	conn := pc.Conn()
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer func() {
		if !stop() {
			// Cancelled: the read deadline is set (or being set) in the past, and the
			// connection must not go back to the pool as it is.
			pc.Close(context.Background())
		}
	}()
	fe := pc.Frontend()
	var first error
	for i := len(w.tables) - w.owed; w.owed > 0; {
		msg, err := fe.Receive()
		if err != nil {
			w.owed = 0
			pc.Close(context.Background()) // no longer in step with the server
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fmt.Errorf("reading the server's replies to COPY: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			if first == nil {
				first = fmt.Errorf("copying into %s: %w", w.tables[i].name, pgconn.ErrorResponseToPgError(m))
			}
		case *pgproto3.ReadyForQuery:
			w.owed--
			i++
		}
	}
	if first == nil && ctx.Err() != nil {
		return ctx.Err() // the connection is closed on the way out
	}
	return first
}
