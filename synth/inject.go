package synth

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/tape"
)

// TapeOptions says how WriteTape writes the tape.
type TapeOptions struct {
	// Format is "csv" (the default) or "xlsx". The history file is always CSV.
	Format string
	// Encoding is the CSV encoding: "utf-8" (default), "utf-8-bom", "gbk" or "gb18030". It is
	// ignored for an XLSX tape; the history file always uses it.
	Encoding string
	// Chinese writes Chinese headers and labels.
	Chinese bool
	// Unit writes money columns in a larger unit (money.Wan for 万元).
	Unit money.Unit
	// DateStyle is "iso" (default), "slash" or "chinese".
	DateStyle string
	// IncludePersonal adds the personal columns (name, national_id, phone, ...). The rules
	// national_id, national_id_birth and mobile need it.
	IncludePersonal bool
	// SeasonedMonths, when positive, makes the history file a seasoned tape's: after each loan's
	// history up to the cut-off it holds the loan's collections in the SeasonedMonths months after
	// the cut-off's month, drawn exactly as Seasoned draws them (Outcome with OutcomeRand(Seed,
	// Index)), so that a model trained on the imported tape (valuation.PortfolioExamples) sees the
	// same table as one trained on NewSeasoned(cfg, SeasonedMonths). It needs a history file and a
	// tape without invalid rows.
	SeasonedMonths int
}

// Stats summarises a written tape. Amounts are of the generated (valid) loans, corrupted rows
// included at their true values.
type Stats struct {
	Rows           int            // data rows written
	Borrowers      int            // distinct borrowers
	HistoryRows    int            // rows written to the history file (0 without one)
	Corrupted      map[string]int // rows corrupted, by rule
	TotalClaim     money.Amount
	TotalPrincipal money.Amount
	TotalInterest  money.Amount
	ByProduct      map[reclaim.ProductType]int // loans by product
}

// HistoryHeader returns the header of the repayment-history CSV: loan_id, month, amount, source,
// channel, or their Chinese equivalents.
func HistoryHeader(chinese bool) []string {
	if chinese {
		return []string{"借据号", "月份", "还款金额", "还款来源", "渠道"}
	}
	return []string{"loan_id", "month", "amount", "source", "channel"}
}

