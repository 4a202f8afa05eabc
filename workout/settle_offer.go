package workout

import (
	"fmt"
	"math"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// The life of a stored settlement offer (docs/strategy.md, "Offers, plans and promises in
// storage"): the rules the adapter applies, pure.
//
//	proposed ──approve──▶ approved ──accept──▶ accepted ──paid in full──▶ paid (waiver recorded)
//	    │                    │                     └──────due + grace passed short──▶ broken
//	    └──reject──▶ rejected └──expires_on passed──▶ expired
//	    └──expires_on passed──▶ expired
//
// An offer within the maker's own limits is approved when it is made.

// Offer statuses.
const (
	OfferProposed = "proposed" // waiting for a checker
	OfferApproved = "approved" // may be put to the debtor
	OfferRejected = "rejected" // a checker refused it
	OfferAccepted = "accepted" // the debtor accepted: payments now count toward it
	OfferExpired  = "expired"  // not accepted (or not approved) by its expiry date
	OfferPaid     = "paid"     // paid in full: the remainder is waived
	OfferBroken   = "broken"   // not paid in full by its due date + grace
)

// offerMoves lists the allowed transitions.
var offerMoves = map[string][]string{
	OfferProposed: {OfferApproved, OfferRejected, OfferExpired},
	OfferApproved: {OfferAccepted, OfferExpired},
	OfferAccepted: {OfferPaid, OfferBroken},
}

// OfferTransition checks that an offer may move from one status to another; ECONFLICT names
// both when it may not (an offer decided twice, accepted before approval, ...).
func OfferTransition(from, to string) error {
	for _, s := range offerMoves[from] {
		if s == to {
			return nil
		}
	}
	return &reclaim.Error{Code: reclaim.ECONFLICT, Message: fmt.Sprintf("the offer is %s: it cannot become %s", from, to),
		Fields: map[string]string{"status": from, "rule": "offer status"}}
}

// OfferLive reports whether an offer in status s still binds the case (at most one live offer a
// case).
func OfferLive(s string) bool { return s == OfferProposed || s == OfferApproved || s == OfferAccepted }

// OfferAt is the offer at discount d on claim: Amount = claim × (1 - d) HALF_UP to the fen,
// Waived = claim - Amount. d must be in [0, 1) and the claim positive.
func OfferAt(claim money.Amount, d float64) (Offer, error) {
	if claim.Sign() <= 0 {
		return Offer{}, offerErr("claim", claim.String(), "the case has no balance to settle")
	}
	if !(d >= 0 && d < 1) {
		return Offer{}, offerErr("discount", fmt.Sprint(d), "a discount is in [0, 1)")
	}
	in := SettlementInput{Claim: claim, Accept: func(float64) float64 { return 0 }}
	return in.offer(d)
}

// OfferFor is the offer of a settlement amount on claim: Discount = (claim - amount) / claim.
// The amount must be positive, in the claim's currency and at most the claim.
func OfferFor(claim, amount money.Amount) (Offer, error) {
	if claim.Sign() <= 0 {
		return Offer{}, offerErr("claim", claim.String(), "the case has no balance to settle")
	}
	if amount.Sign() <= 0 || amount.Currency() != claim.Currency() || amount.Cmp(claim) > 0 {
		return Offer{}, offerErr("amount", amount.String(), "a settlement is positive, in the claim's currency and at most the claim "+claim.String())
	}
	w, err := claim.Sub(amount)
	if err != nil {
		return Offer{}, err
	}
	return Offer{Discount: w.Float() / claim.Float(), Amount: amount, Waived: w}, nil
}

func offerErr(field, value, rule string) error {
	return &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("offer: %s %s: %s", field, quote(value), rule),
		Fields: map[string]string{"field": field, "value": value, "rule": rule}}
}

// DefaultAcceptance is the acceptance curve used for the suggested discount until a trained
// AcceptanceModel is wired in: logistic in the discount, 50% at a 45% discount, rising 10 per unit
// of discount (market.md [E]: payers who settle do so at 30-60% discounts).
func DefaultAcceptance(d float64) float64 { return 1 / (1 + math.Exp(-10*(d-0.45))) }

// SuggestOffer is the NPV-optimal offer on claim under the acceptance curve accept (nil:
// DefaultAcceptance), with the refused case worth 10% of the claim (market.md [E]: lifetime
// collections of aged packages 8-15%), the lump sum paid in 30 days, a 15% discount rate, and the
// discount capped at maxDiscount (0: 80%).
func SuggestOffer(claim money.Amount, accept func(float64) float64, maxDiscount float64) (Offer, error) {
	if accept == nil {
		accept = DefaultAcceptance
	}
	if maxDiscount == 0 {
		maxDiscount = 0.8
	}
	return OptimalDiscount(SettlementInput{Claim: claim, Accept: accept, Fallback: 0.10 * claim.Float(), PayDays: 30,
		AnnualRate: 0.15, MaxDiscount: maxDiscount})
}

