package ingest

import (
	"errors"
	"io"
	"os"
	"strconv"
	"strings"

	"reclaim"
	"reclaim/csvsafe"
	"reclaim/date"
	"reclaim/money"
	"reclaim/msg"
	"reclaim/tape"
)

// rejectWriter writes rejected rows, followed by the line they came from, the rules they broke
// and the messages, as UTF-8 CSV with a BOM so spreadsheets show Chinese text correctly. The cells
// of personal fields are masked (tape.MaskCell), and every cell a spreadsheet could run as a
// formula is neutralised (csvsafe); the other cells are as the tape has them.
type rejectWriter struct {
	f        *os.File // nil when writing to a caller's writer
	w        *csvsafe.Writer
	n        int
	personal map[int]tape.Field // column -> personal field it fills
}

func newRejectWriter(path string, dst io.Writer, header []string, layout *tape.Layout) (*rejectWriter, error) {
	var f *os.File
	if dst == nil {
		var err error
		f, err = os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, reclaim.WrapError(reclaim.EINVALID, err, "cannot create the rejects file %s", path)
		}
		dst = f
	}
	fail := func(err error) (*rejectWriter, error) {
		if f != nil {
			f.Close()
		}
		return nil, err
	}
	if _, err := io.WriteString(dst, "\ufeff"); err != nil {
		return fail(err)
	}
	w := csvsafe.NewWriter(dst)
	h := append(append([]string(nil), header...), "_line", "_rules", "_errors")
	if err := w.Write(h); err != nil {
		return fail(err)
	}
	personal := map[int]tape.Field{}
	for i, b := range layout.Bindings {
		if b != nil && b.Column >= 0 && tape.Fields[i].Personal {
			personal[b.Column] = tape.Field(i)
		}
	}
	return &rejectWriter{f: f, w: w, n: len(header), personal: personal}, nil
}

func (r *rejectWriter) write(row tape.Row, errs []tape.RowError) error {
	cells := make([]string, 0, len(row.Cells)+3)
	for i, c := range row.Cells {
		if f, ok := r.personal[i]; ok {
			c = tape.MaskCell(f, c)
		}
		cells = append(cells, c)
	}
	for len(cells) < r.n {
		cells = append(cells, "")
	}
	var rules, msgs []string
	seen := map[string]bool{}
	for _, e := range errs {
		if !seen[e.Rule] {
			rules = append(rules, e.Rule)
			seen[e.Rule] = true
		}
		e.Line = 0
		msgs = append(msgs, e.Error())
	}
	cells = append(cells, strconv.Itoa(row.Line), strings.Join(rules, ";"), strings.Join(msgs, " | "))
	return r.w.Write(cells)
}

func (r *rejectWriter) close() error {
	r.w.Flush()
	err := r.w.Error()
	if r.f != nil {
		if cerr := r.f.Close(); err == nil {
			err = cerr
		}
		r.f = nil
	}
	return err
}

// History columns, by English or Chinese header.
var historyColumns = map[string]int{
	"loanid": 0, "借据号": 0, "贷款编号": 0,
	"month": 1, "月份": 1, "还款月份": 1,
	"amount": 2, "还款金额": 2, "金额": 2,
	"source": 3, "还款来源": 3, "来源": 3,
	"channel": 4, "渠道": 4, "回收渠道": 4,
}

var (
	historySources  = map[string]string{"debtor": reclaim.SourceDebtor, "借款人": reclaim.SourceDebtor, "guarantor": reclaim.SourceGuarantor, "担保人": reclaim.SourceGuarantor, "collateral": reclaim.SourceCollateral, "抵押物": reclaim.SourceCollateral, "court": reclaim.SourceCourt, "法院": reclaim.SourceCourt}
	historyChannels = map[string]string{"internal": reclaim.ChannelInternal, "自催": reclaim.ChannelInternal, "agency": reclaim.ChannelAgency, "委外": reclaim.ChannelAgency, "legal": reclaim.ChannelLegal, "诉讼": reclaim.ChannelLegal}
)

// historyBatch is the number of history rows read before their loan ids are looked up at once.
const historyBatch = 4096

