package ingest

import (
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/tape"
)

// rejectWriter writes rejected rows unchanged, followed by the line they came from, the rules they
// broke and the messages, as UTF-8 CSV with a BOM so spreadsheets show Chinese text correctly.
type rejectWriter struct {
	f *os.File
	w *csv.Writer
	n int
}

func newRejectWriter(path string, header []string) (*rejectWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, reclaim.WrapError(reclaim.EINVALID, err, "cannot create the rejects file %s", path)
	}
	if _, err := f.WriteString("\ufeff"); err != nil {
		f.Close()
		return nil, err
	}
	w := csv.NewWriter(f)
	h := append(append([]string(nil), header...), "_line", "_rules", "_errors")
	if err := w.Write(h); err != nil {
		f.Close()
		return nil, err
	}
	return &rejectWriter{f: f, w: w, n: len(header)}, nil
}

func (r *rejectWriter) write(row tape.Row, errs []tape.RowError) error {
	cells := make([]string, 0, len(row.Cells)+3)
	cells = append(cells, row.Cells...)
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
	if cerr := r.f.Close(); err == nil {
		err = cerr
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
	fail := func(line int, field, value, rule, msg string) {
		hr.Rejected++
		if len(hr.Errors) < maxErrors {
			hr.Errors = append(hr.Errors, tape.RowError{Line: line, Field: field, Value: value, Rule: rule, Message: msg})
		}
	}
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
				fail(p.re.Line, p.re.Field, p.re.Value, p.re.Rule, p.re.Message)
				continue
			}
			r, id := p.r, ids[i]
			if !ok[i] {
				fail(r.Line, "loan_id", id, "history_loan", "no valid loan with this loan_id in the tape")
				continue
			}
			m, err := date.Parse(cell(r, col[1]))
			if err != nil {
				if m2, err2 := date.Parse(cell(r, col[1]) + "-01"); err2 == nil {
					m, err = m2, nil
				}
			}
			if err != nil {
				fail(r.Line, "month", cell(r, col[1]), tape.RuleDateFormat, "not a month (2024-01 or 2024-01-01)")
				continue
			}
			a, err := money.ParseUnit(cell(r, col[2]), cur, unit, money.HalfUp)
			if err != nil || a.Sign() < 0 {
				fail(r.Line, "amount", cell(r, col[2]), tape.RuleAmountFormat, "not a non-negative amount")
				continue
			}
			src, ch := reclaim.SourceDebtor, reclaim.ChannelInternal
			if v := cell(r, col[3]); v != "" {
				if src = historySources[strings.ToLower(v)]; src == "" {
					fail(r.Line, "source", v, tape.RuleEnum, "expected debtor, guarantor, collateral or court")
					continue
				}
			}
			if v := cell(r, col[4]); v != "" {
				if ch = historyChannels[strings.ToLower(v)]; ch == "" {
					fail(r.Line, "channel", v, tape.RuleEnum, "expected internal, agency or legal")
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
