package tape

import (
	"reclaim/money"
)

// Row is one data row of a tape as text cells.
type Row struct {
	// Line is where the row sits in the file: the 1-based line number of a CSV record's first
	// line, or the 1-based row number of an XLSX sheet. It is what error reports cite.
	Line  int
	Cells []string
}

// SourceInfo describes what a Source found about its file.
type SourceInfo struct {
	Format   string // "csv" or "xlsx"
	Encoding string // "utf-8", "utf-8-bom", "gb18030" (CSV only)
	Sheet    string // XLSX sheet read
	Date1904 bool   // XLSX workbook uses the 1904 date system
}

// Source yields a tape's header and then its data rows. Implementations read lazily so that a
// tape of millions of rows is never held in memory.
type Source interface {
	// Header returns the header cells (after the header row named by the options).
	Header() []string
	// Next returns the next non-empty data row, or io.EOF after the last. A malformed row is
	// returned as an error of type *RowError that names the line, and reading can continue.
	Next() (Row, error)
	// Info describes the file.
	Info() SourceInfo
	// Close releases the file.
	Close() error
}

// Mapping binds the columns of a tape whose headers Reclaim does not know to canonical fields. It
// is read from a YAML or JSON file (see ParseMapping).
type Mapping struct {
	Name        string
	Description string
	// Encoding forces the CSV encoding ("utf-8", "gbk", "gb18030"); empty means detect.
	Encoding string
	// Sheet names the XLSX sheet; empty means the first.
	Sheet string
	// HeaderRow is the 1-based row that holds the headers (default 1).
	HeaderRow int
	// DateFormat is the default Go layout for date columns; empty means the built-in forms.
	DateFormat string
	// Columns maps a column header to the field(s) it fills and how.
	Columns map[string]ColumnMap
	// Constants gives fields that the tape lacks a value that holds for every row, as text in the
	// field's usual form ("2018-12-01", "USD", "not_sued").
	Constants map[Field]string
	// Fallbacks names, for a field, a column to read when the field's own column is empty in a
	// row (LendingClub: default_date falls back to issue_d for loans that never paid).
	Fallbacks map[Field]string
	// Extras lists columns to carry along unmapped (kept in Loan.Extras).
	Extras []string
	// Sums binds a money field to the sum of several columns (interest split into 表内利息,
	// 表外利息, 罚息 and 复利), added exactly in minor units; a blank part counts as zero.
	Sums map[Field]SumMap
}

// SumMap is a money field read as the sum of several columns.
type SumMap struct {
	Columns []string   // column headers, at least two
	Unit    money.Unit // the unit of every part, when the headers do not say ("(万元)")
}

// ColumnMap says how one column fills canonical fields.
type ColumnMap struct {
	Fields     []Field
	Unit       money.Unit        // power-of-ten scale of amounts (money.Wan for 万元)
	DateFormat string            // Go layout for this column
	Values     map[string]string // raw value -> canonical value, applied before parsing
	Prefix     string            // text prepended to the value
	Invert     bool              // yes/no column that means the opposite of its field
}
