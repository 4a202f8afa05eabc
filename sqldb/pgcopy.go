package sqldb

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"

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

// copyIn runs one COPY of data (built by a copyBuf for t) on the session's connection.
func copyIn(ctx context.Context, c *pgx.Conn, t *copyTable, data []byte) error {
	if _, err := c.PgConn().CopyFrom(ctx, bytes.NewReader(data), t.sql); err != nil {
		return fmt.Errorf("copying into %s: %w", t.name, err)
	}
	return nil
}