// WriteTape generates cfg's portfolio and writes it as a loan tape to tapeOut (header first),
// and, when historyOut is non-nil, the repayment histories as a CSV (HistoryHeader, then one row
// per loan and month with a payment: month as a date of the first day in opts.DateStyle, amount in
// major units, source and channel as canonical values). Rows chosen for corruption (Item.Corrupted)
// are altered at the text level so that each breaks exactly its rule; the history of a row whose
// loan_id is made a duplicate is left out. progress, when non-nil, is called with the number of rows
// written every 1,000 rows and at the end. WriteTape stops with ctx's error when ctx is done; what
// was written until then is incomplete. Memory does not grow with cfg.Loans (an XLSX writer may
// buffer its sheet).
func WriteTape(ctx context.Context, cfg Config, tapeOut io.Writer, historyOut io.Writer, opts TapeOptions, progress func(done int)) (Stats, error) {
	g, err := New(cfg)
	if err != nil {
		return Stats{}, err
	}
	if !opts.IncludePersonal {
		for _, r := range personalRules {
			if cfg.Invalid[r] > 0 {
				return Stats{}, errorf("invalid", "rule %q needs the personal columns (TapeOptions.IncludePersonal)", r)
			}
		}
	}
	if opts.SeasonedMonths != 0 {
		if opts.SeasonedMonths < 0 || opts.SeasonedMonths > MaxSeasonedMonths {
			return Stats{}, errorf("seasoned_months", "seasoned months must be in 1-%d, got %d", MaxSeasonedMonths, opts.SeasonedMonths)
		}
		if historyOut == nil {
			return Stats{}, errorf("seasoned_months", "a seasoned tape's collections go to the history file: give one")
		}
		for name, share := range cfg.Invalid {
			if share != 0 {
				return Stats{}, errorf("invalid", "a seasoned tape cannot corrupt rows (rule %q)", name)
			}
		}
	}
	if opts.Format == "" {
		opts.Format = "csv"
	}
	tapeEnc, histEnc := opts.Encoding, opts.Encoding
	if strings.EqualFold(opts.Format, "xlsx") {
		tapeEnc = "" // XLSX has no text encoding
	}
	if histEnc == "" {
		histEnc = "utf-8"
	}
	cur := g.cfg.Currency
	st := Stats{Corrupted: map[string]int{}, ByProduct: map[reclaim.ProductType]int{},
		TotalClaim: money.Zero(cur), TotalPrincipal: money.Zero(cur), TotalInterest: money.Zero(cur)}

	tw, err := tape.NewWriter(tapeOut, tape.WriterOptions{Format: opts.Format, Encoding: tapeEnc})
	if err != nil {
		return st, err
	}
	var hw *tape.Writer
	if historyOut != nil {
		if hw, err = tape.NewWriter(historyOut, tape.WriterOptions{Format: "csv", Encoding: histEnc}); err != nil {
			return st, err
		}
	}
	cols := tape.AllColumns(opts.IncludePersonal)
	eo := tape.EncodeOptions{Chinese: opts.Chinese, Unit: opts.Unit, DateStyle: opts.DateStyle}
	if err := tw.Write(tape.HeaderRow(cols, eo)); err != nil {
		return st, err
	}
	if hw != nil {
		if err := hw.Write(HistoryHeader(opts.Chinese)); err != nil {
			return st, err
		}
	}
	inj := newInjector(cols, eo)
	hrow := make([]string, 5)
	for {
		if st.Rows%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
		it, ok := g.Next()
		if !ok {
			break
		}
		cells := tape.EncodeLoan(&it.Loan, &it.Personal, cols, eo)
		dupID := false
		if len(it.Corrupted) > 0 {
			rule := it.Corrupted[0]
			cells = inj.corrupt(cells, &it, rule, newRand(g.cfg.Seed, streamInject, it.Index))
			st.Corrupted[rule]++
			dupID = rule == RuleLoanIDUnique
		}
		if err := tw.Write(cells); err != nil {
			return st, err
		}
		inj.prevID = it.Loan.LoanID
		if dupID {
			inj.prevID = cells[inj.col[tape.FLoanID]]
		}
		st.Rows++
		st.ByProduct[it.Loan.ProductType]++
		st.TotalClaim, _ = st.TotalClaim.Add(it.Loan.TotalClaim)
		st.TotalPrincipal, _ = st.TotalPrincipal.Add(it.Loan.PrincipalOutstanding)
		st.TotalInterest, _ = st.TotalInterest.Add(it.Loan.InterestOutstanding)
		if hw != nil && !dupID {
			for _, h := range it.History {
				hrow[0], hrow[1], hrow[2], hrow[3], hrow[4] = h.LoanID, formatDate(h.Month, opts.DateStyle), h.Amount.String(), h.Source, h.Channel
				if err := hw.Write(hrow); err != nil {
					return st, err
				}
				st.HistoryRows++
			}
			if opts.SeasonedMonths > 0 {
				out := Outcome(&it, opts.SeasonedMonths, OutcomeRand(g.cfg.Seed, it.Index))
				for _, h := range out.Payments {
					hrow[0], hrow[1], hrow[2], hrow[3], hrow[4] = h.LoanID, formatDate(h.Month, opts.DateStyle), h.Amount.String(), h.Source, h.Channel
					if err := hw.Write(hrow); err != nil {
						return st, err
					}
					st.HistoryRows++
				}
			}
		}
		if progress != nil && st.Rows%1000 == 0 {
			progress(st.Rows)
		}
	}
	st.Borrowers = g.Borrowers()
	if err := tw.Close(); err != nil {
		return st, err
	}
	if hw != nil {
		if err := hw.Close(); err != nil {
			return st, err
		}
	}
	if progress != nil && st.Rows%1000 != 0 {
		progress(st.Rows)
	}
	return st, nil
}

// formatDate writes d in one of the tape date styles.
func formatDate(d date.Date, style string) string {
	y, m, dd := d.Date()
	switch style {
	case "slash":
		return fmt.Sprintf("%d/%d/%d", y, int(m), dd)
	case "chinese":
		return fmt.Sprintf("%d年%d月%d日", y, int(m), dd)
	}
	return d.String()
}

// injector corrupts encoded rows.
type injector struct {
	cols   []tape.Field
	col    map[tape.Field]int
	eo     tape.EncodeOptions
	prevID string // loan_id of the previous row as written
}

