package sqldb

import (
	"fmt"
	"time"

	"reclaim/date"
	"reclaim/money"
)

// instantLayout is how SQLite stores instants: UTC, microseconds, fixed width.
const instantLayout = "2006-01-02T15:04:05.000000Z"

// instant returns t as the engine stores it: UTC truncated to microseconds, as text on SQLite.
func (d *DB) instant(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if d.dialect == SQLite {
		return t.Format(instantLayout)
	}
	return t
}

// nowUTC returns the DB clock's time in UTC truncated to microseconds (what a round trip keeps).
func (d *DB) nowUTC() time.Time { return d.now().UTC().Truncate(time.Microsecond) }

// dateArg returns a civil date as a query argument: NULL for the zero date, else 'YYYY-MM-DD'
// (PostgreSQL casts the text to DATE).
func dateArg(t date.Date) any {
	if t.IsZero() {
		return nil
	}
	return t.String()
}

// dateCopy returns a civil date for PostgreSQL's binary COPY: nil or a UTC midnight time.Time.
func dateCopy(t date.Date) any {
	if t.IsZero() {
		return nil
	}
	return t.Time()
}

// minorArg returns an amount's minor units, or NULL for the absent amount.
func minorArg(a money.Amount) any {
	if a.IsAbsent() {
		return nil
	}
	return a.Minor()
}

// countArg returns n, or NULL for a negative ("unknown") count.
func countArg(n int) any {
	if n < 0 {
		return nil
	}
	return int64(n)
}

// textArg returns s, or NULL for the empty string.
func textArg(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// dateScan scans a DATE or 'YYYY-MM-DD' TEXT column (NULL is the zero date).
type dateScan struct{ d *date.Date }

func (s dateScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.d = date.Date{}
	case time.Time:
		y, m, dd := v.Date()
		t, err := date.New(y, m, dd)
		if err != nil {
			return err
		}
		*s.d = t
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	default:
		return fmt.Errorf("sqldb: cannot scan %T into a date", src)
	}
	return nil
}

func (s dateScan) parse(v string) error {
	if len(v) > 10 {
		v = v[:10]
	}
	t, err := date.Parse(v)
	if err != nil {
		return err
	}
	*s.d = t
	return nil
}

// instantScan scans a TIMESTAMPTZ or RFC 3339 TEXT column into a UTC time (NULL is zero).
type instantScan struct{ t *time.Time }

func (s instantScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.t = time.Time{}
	case time.Time:
		*s.t = v.UTC()
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	default:
		return fmt.Errorf("sqldb: cannot scan %T into an instant", src)
	}
	return nil
}

func (s instantScan) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return err
	}
	*s.t = t.UTC()
	return nil
}

// amountScan scans a nullable minor-units column; the currency is applied afterwards by
// (*amountScan).amount.
type amountScan struct {
	v     int64
	valid bool
}

func (s *amountScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		s.v, s.valid = 0, false
	case int64:
		s.v, s.valid = v, true
	default:
		return fmt.Errorf("sqldb: cannot scan %T into an amount", src)
	}
	return nil
}

func (s *amountScan) amount(c money.Currency) money.Amount {
	if !s.valid {
		return money.Amount{}
	}
	return money.New(s.v, c)
}

// intScan scans a nullable integer; NULL becomes null.
type intScan struct {
	p    *int
	null int
}

func (s intScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.p = s.null
	case int64:
		*s.p = int(v)
	default:
		return fmt.Errorf("sqldb: cannot scan %T into an integer", src)
	}
	return nil
}

// boolScan scans a BOOLEAN or an INTEGER 0/1.
type boolScan struct{ p *bool }

func (s boolScan) Scan(src any) error {
	switch v := src.(type) {
	case bool:
		*s.p = v
	case int64:
		*s.p = v != 0
	case nil:
		*s.p = false
	default:
		return fmt.Errorf("sqldb: cannot scan %T into a boolean", src)
	}
	return nil
}

// textScan scans a nullable text column; NULL becomes "".
type textScan struct{ p *string }

func (s textScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.p = ""
	case string:
		*s.p = v
	case []byte:
		*s.p = string(v)
	default:
		return fmt.Errorf("sqldb: cannot scan %T into text", src)
	}
	return nil
}