// readHistory reads a repayment-history file: one row per loan and month. Rows for loans that are
// not among the tape's valid loans are rejected: known reports, for a batch of loan ids, which
// are (the loans stored by the import). The valid rows are handed to add in batches, in file
// order, so memory does not grow with the file.
func readHistory(path string, known func(ids []string) ([]bool, error), add func([]reclaim.Repayment) error,
	cur money.Currency, maxErrors int) (*HistoryReport, error) {
	hr := &HistoryReport{File: path}
	src, err := tape.Open(path, tape.OpenOptions{})
	if err != nil {
		return hr, reclaim.WrapError(reclaim.EINVALID, err, "cannot open the repayment history %s", path)
	}
	defer src.Close()
	col := [5]int{-1, -1, -1, -1, -1}
	for i, h := range src.Header() {
		if c, ok := historyColumns[tape.NormalizeHeader(h)]; ok {
			col[c] = i
		}
	}
	for i, name := range []string{"loan_id", "month", "amount"} {
		if col[i] < 0 {
			return hr, reclaim.Errorf(reclaim.EINVALID, "the repayment history has no %s column (expected headers: loan_id, month, amount, source, channel)", name)
		}
	}
	unit := money.Major
	if _, u := tape.SplitHeaderUnit(src.Header()[col[2]]); u != money.Major {
		unit = u
	}
	cell := func(r tape.Row, i int) string {
		if i < 0 || i >= len(r.Cells) {
			return ""
		}
		return strings.TrimSpace(r.Cells[i])
	}
	reject := func(e tape.RowError) {
		hr.Rejected++
		if len(hr.Errors) < maxErrors {
			hr.Errors = append(hr.Errors, e)
		}
	}
	fail := func(line int, field, value, rule, code string) {
		reject(tape.RowError{Line: line, Field: field, Value: value, Rule: rule, Code: code, Message: msg.Render(msg.EN, code, nil)})
	}
	// Rows are checked against the loans the import stored in batches (known), and stored as
	// they are read (add): no map of every loan id, no slice of every repayment.
	type pending struct {
		r  tape.Row
		re *tape.RowError
	}
	var rows []pending
	var ids []string
	out := make([]reclaim.Repayment, 0, historyBatch)
	flush := func() error {
		ok, err := known(ids)
		if err != nil {
			return err
		}
		out = out[:0]
		for i, p := range rows {
			if p.re != nil {
				reject(*p.re)
				continue
			}
			r, id := p.r, ids[i]
			if !ok[i] {
				fail(r.Line, "loan_id", id, "history_loan", "row.history_loan")
				continue
			}
			m, err := historyMonth(cell(r, col[1]))
			if err != nil {
				fail(r.Line, "month", cell(r, col[1]), tape.RuleDateFormat, "row.history_month")
				continue
			}
			a, err := money.ParseUnit(cell(r, col[2]), cur, unit, money.HalfUp)
			if err != nil || a.Sign() < 0 {
				fail(r.Line, "amount", cell(r, col[2]), tape.RuleAmountFormat, "row.history_amount")
				continue
			}
			src, ch := reclaim.SourceDebtor, reclaim.ChannelInternal
			if v := cell(r, col[3]); v != "" {
				if src = historySources[strings.ToLower(v)]; src == "" {
					fail(r.Line, "source", v, tape.RuleEnum, "row.history_source")
					continue
				}
			}
			if v := cell(r, col[4]); v != "" {
				if ch = historyChannels[strings.ToLower(v)]; ch == "" {
					fail(r.Line, "channel", v, tape.RuleEnum, "row.history_channel")
					continue
				}
			}
			out = append(out, reclaim.Repayment{LoanID: id, Month: m.StartOfMonth(), Amount: a, Source: src, Channel: ch})
		}
		rows, ids = rows[:0], ids[:0]
		if len(out) > 0 {
			if err := add(out); err != nil {
				return err
			}
			hr.Imported += int64(len(out))
		}
		return nil
	}
	for {
		r, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		hr.Rows++
		if err != nil {
			var re *tape.RowError
			if errors.As(err, &re) {
				rows, ids = append(rows, pending{re: re}), append(ids, "")
			} else {
				return hr, err
			}
		} else {
			rows, ids = append(rows, pending{r: r}), append(ids, cell(r, col[0]))
		}
		if len(rows) >= historyBatch {
			if err := flush(); err != nil {
				return hr, err
			}
		}
	}
	if err := flush(); err != nil {
		return hr, err
	}
	return hr, nil
}

// historyMonth reads a history row's month: any form date.ParseMonth reads (2024-01, 2024/1,
// 202401, 2024年1月, or a whole date), or a spreadsheet's serial day number (a month column of an
// Excel workbook formatted as a date arrives as one, five digits in this century; the 1900 date
// system).
func historyMonth(v string) (date.Date, error) {
	if len(v) == 5 && strings.Trim(v, "0123456789") == "" { // 10000-99999: 1927-05-18 to 2173-10-14
		serial, _ := strconv.Atoi(v)
		d, err := date.FromExcelSerial(float64(serial), false)
		if err != nil {
			return date.Date{}, err
		}
		return d.StartOfMonth(), nil
	}
	return date.ParseMonth(v)
}
