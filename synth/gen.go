package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"reclaim"
	"reclaim/cnid"
	"reclaim/date"
	"reclaim/money"
)

// Item is one generated loan with everything known about it.
type Item struct {
	// Index is the loan's 0-based position in the portfolio; OutcomeRand(seed, Index) is its
	// outcome stream.
	Index int
	// BorrowerIndex is the 0-based position of the loan's borrower; loans of one borrower are
	// consecutive.
	BorrowerIndex int
	// Loan is a valid canonical tape row.
	Loan reclaim.Loan
	// Personal is the borrower's fake personal data (the same for every loan of the borrower).
	Personal reclaim.PersonalData
	// History holds the loan's repayments in the HistoryMonths months up to and including the
	// cut-off's month, oldest first, at most one per month. When the loan's last payment falls in
	// that window it is the last entry, with the amount Loan.LastPaymentAmount.
	History []reclaim.Repayment
	// Propensity is the borrower's latent recovery propensity, a standard normal draw. Higher
	// means more likely to pay. It is never written on a tape.
	Propensity float64
	// Corrupted lists the validation rules WriteTape breaks in this row's text (at most one);
	// the Loan itself is always valid.
	Corrupted []string
}

// Generator streams the items of one Config. It keeps only the current borrower's state, so its
// memory does not grow with Config.Loans. A Generator is not safe for concurrent use.
type Generator struct {
	cfg       Config
	pp        profileParams
	prefix    string
	winStart  date.Date
	next      int // index of the next loan
	borrowers int // borrowers started
	b         borrower
	injectCum []float64 // cumulative shares, in the order of Rules
}

// borrower is the state shared by a borrower's loans.
type borrower struct {
	index    int
	id       string
	loans    int // loans the borrower has in the package
	done     int // loans emitted so far
	z        float64
	dpdShock float64
	uPhone   float64
	male     bool
	birth    date.Date
	age      int
	region   string // county-level GB/T 2260 code
	prefName string
	deceased bool
	bankrupt bool
	personal reclaim.PersonalData
}

// New returns a generator for cfg after validating it (see Config.Validate).
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	g := &Generator{cfg: cfg, pp: profileTable[cfg.Profile], b: borrower{index: -1}}
	g.prefix = map[Profile]string{BankCards: "CC", ConsumerFinance: "XF", BankMixed: "LN", Aged: "HX"}[cfg.Profile]
	g.winStart = cfg.CutOff.StartOfMonth().AddMonths(-(cfg.HistoryMonths - 1))
	t := 0.0
	for _, name := range Rules {
		t += cfg.Invalid[name]
		g.injectCum = append(g.injectCum, t)
	}
	return g, nil
}

// Config returns the generator's configuration with defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Borrowers returns the number of borrowers whose loans have been emitted so far.
func (g *Generator) Borrowers() int { return g.borrowers }

// Next returns the next item, or false after Config.Loans items. Loan i (0-based) and its
// borrower's data depend only on Config (not on Loans or on earlier calls).
func (g *Generator) Next() (Item, bool) {
	if g.next >= g.cfg.Loans {
		return Item{}, false
	}
	if g.b.index < 0 || g.b.done >= g.b.loans {
		g.newBorrower(g.b.index + 1)
		g.borrowers++
	}
	it := g.makeLoan(g.next)
	g.b.done++
	g.next++
	if r := g.injection(it.Index); r != "" {
		it.Corrupted = []string{r}
	}
	return it, true
}

// loansPerBorrower are the shares of borrowers with 1, 2, 3 and 4 loans (mean about 1.23).
var loansPerBorrower = []float64{0.83, 0.12, 0.04, 0.01}