// DiscountPoint is one discount of the suggestion's curve: P(accept) and the expected NPV (yuan).
type DiscountPoint struct {
	Discount    float64 `json:"discount"`
	PAccept     float64 `json:"p_accept"`
	ExpectedNPV float64 `json:"expected_npv"`
}

// SuggestCurve is the curve SuggestOffer maximises, on DiscountGrid up to the cap, for the
// console's chart.
func SuggestCurve(claim money.Amount, accept func(float64) float64, maxDiscount float64) []DiscountPoint {
	if accept == nil {
		accept = DefaultAcceptance
	}
	if maxDiscount == 0 {
		maxDiscount = 0.8
	}
	in := SettlementInput{Claim: claim, Accept: accept, Fallback: 0.10 * claim.Float(), PayDays: 30, AnnualRate: 0.15}
	var out []DiscountPoint
	for _, d := range DiscountGrid {
		if d > maxDiscount+1e-12 {
			break
		}
		out = append(out, DiscountPoint{Discount: d, PAccept: accept(d), ExpectedNPV: in.OfferNPV(d)})
	}
	return out
}

// DecideOffer checks that checker (in role checkerRole) may approve or reject a proposed offer
// made by maker in role makerRole: the maker never decides their own offer, and the checker's
// role must be one that RequiredApproval names (EFORBIDDEN otherwise).
func DecideOffer(p ApprovalPolicy, makerRole, maker, checkerRole, checker string, o Offer) error {
	if checker == maker {
		return &reclaim.Error{Code: reclaim.EFORBIDDEN, Message: "the maker of an offer cannot approve or reject it: another person must (four eyes)",
			Fields: map[string]string{"rule": "maker-checker"}}
	}
	return CheckApproval(p, makerRole, maker, checkerRole, checker, o)
}

// SettlementStanding says whether an accepted settlement of amount, accepted on acceptedOn and
// due by payBy (plus grace days), is paid, broken or pending on asOf, and how much was received
// toward it (payments dated from acceptedOn). With a plan, the plan's schedule decides
// (CheckPlan: broken as soon as an instalment is missed beyond grace, paid when complete).
func SettlementStanding(amount money.Amount, acceptedOn, payBy date.Date, grace int, plan *Plan, receipts []Receipt, asOf date.Date) (string, money.Amount, error) {
	var from []Receipt
	for _, r := range receipts {
		if !r.On.Before(acceptedOn) {
			from = append(from, r)
		}
	}
	if plan != nil {
		st, err := CheckPlan(*plan, from, asOf, grace)
		if err != nil {
			return "", money.Amount{}, err
		}
		switch {
		case st.Complete:
			return OfferPaid, st.Paid, nil
		case st.Broken:
			return OfferBroken, st.Paid, nil
		}
		return OfferAccepted, st.Paid, nil
	}
	s, got, err := CheckPromise(Promise{Made: acceptedOn, Due: payBy, Amount: amount, Grace: grace}, from, asOf)
	if err != nil {
		return "", money.Amount{}, err
	}
	switch s {
	case PromiseKept:
		return OfferPaid, got, nil
	case PromiseBroken:
		return OfferBroken, got, nil
	}
	return OfferAccepted, got, nil
}

// WaiveRemainder is what a settlement paid in full forgives: each loan's whole remaining balance
// (fees, interest and principal), loans with nothing left omitted. Applied with ApplyMovements
// as a payment would be, it leaves every loan at zero.
func WaiveRemainder(loans []LoanBalance) []LoanMovement {
	var out []LoanMovement
	for _, l := range loans {
		if l.Total() <= 0 {
			continue
		}
		out = append(out, LoanMovement{Loan: l.Loan, Fees: l.Fees, Interest: l.Interest, Principal: l.Principal})
	}
	return out
}

// Closure is what a settlement paid in full closes: the accounts with nothing left (Loans, in
// the order given) and whether the case closes with them (Case: no account of the case stays
// active). A case closed this way leaves the work queue; a later payment for it is queued as
// case_closed, never applied (MatchLine).
type Closure struct {
	Loans []string
	Case  bool
}

// CloseSettled decides the closure after a paid settlement from the balances of the case's
// active accounts after its waiver: every account at zero (or below, which a waiver never
// leaves) closes; the case closes when all of them do. An account with a balance left (one the
// settlement did not cover) keeps the case open. No accounts: the case closes.
func CloseSettled(active []LoanBalance) Closure {
	c := Closure{Loans: []string{}, Case: true}
	for _, l := range active {
		if l.Total() > 0 || l.Fees.Sign() > 0 || l.Interest.Sign() > 0 || l.Principal.Sign() > 0 {
			c.Case = false
			continue
		}
		c.Loans = append(c.Loans, l.Loan)
	}
	return c
}
