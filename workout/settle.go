package workout

import (
	"fmt"
	"math"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// Settlements: the discount that maximises the expected net present value of an offer given the
// acceptance model, the approval an offer needs (maker-checker above a role's limit), and the
// waiver that records the remainder a settlement forgives.

// SettlementInput is what OptimalDiscount weighs.
type SettlementInput struct {
	Claim money.Amount // the case's claim
	// Accept is P(accept | discount), for discounts in [0, 1).
	Accept func(d float64) float64
	// Fallback is the present value (yuan) of the case when the offer is refused (continued
	// collection); 0 when unknown.
	Fallback float64
	// PayDays is the days from acceptance to the lump sum; AnnualRate the discount rate of the NPV
	// (Act/365F, continuously compounded is not used: (1+r)^(days/365)).
	PayDays    int
	AnnualRate float64
	// KeepRate is P(the accepted settlement is paid) (0 means 1).
	KeepRate float64
	// Grid lists the candidate discounts (nil: DiscountGrid); MaxDiscount caps them (0 means no
	// cap below 1).
	Grid        []float64
	MaxDiscount float64
}

// DiscountGrid is the default grid of settlement discounts: 0%, 2.5%, ..., 80%.
var DiscountGrid = func() []float64 {
	g := make([]float64, 0, 33)
	for i := 0; i <= 32; i++ {
		g = append(g, float64(i)*0.025)
	}
	return g
}()

// Offer is a settlement offer.
type Offer struct {
	Discount    float64      `json:"discount"` // share of the claim waived
	Amount      money.Amount `json:"amount"`   // what the debtor pays: claim × (1 - discount), HALF_UP to the fen
	Waived      money.Amount `json:"waived"`   // claim - amount
	PAccept     float64      `json:"p_accept"`
	ExpectedNPV float64      `json:"expected_npv"` // yuan
}

// OfferNPV is the expected NPV (yuan) of an offer at discount d: P(accept)·keep·claim·(1-d)
// discounted over PayDays, plus P(refuse)·Fallback.
func (in *SettlementInput) OfferNPV(d float64) float64 {
	p := in.Accept(d)
	keep := in.KeepRate
	if keep == 0 {
		keep = 1
	}
	df := 1.0
	if in.AnnualRate > 0 {
		df = math.Pow(1+in.AnnualRate, -float64(in.PayDays)/365)
	}
	return p*keep*in.Claim.Float()*(1-d)*df + (1-p)*in.Fallback
}

func (in *SettlementInput) check() error {
	if in.Claim.Sign() <= 0 {
		return reclaim.Errorf(reclaim.EINVALID, "settlement: the claim must be positive, got %s", in.Claim)
	}
	if in.Accept == nil {
		return reclaim.Errorf(reclaim.EINVALID, "settlement: an acceptance model is required")
	}
	if !(in.MaxDiscount >= 0 && in.MaxDiscount < 1) {
		return reclaim.Errorf(reclaim.EINVALID, "settlement: max discount %v is outside [0, 1)", in.MaxDiscount)
	}
	if in.PayDays < 0 || in.AnnualRate < 0 || math.IsNaN(in.Fallback) || in.KeepRate < 0 || in.KeepRate > 1 {
		return reclaim.Errorf(reclaim.EINVALID, "settlement: pay days, rate and keep rate must be non-negative (keep rate at most 1)")
	}
	return nil
}

func (in *SettlementInput) offer(d float64) (Offer, error) {
	amt, err := money.FromFloat(in.Claim.Float()*(1-d), in.Claim.Currency(), money.HalfUp)
	if err != nil {
		return Offer{}, err
	}
	if amt.Cmp(in.Claim) > 0 {
		amt = in.Claim
	}
	w, err := in.Claim.Sub(amt)
	if err != nil {
		return Offer{}, err
	}
	return Offer{Discount: d, Amount: amt, Waived: w, PAccept: in.Accept(d), ExpectedNPV: in.OfferNPV(d)}, nil
}

// OptimalDiscount returns the offer on the grid (capped at MaxDiscount) with the largest expected
// NPV; ties go to the smaller discount. A grid value outside [0, 1) is EINVALID.
func OptimalDiscount(in SettlementInput) (Offer, error) {
	if err := in.check(); err != nil {
		return Offer{}, err
	}
	grid := in.Grid
	if grid == nil {
		grid = DiscountGrid
	}
	best, bestV, found := 0.0, math.Inf(-1), false
	for _, d := range grid {
		if !(d >= 0 && d < 1) {
			return Offer{}, reclaim.Errorf(reclaim.EINVALID, "settlement: grid discount %v is outside [0, 1)", d)
		}
		if in.MaxDiscount > 0 && d > in.MaxDiscount+1e-12 {
			continue
		}
		if v := in.OfferNPV(d); v > bestV || (v == bestV && d < best) {
			best, bestV, found = d, v, true
		}
	}
	if !found {
		return Offer{}, reclaim.Errorf(reclaim.EINVALID, "settlement: no grid discount within the cap %v", in.MaxDiscount)
	}
	return in.offer(best)
}

// GoldenDiscount maximises the expected NPV over [lo, hi] ⊂ [0, 1) by golden-section search, for
// an NPV curve that is unimodal there, to within tol (> 0) in the discount.
func GoldenDiscount(in SettlementInput, lo, hi, tol float64) (Offer, error) {
	if err := in.check(); err != nil {
		return Offer{}, err
	}
	if !(lo >= 0 && lo <= hi && hi < 1) || !(tol > 0) {
		return Offer{}, reclaim.Errorf(reclaim.EINVALID, "settlement: want 0 <= lo <= hi < 1 and tol > 0, got [%v, %v] tol %v", lo, hi, tol)
	}
	if in.MaxDiscount > 0 && hi > in.MaxDiscount {
		hi = math.Max(in.MaxDiscount, lo)
	}
	const phi = 0.6180339887498949
	a, b := lo, hi
	c, d := b-phi*(b-a), a+phi*(b-a)
	fc, fd := in.OfferNPV(c), in.OfferNPV(d)
	for b-a > tol {
		if fc >= fd {
			b, d, fd = d, c, fc
			c = b - phi*(b-a)
			fc = in.OfferNPV(c)
		} else {
			a, c, fc = c, d, fd
			d = a + phi*(b-a)
			fd = in.OfferNPV(d)
		}
	}
	x := (a + b) / 2
	for _, e := range []float64{lo, hi} { // the ends, in case the maximum is at a bound
		if in.OfferNPV(e) > in.OfferNPV(x) {
			x = e
		}
	}
	return in.offer(x)
}

// RoleLimit is what one role may approve alone: settlements up to MaxDiscount and waivers up to
// MaxWaiver (a zero MaxWaiver amount means no amount limit).
type RoleLimit struct {
	Role        string       `json:"role"`
	MaxDiscount float64      `json:"max_discount"`
	MaxWaiver   money.Amount `json:"max_waiver"`
}

// ApprovalPolicy lists the roles that may approve settlements, from the most junior to the most
// senior; each role's limits must be at least the previous one's.
type ApprovalPolicy struct {
	Roles []RoleLimit
}

// DefaultApprovalPolicy: a collector offers up to 30% and 20,000 yuan waived alone, a team lead up
// to 45% and 100,000 yuan, a collection manager up to 60% and 500,000 yuan, the credit committee
// up to 90% with no amount limit.
func DefaultApprovalPolicy() ApprovalPolicy {
	return ApprovalPolicy{Roles: []RoleLimit{
		{Role: "collector", MaxDiscount: 0.30, MaxWaiver: money.Yuan(20_000)},
		{Role: "team_lead", MaxDiscount: 0.45, MaxWaiver: money.Yuan(100_000)},
		{Role: "collection_manager", MaxDiscount: 0.60, MaxWaiver: money.Yuan(500_000)},
		{Role: "credit_committee", MaxDiscount: 0.90},
	}}
}

// Validate checks the policy: at least one role, distinct names, discounts in [0, 1),
// non-decreasing limits.
func (p ApprovalPolicy) Validate() error {
	if len(p.Roles) == 0 {
		return reclaim.Errorf(reclaim.EINVALID, "approval policy: at least one role")
	}
	seen := map[string]bool{}
	for i, r := range p.Roles {
		if r.Role == "" || seen[r.Role] {
			return reclaim.Errorf(reclaim.EINVALID, "approval policy: role %d: empty or duplicate name %q", i, r.Role)
		}
		seen[r.Role] = true
		if !(r.MaxDiscount >= 0 && r.MaxDiscount < 1) || r.MaxWaiver.Sign() < 0 {
			return reclaim.Errorf(reclaim.EINVALID, "approval policy: role %s: discount limit in [0, 1) and waiver limit >= 0", r.Role)
		}
		if i > 0 {
			q := p.Roles[i-1]
			if r.MaxDiscount < q.MaxDiscount || (!q.MaxWaiver.IsZero() && !r.MaxWaiver.IsZero() && r.MaxWaiver.Cmp(q.MaxWaiver) < 0) ||
				(q.MaxWaiver.IsZero() && !r.MaxWaiver.IsZero()) {
				return reclaim.Errorf(reclaim.EINVALID, "approval policy: role %s has a lower limit than %s before it", r.Role, q.Role)
			}
		}
	}
	return nil
}

func (r RoleLimit) covers(o Offer) bool {
	if o.Discount > r.MaxDiscount+1e-12 {
		return false
	}
	return r.MaxWaiver.IsZero() || o.Waived.Cmp(r.MaxWaiver) <= 0
}

// Approval says who must approve an offer a maker proposes.
type Approval struct {
	Maker string `json:"maker"`
	// Checker is the least senior role whose limits cover the offer when the maker's do not; ""
	// when the maker may approve alone.
	Checker string `json:"checker,omitempty"`
	// Roles lists every role that may act as the checker (Checker and those above it).
	Roles []string `json:"roles,omitempty"`
}

// RequiredApproval says who must approve offer o made by a maker in role maker: nobody else when
// the maker's limits cover it, else a checker of the least senior role that covers it (four eyes:
// the checker is another person). An unknown maker role is EFORBIDDEN; an offer beyond every
// role's limit is EINVALID (it cannot be approved), naming the discount, the amount waived and
// the top limit.
func RequiredApproval(p ApprovalPolicy, maker string, o Offer) (Approval, error) {
	if err := p.Validate(); err != nil {
		return Approval{}, err
	}
	if !(o.Discount >= 0 && o.Discount < 1) || o.Waived.Sign() < 0 {
		return Approval{}, reclaim.Errorf(reclaim.EINVALID, "offer: discount %v outside [0, 1) or negative waiver %s", o.Discount, o.Waived)
	}
	mi := -1
	for i, r := range p.Roles {
		if r.Role == maker {
			mi = i
		}
	}
	if mi < 0 {
		return Approval{}, &reclaim.Error{Code: reclaim.EFORBIDDEN, Message: fmt.Sprintf("role %q may not make settlement offers", maker),
			Fields: map[string]string{"role": maker}}
	}
	top := p.Roles[len(p.Roles)-1]
	if !top.covers(o) {
		return Approval{}, &reclaim.Error{Code: reclaim.EINVALID,
			Message: fmt.Sprintf("offer at %.1f%% discount waiving %s is beyond every role's limit (%s: %.1f%%, %s)",
				o.Discount*100, o.Waived, top.Role, top.MaxDiscount*100, limitString(top.MaxWaiver)),
			Fields: map[string]string{"discount": fmt.Sprint(o.Discount), "waived": o.Waived.String(), "rule": "approval limit"}}
	}
	if p.Roles[mi].covers(o) {
		return Approval{Maker: maker}, nil
	}
	for i := mi + 1; i < len(p.Roles); i++ {
		if p.Roles[i].covers(o) {
			a := Approval{Maker: maker, Checker: p.Roles[i].Role}
			for _, r := range p.Roles[i:] {
				a.Roles = append(a.Roles, r.Role)
			}
			return a, nil
		}
	}
	return Approval{}, reclaim.Errorf(reclaim.EINTERNAL, "approval: no covering role") // unreachable: top covers
}

func limitString(a money.Amount) string {
	if a.IsZero() {
		return "no amount limit"
	}
	return "waiver up to " + a.String()
}

// CheckApproval verifies that an offer was approved as the policy requires: by the maker alone
// when the maker's limits cover it, else also by a checker of a covering role who is a different
// person. It returns an EFORBIDDEN error naming what is missing.
func CheckApproval(p ApprovalPolicy, makerRole, makerUser, checkerRole, checkerUser string, o Offer) error {
	a, err := RequiredApproval(p, makerRole, o)
	if err != nil {
		return err
	}
	if a.Checker == "" {
		return nil
	}
	if checkerUser == "" || checkerUser == makerUser {
		return reclaim.Errorf(reclaim.EFORBIDDEN, "offer at %.1f%% discount needs a second approver in role %s or above", o.Discount*100, a.Checker)
	}
	for _, r := range a.Roles {
		if r == checkerRole {
			return nil
		}
	}
	return reclaim.Errorf(reclaim.EFORBIDDEN, "checker role %q may not approve an offer at %.1f%% discount: needs %s or above", checkerRole, o.Discount*100, a.Checker)
}

// Waiver records the remainder of a claim a settlement forgives. When the loan is in a pool the
// adapter writes it to the pool's ledger with the settlement (docs/strategy.md).
type Waiver struct {
	CaseID   string       `json:"case_id"`
	LoanID   string       `json:"loan_id"`
	On       date.Date    `json:"on"`
	Claim    money.Amount `json:"claim"`
	Paid     money.Amount `json:"paid"`
	Waived   money.Amount `json:"waived"`
	Discount float64      `json:"discount"`
	Maker    string       `json:"maker"`
	Checker  string       `json:"checker,omitempty"`
}

// NewWaiver returns the waiver of a settlement of claim for paid on a date: Waived = claim - paid.
// paid must be positive and at most the claim, in the claim's currency.
func NewWaiver(caseID, loanID string, on date.Date, claim, paid money.Amount, maker, checker string) (Waiver, error) {
	if claim.Sign() <= 0 || paid.Sign() <= 0 || paid.Currency() != claim.Currency() || paid.Cmp(claim) > 0 {
		return Waiver{}, reclaim.Errorf(reclaim.EINVALID, "waiver: the settled amount %s must be positive and at most the claim %s", paid, claim)
	}
	w, err := claim.Sub(paid)
	if err != nil {
		return Waiver{}, err
	}
	return Waiver{CaseID: caseID, LoanID: loanID, On: on, Claim: claim, Paid: paid, Waived: w,
		Discount: w.Float() / claim.Float(), Maker: maker, Checker: checker}, nil
}

// SplitWaiver spreads a case's waiver over its loans in proportion to their claims
// (largest-remainder: the parts sum to the total).
func SplitWaiver(total money.Amount, claims []money.Amount) ([]money.Amount, error) {
	if len(claims) == 0 {
		return nil, reclaim.Errorf(reclaim.EINVALID, "waiver: no loans")
	}
	w := make([]int64, len(claims))
	for i, c := range claims {
		if c.Sign() < 0 {
			return nil, reclaim.Errorf(reclaim.EINVALID, "waiver: loan %d has a negative claim", i)
		}
		w[i] = c.Minor()
	}
	return total.Allocate(w...)
}