func (g *Generator) newBorrower(idx int) {
	r := newRand(g.cfg.Seed, streamBorrower, idx)
	pp := &g.pp
	b := &g.b
	*b = borrower{index: idx, id: "C" + pad(idx+1, 9)}
	b.loans = 1 + pick(r, loansPerBorrower)
	b.z = r.NormFloat64()
	b.dpdShock = r.NormFloat64()
	b.uPhone = r.Float64()
	b.male = r.Float64() < 0.62 // most personal-NPL debtors are men
	// Age at the cut-off: mostly 30-50; higher propensity pulls toward the centre.
	a := pp.ageMean + pp.ageSD*r.NormFloat64()*math.Exp(-0.2*b.z)
	b.age = int(clamp(math.Round(a), 20, 72))
	cut := g.cfg.CutOff
	b.birth = cut.AddYears(-b.age).AddDays(-between(r, 1, 364))
	b.age = date.Age(b.birth, cut)
	b.deceased = r.Float64() < 0.003+0.0004*math.Max(0, float64(b.age-50))+boolF(g.cfg.Profile == Aged)*0.006
	b.bankrupt = r.Float64() < 0.0006
	county, province, prefecture := sampleRegion(r, pp.eastBias)
	b.region, b.prefName = county, prefecture
	b.personal = reclaim.PersonalData{
		Name:       chineseName(r, b.male),
		NationalID: cnid.Generate(county, b.birth, r.IntN(1000), b.male),
		Phone:      cnid.GenerateMobile(r),
		Address:    address(r, province, prefecture),
		Employer:   employer(r, prefecture),
		BankCard:   bankCard(r),
		BirthDate:  b.birth,
	}
	nc := 1 + r.IntN(2)
	var cb strings.Builder
	for k := 0; k < nc; k++ {
		if k > 0 {
			cb.WriteString("; ")
		}
		rel := relations[r.IntN(len(relations))]
		cb.WriteString(chineseName(r, r.Float64() < 0.5))
		cb.WriteString("(" + rel + ")")
		cb.WriteString(cnid.GenerateMobile(r))
	}
	b.personal.Contacts = cb.String()
}

func boolF(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}

// amount converts major units to money with HALF_UP rounding to the currency's minor unit.
func (g *Generator) amount(x float64) money.Amount {
	scale := math.Pow10(g.cfg.Currency.Digits())
	return money.New(int64(math.Round(x*scale)), g.cfg.Currency)
}

// roundTo rounds x to a multiple of step.
func roundTo(x, step float64) float64 { return math.Round(x/step) * step }