func newInjector(cols []tape.Field, eo tape.EncodeOptions) *injector {
	in := &injector{cols: cols, col: map[tape.Field]int{}, eo: eo}
	for i, f := range cols {
		in.col[f] = i
	}
	return in
}

// Fields a "required" corruption may blank: critical, and in no cross-field rule.
var requiredTargets = []tape.Field{tape.FBorrowerID, tape.FFiveCategory, tape.FLegalStatus, tape.FAgencyPlacements,
	tape.FPhoneAvailable, tape.FLimitationExpiry, tape.FWrittenOff}

var badDates = []string{"2024-13-45", "yesterday", "2023-02-30", "31/31/2024"}

var badAmounts = []string{"12,34.5x", "1.2.3", "约5000", "--100"}

// corrupt returns cells altered so that the row breaks rule and no other rule.
func (in *injector) corrupt(cells []string, it *Item, rule string, r *rand.Rand) []string {
	r.Float64() // the first number chose the rule
	set := func(f tape.Field, v string) {
		if i, ok := in.col[f]; ok {
			cells[i] = v
		}
	}
	reencode := func(l *reclaim.Loan) []string {
		return tape.EncodeLoan(l, &it.Personal, in.cols, in.eo)
	}
	l := it.Loan // a copy
	cut := l.CutOffDate
	switch rule {
	case RuleRequired:
		set(requiredTargets[r.IntN(len(requiredTargets))], "")
	case RuleEnum:
		switch r.IntN(3) {
		case 0:
			set(tape.FProductType, pickLang(in.eo.Chinese, "student_loan", "学生贷款"))
		case 1:
			set(tape.FFiveCategory, pickLang(in.eo.Chinese, "normal", "关注"))
		default:
			set(tape.FLegalStatus, pickLang(in.eo.Chinese, "arbitration", "仲裁中"))
		}
	case RuleDateFormat:
		set(tape.FLimitationExpiry, badDates[r.IntN(len(badDates))])
	case RuleAmountFormat:
		set(tape.FLastPaymentAmount, badAmounts[r.IntN(len(badAmounts))])
	case RuleNegativeAmount:
		l.PrincipalOutstanding, _ = l.PrincipalOutstanding.Neg()
		l.TotalClaim, _ = l.Claim()
		return reencode(&l)
	case RuleClaimSum:
		l.TotalClaim, _ = l.TotalClaim.Add(money.New(1, l.Currency))
		return reencode(&l)
	case RuleDPDConsistent:
		l.DaysPastDue += between(r, 1, 30)
		return reencode(&l)
	case RuleDefaultBeforeCut:
		// A typo'd default date; days_past_due keeps its value (a negative count would break
		// int_format), and the validator does not check it against a default date it rejected.
		l.DefaultDate = cut.AddDays(between(r, 1, 60))
		return reencode(&l)
	case RuleLastPaymentBefore:
		l.LastPaymentDate = cut.AddDays(between(r, 1, 60))
		if l.LastPaymentAmount.IsAbsent() {
			l.LastPaymentAmount = money.New(10000, l.Currency)
		}
		return reencode(&l)
	case RuleLoanIDUnique:
		if in.prevID != "" {
			set(tape.FLoanID, in.prevID)
		}
	case RuleNationalID:
		if i, ok := in.col[tape.FNationalID]; ok && len(cells[i]) == 18 {
			id := cells[i]
			const checks = "0123456789X"
			c := checks[r.IntN(len(checks))]
			if c == id[17] {
				c = checks[(1+indexByte(checks, c))%len(checks)]
			}
			cells[i] = id[:17] + string(c)
		}
	case RuleNationalIDBirth:
		l.BirthDate = l.BirthDate.AddDays(between(r, 1, 27))
		return reencode(&l)
	case RuleMobile:
		if i, ok := in.col[tape.FPhone]; ok && len(cells[i]) == 11 {
			cells[i] = cells[i][:10]
		}
	case RuleRegionCode:
		set(tape.FRegionCode, []string{"990101", "000000", "991234"}[r.IntN(3)])
	}
	return cells
}

func pickLang(chinese bool, en, zh string) string {
	if chinese {
		return zh
	}
	return en
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
