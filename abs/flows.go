package abs

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// maxFlowRows bounds a flows CSV.
const maxFlowRows = 100_000

// ParseFlowsCSV reads a CSV of date,amount rows (amount in yuan, such as 1234.56; date
// YYYY-MM-DD), with an optional header row "date,amount". Blank lines are skipped. Dates must be
// in increasing order, each at most once; amounts must not be negative. Any problem is a
// *reclaim.Error EINVALID whose Fields name the line ("line 3") and whose Err lists every bad
// line.
func ParseFlowsCSV(r io.Reader, cur money.Currency) ([]Flow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var flows []Flow
	var ps []Problem
	bad := func(line int, value, rule string) {
		ps = append(ps, Problem{Path: fmt.Sprintf("line %d", line), Value: value, Rule: rule})
	}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			bad(line, "", "is not valid CSV: "+err.Error())
			break
		}
		line, _ := cr.FieldPos(0)
		if len(flows)+len(ps) >= maxFlowRows {
			bad(line, "", fmt.Sprintf("exceeds the limit of %d rows", maxFlowRows))
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if n == 0 && len(rec) == 2 && strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")), "date") &&
			strings.EqualFold(strings.TrimSpace(rec[1]), "amount") {
			continue
		}
		if len(rec) != 2 {
			bad(line, fmt.Sprintf("%d fields", len(rec)), "is not two fields (date,amount)")
			continue
		}
		ds := strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff"))
		d, err := date.ParseStrict(ds)
		if err != nil {
			bad(line, fmt.Sprintf("%q", ds), "is not a date of the form YYYY-MM-DD")
			continue
		}
		as := strings.TrimSpace(rec[1])
		a, err := money.ParseStrict(as, cur)
		if err != nil {
			bad(line, fmt.Sprintf("%q", as), "is not an amount in yuan of the form 1234.56")
			continue
		}
		if a.Sign() < 0 {
			bad(line, as, "is negative")
			continue
		}
		if a.Minor() > maxMinor {
			bad(line, as, "is above the limit of 10,000,000,000,000 (10 trillion)")
			continue
		}
		if k := len(flows); k > 0 && !d.After(flows[k-1].Date) {
			bad(line, ds, "is not after the previous date "+flows[k-1].Date.String()+" (dates must be in order, once each)")
			continue
		}
		flows = append(flows, Flow{Date: d, Amount: a})
	}
	if len(ps) > 0 {
		fields := map[string]string{}
		for _, p := range ps {
			fields[p.Path] = strings.TrimSpace(p.Value + " " + p.Rule)
		}
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("flows CSV is invalid (%d problems)", len(ps)),
			Fields: fields, Err: &ValidationError{Problems: ps}}
	}
	if len(flows) == 0 {
		return nil, reclaim.Errorf(reclaim.EINVALID, "flows CSV has no rows of date,amount")
	}
	return flows, nil
}