func (g *Generator) makeLoan(idx int) Item {
	r := newRand(g.cfg.Seed, streamLoan, idx)
	pp := &g.pp
	b := &g.b
	cut := g.cfg.CutOff
	z := b.z
	l := reclaim.Loan{
		PortfolioRef: g.cfg.PortfolioRef,
		CutOffDate:   cut,
		LoanID:       g.prefix + pad(idx+1, 10),
		BorrowerID:   b.id,
		Currency:     g.cfg.Currency,
		BirthDate:    b.birth,
		BirthYear:    b.birth.Year(),
		Age:          b.age,
		RegionCode:   b.region,
		Deceased:     b.deceased,
		Bankrupt:     b.bankrupt,
	}
	prod := products[pick(r, pp.mix[:])]
	prm := productTable[prod]
	l.ProductType = prod

	// Days past due: the profile's lognormal, shifted down for high-propensity borrowers.
	dpd := pp.minDPD + int(lognormal(r, pp.dpdMedian*math.Exp(-0.2*z+0.25*b.dpdShock), pp.dpdSigma))
	if dpd > pp.maxDPD {
		dpd = pp.maxDPD - r.IntN((pp.maxDPD-pp.minDPD)/4+1)
	}
	def := cut.AddDays(-dpd)
	l.DefaultDate, l.DaysPastDue = def, dpd
	years := float64(dpd) / 365

	// Balances.
	pr := lognormal(r, prm.median*pp.balanceScale*math.Exp(-0.15*z), prm.sigma)
	pr = clamp(pr, 200, prm.maxPrincipal)
	pr = roundTo(pr, 0.01)
	l.PrincipalOutstanding = g.amount(pr)
	instalment := 0.0
	if prm.terms == nil { // revolving: the original amount is the credit line
		line := math.Ceil(pr/uniform(r, 0.6, 1.0)/1000) * 1000
		l.OriginalAmount = g.amount(line)
		l.OriginationDate = def.AddMonths(-between(r, 8, 96))
		instalment = math.Max(100, 0.1*pr*uniform(r, 0.8, 1.2))
	} else {
		terms := prm.terms
		if pp.terms != nil && prod == reclaim.ConsumerLoan {
			terms = pp.terms
		}
		T := terms[r.IntN(len(terms))]
		paid := between(r, 1, max(1, T*2/3))
		remaining := 1 - float64(paid)/float64(T)
		if prod == reclaim.MortgageLoan {
			remaining = 1 - 0.7*float64(paid)/float64(T)
		}
		orig := math.Max(roundTo(pr/remaining, 100), math.Ceil(pr))
		l.OriginalAmount = g.amount(orig)
		l.OriginationDate = def.AddMonths(-(paid + 1))
		instalment = orig / float64(T) * uniform(r, 1.02, 1.12)
	}
	rate := prm.rate * pp.rateScale
	intShare := clamp(rate*years*uniform(r, 0.6, 1.15)+uniform(r, 0, 0.03), 0, 1.0)
	l.InterestOutstanding = g.amount(roundTo(pr*intShare, 0.01))
	fees := 0.0
	switch prod {
	case reclaim.CreditCard, reclaim.ConsumerLoan:
		fees = pr * pp.feeShare * math.Min(years, 3) * uniform(r, 0.3, 1.7)
	default:
		if r.Float64() < 0.5 {
			fees = pr * uniform(r, 0, 0.01)
		}
	}
	l.FeesOutstanding = g.amount(roundTo(fees, 0.01))
	l.TotalClaim, _ = money.Sum(l.PrincipalOutstanding, l.InterestOutstanding, l.FeesOutstanding)

	// Security.
	switch prod {
	case reclaim.CreditCard:
		l.SecurityType = reclaim.Unsecured
	case reclaim.ConsumerLoan:
		l.SecurityType = []reclaim.SecurityType{reclaim.Unsecured, reclaim.Guaranteed}[pick(r, []float64{0.95, 0.05})]
	case reclaim.BusinessLoan:
		l.SecurityType = []reclaim.SecurityType{reclaim.Unsecured, reclaim.Guaranteed, reclaim.Mortgaged, reclaim.Pledged}[pick(r, []float64{0.45, 0.38, 0.14, 0.03})]
	case reclaim.AutoLoan:
		l.SecurityType = []reclaim.SecurityType{reclaim.Mortgaged, reclaim.Pledged, reclaim.Guaranteed}[pick(r, []float64{0.85, 0.05, 0.10})]
	case reclaim.MortgageLoan:
		l.SecurityType = reclaim.Mortgaged
	}
	secured := l.SecurityType == reclaim.Mortgaged || l.SecurityType == reclaim.Pledged

	// Five-category grade, consistent with DPD: 90-180 days substandard, 181-360 doubtful,
	// beyond that loss (collateral keeps some secured loans at doubtful); some are graded one step
	// more severely.
	switch {
	case dpd <= 180:
		l.FiveCategory = []reclaim.FiveCategory{reclaim.Substandard, reclaim.Doubtful}[pick(r, []float64{0.82, 0.18})]
	case dpd <= 360:
		l.FiveCategory = []reclaim.FiveCategory{reclaim.Doubtful, reclaim.Loss}[pick(r, []float64{0.75, 0.25})]
	case secured && r.Float64() < 0.3:
		l.FiveCategory = reclaim.Doubtful
	default:
		l.FiveCategory = reclaim.Loss
	}

	// Write-off, more likely the longer past due.
	if pp.allWrittenOff || (dpd >= 180 && r.Float64() < logistic(-3.2+1.6*math.Min(years, 5)-0.35*z+pp.writeOffLogit-boolF(secured))) {
		l.WrittenOff = true
		l.WriteOffDate = def.AddDays(between(r, 180, min(dpd, 900)))
		if l.FiveCategory != reclaim.Loss {
			l.FiveCategory = reclaim.Loss
		}
	}

	// Contactability.
	l.PhoneAvailable = !b.deceased && b.uPhone < logistic(1.3+0.9*z-0.35*math.Min(years, 8))
	switch {
	case l.PhoneAvailable:
		l.LastContactDate = cut.AddDays(-min(dpd, int(r.ExpFloat64()*40)))
	case r.Float64() < 0.85:
		l.LastContactDate = def.AddDays(int(float64(dpd) * uniform(r, 0, 0.6)))
	}

	// Litigation: more likely with DPD, balance, security and lower propensity.
	var legalStart date.Date
	if dpd >= 150 && r.Float64() < logistic(-3.0+0.9*math.Min(years, 6)+0.45*math.Log(pr/30000)-0.45*z+pp.sueLogit+0.8*boolF(secured)) {
		off := 120 + int(float64(dpd-150)*math.Pow(r.Float64(), 1.5))
		legalStart = def.AddDays(off)
		l.LegalStartDate = legalStart
		l.LegalStatus = legalStatus(r, date.MonthsBetween(legalStart, cut))
		l.Court = b.prefName + courtSuffix(r)
	} else {
		l.LegalStatus = reclaim.NotSued
	}
	sued := l.LegalStatus != reclaim.NotSued
	judged := sued && l.LegalStatus != reclaim.InLitigation

	l.AgencyPlacements = min(12, poisson(r, pp.agencyBase+0.7*math.Min(years, 6)))
	l.ComplaintFlag = r.Float64() < pp.complaint+0.01*float64(l.AgencyPlacements)
	l.ForbearanceCount = pick(r, []float64{0.86, 0.10, 0.03, 0.01})
	l.RepaymentPlanActive = l.PhoneAvailable && !sued && !b.deceased && r.Float64() < logistic(-3.4+0.8*z)

	// Repayments: regular ones before default, sporadic ones after, recorded in the window.
	it := Item{Index: idx, BorrowerIndex: b.index, Propensity: z}
	hist := make([]reclaim.Repayment, 0, 8)
	var lastDate date.Date
	var lastAmt float64
	cutMonth := cut.StartOfMonth()
	add := func(day date.Date, amt float64, src, ch string) {
		amt = roundTo(amt, 0.01)
		lastDate, lastAmt = day, amt
		if m := day.StartOfMonth(); !m.Before(g.winStart) {
			hist = append(hist, reclaim.Repayment{LoanID: l.LoanID, Month: m, Amount: g.amount(amt), Source: src, Channel: ch})
		}
	}
	if r.Float64() >= pp.neverPaid {
		lastReg := def.AddDays(-between(r, 18, 40))
		if !lastReg.After(l.OriginationDate) {
			lastReg = l.OriginationDate.AddDays(1)
		}
		q := 0.80 + 0.15*logistic(z)
		first := l.OriginationDate.StartOfMonth().AddMonths(1)
		if first.Before(g.winStart) {
			first = g.winStart
		}
		lastRegMonth := lastReg.StartOfMonth()
		for k := 0; ; k++ {
			m := first.AddMonths(k)
			if m.After(lastRegMonth) {
				break
			}
			switch {
			case m == lastRegMonth:
				amt := instalment
				if r.Float64() < 0.3 {
					amt *= uniform(r, 0.3, 1)
				}
				add(lastReg, amt, reclaim.SourceDebtor, reclaim.ChannelInternal)
			case r.Float64() < q:
				add(m.AddDays(between(r, 0, 27)), instalment, reclaim.SourceDebtor, reclaim.ChannelInternal)
			}
		}
		if lastDate.IsZero() { // the window starts after the last regular payment
			amt := instalment
			if r.Float64() < 0.3 {
				amt *= uniform(r, 0.3, 1)
			}
			add(lastReg, amt, reclaim.SourceDebtor, reclaim.ChannelInternal)
		}
		// After default: sporadic part payments, more often for high-propensity borrowers.
		planLen := 0
		planAmt := 0.0
		if l.RepaymentPlanActive {
			planLen = between(r, 1, 6)
			planAmt = roundTo(math.Max(100, pr*uniform(r, 0.02, 0.08)), 10)
		}
		phone := -0.4
		if l.PhoneAvailable {
			phone = 0.4
		}
		m0 := def.StartOfMonth().AddMonths(1)
		for k := 0; ; k++ {
			m := m0.AddMonths(k)
			if m.After(cutMonth) {
				break
			}
			lastDay := 28
			if m == cutMonth {
				lastDay = cut.Day()
			}
			day := m.AddDays(between(r, 0, lastDay-1))
			if l.RepaymentPlanActive && !m.Before(cutMonth.AddMonths(-planLen)) {
				if r.Float64() < 0.92 {
					add(day, planAmt, reclaim.SourceDebtor, reclaim.ChannelInternal)
				}
				continue
			}
			ys := float64(m.Sub(def)) / 365
			if r.Float64() >= logistic(-3.6+1.0*z-0.55*math.Min(ys, 6)+phone) {
				continue
			}
			amt := roundTo(math.Max(50, pr*uniform(r, 0.003, 0.03)), 10)
			src, ch := reclaim.SourceDebtor, reclaim.ChannelInternal
			switch {
			case judged && !m.Before(legalStart.AddMonths(6)) && r.Float64() < 0.5:
				src, ch = reclaim.SourceCourt, reclaim.ChannelLegal
			case l.SecurityType == reclaim.Guaranteed && r.Float64() < 0.25:
				src = reclaim.SourceGuarantor
				if l.AgencyPlacements > 0 && r.Float64() < 0.4 {
					ch = reclaim.ChannelAgency
				}
			case l.AgencyPlacements > 0 && ys > 0.5 && r.Float64() < 0.45:
				ch = reclaim.ChannelAgency
			case sued && !m.Before(legalStart) && r.Float64() < 0.3:
				ch = reclaim.ChannelLegal
			}
			add(day, amt, src, ch)
		}
	}
	if !lastDate.IsZero() {
		l.LastPaymentDate = lastDate
		l.LastPaymentAmount = g.amount(lastAmt)
	}

	// Limitation: three years from the later of default and last payment; a lawsuit restarts
	// it, and a judgment opens the enforcement period.
	from := def
	if lastDate.After(from) {
		from = lastDate
	}
	exp := from.AddYears(3)
	if sued {
		if e := legalStart.AddYears(3); e.After(exp) {
			exp = e
		}
		if judged {
			if e := legalStart.AddYears(5); e.After(exp) {
				exp = e
			}
		}
	}
	l.LimitationExpiryDate = exp

	it.Loan = l
	it.Personal = b.personal
	it.History = hist
	return it
}

// legalStatus draws where a lawsuit filed months ago stands now.
func legalStatus(r *rand.Rand, months int) reclaim.LegalStatus {
	type ls = reclaim.LegalStatus
	var states []ls
	var w []float64
	switch {
	case months < 4:
		states, w = []ls{reclaim.InLitigation, reclaim.Mediated}, []float64{0.7, 0.3}
	case months < 12:
		states, w = []ls{reclaim.Judgment, reclaim.Mediated, reclaim.InLitigation, reclaim.Enforcement}, []float64{0.45, 0.25, 0.15, 0.15}
	case months < 30:
		states, w = []ls{reclaim.Enforcement, reclaim.Judgment, reclaim.EnforcementTerminated, reclaim.Mediated}, []float64{0.4, 0.25, 0.25, 0.1}
	default:
		states, w = []ls{reclaim.EnforcementTerminated, reclaim.Enforcement, reclaim.Judgment, reclaim.Closed, reclaim.Mediated}, []float64{0.55, 0.2, 0.15, 0.05, 0.05}
	}
	return states[pick(r, w)]
}

func courtSuffix(r *rand.Rand) string {
	if r.Float64() < 0.2 {
		return "中级人民法院"
	}
	return []string{"城区人民法院", "高新区人民法院", "开发区人民法院", "新区人民法院", "县人民法院"}[r.IntN(5)]
}

// errorf wraps a message as an EINVALID reclaim.Error.
func errorf(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &reclaim.Error{Code: reclaim.EINVALID, Message: "synth: " + msg, Fields: map[string]string{field: msg}}
}

// injection returns the rule to break in row idx, or "". Each rule r is chosen for a row with
// probability Config.Invalid[r], from a stream of its own keyed by (Seed, idx), so the choice is
// deterministic and independent of everything else. The first row never repeats a loan_id.
func (g *Generator) injection(idx int) string {
	if len(g.injectCum) == 0 || g.injectCum[len(g.injectCum)-1] == 0 {
		return ""
	}
	u := newRand(g.cfg.Seed, streamInject, idx).Float64()
	for i, c := range g.injectCum {
		if u < c {
			if Rules[i] == RuleLoanIDUnique && idx == 0 {
				return ""
			}
			return Rules[i]
		}
	}
	return ""
}
