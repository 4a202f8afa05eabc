package workout

import (
	"fmt"
	"slices"
	"strings"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
)

// Allocation: how a payment is split over a debtor's loans and, within a loan, over fees,
// interest and principal. Pure: the caller loads the balances and stores the result.

// Component is one part of a loan's balance.
type Component string

// The balance components.
const (
	CompFees      Component = "fees"
	CompInterest  Component = "interest"
	CompPrincipal Component = "principal"
)

// AcrossLoans says how a payment is spread over several loans of one debtor.
type AcrossLoans string

// The ways across loans.
const (
	// OldestDefaultFirst pays the loan with the earliest default date in full (in the component
	// order) before the next; ties by loan key.
	OldestDefaultFirst AcrossLoans = "oldest_default"
	// ProRata splits the payment over the loans in proportion to their balances
	// (money.Allocate: largest remainder, parts sum to the payment), then each loan's share in
	// the component order.
	ProRata AcrossLoans = "pro_rata"
)

// AllocationPolicy is the configurable allocation rule: the component order within a loan and
// the way across loans. The default (DefaultAllocationPolicy) is fees, then interest, then
// principal, oldest default first.
type AllocationPolicy struct {
	Order  []Component `json:"order"`
	Across AcrossLoans `json:"across"`
}

// DefaultAllocationPolicy returns fees -> interest -> principal, oldest default first.
func DefaultAllocationPolicy() AllocationPolicy {
	return AllocationPolicy{Order: []Component{CompFees, CompInterest, CompPrincipal}, Across: OldestDefaultFirst}
}

// Validate checks that Order names each component exactly once and Across is known (an empty
// Across means OldestDefaultFirst). The error is EINVALID naming the field.
func (p AllocationPolicy) Validate() error {
	bad := func(field, format string, args ...any) error {
		e := reclaim.Errorf(reclaim.EINVALID, format, args...)
		e.Fields = map[string]string{field: fmt.Sprint(args...)}
		return e
	}
	all := []Component{CompFees, CompInterest, CompPrincipal}
	if len(p.Order) != len(all) {
		return bad("order", "the allocation order must name fees, interest and principal once each, not %v", p.Order)
	}
	for _, c := range all {
		if !slices.Contains(p.Order, c) {
			return bad("order", "the allocation order must name fees, interest and principal once each, not %v", p.Order)
		}
	}
	switch p.Across {
	case "", OldestDefaultFirst, ProRata:
	default:
		return bad("across", "across loans %q is not oldest_default or pro_rata", p.Across)
	}
	return nil
}

// ParseAllocationPolicy reads "fees,interest,principal" and "oldest_default" (either may be
// empty for the default).
func ParseAllocationPolicy(order, across string) (AllocationPolicy, error) {
	p := DefaultAllocationPolicy()
	if strings.TrimSpace(order) != "" {
		p.Order = nil
		for _, c := range strings.Split(order, ",") {
			p.Order = append(p.Order, Component(strings.TrimSpace(c)))
		}
	}
	if strings.TrimSpace(across) != "" {
		p.Across = AcrossLoans(strings.TrimSpace(across))
	}
	return p, p.Validate()
}

// LoanBalance is a loan's balance of record: what the allocation may pay.
type LoanBalance struct {
	Loan        string       `json:"loan"` // the loan's key (servicing account)
	DefaultDate date.Date    `json:"default_date"`
	Fees        money.Amount `json:"fees"`
	Interest    money.Amount `json:"interest"`
	Principal   money.Amount `json:"principal"`
}

// Total is fees + interest + principal in minor units.
func (b LoanBalance) Total() int64 { return b.Fees.Minor() + b.Interest.Minor() + b.Principal.Minor() }

func (b LoanBalance) get(c Component) int64 {
	switch c {
	case CompFees:
		return b.Fees.Minor()
	case CompInterest:
		return b.Interest.Minor()
	}
	return b.Principal.Minor()
}

// LoanMovement is what one payment (or its reversal) does to one loan: the amounts taken off each
// component. A reversal's movements are negative.
type LoanMovement struct {
	Loan      string       `json:"loan"`
	Fees      money.Amount `json:"fees"`
	Interest  money.Amount `json:"interest"`
	Principal money.Amount `json:"principal"`
}

// Total is fees + interest + principal in minor units.
func (m LoanMovement) Total() int64 { return m.Fees.Minor() + m.Interest.Minor() + m.Principal.Minor() }

// Allocation is the split of one payment: a movement per loan it pays (in the order paid; no
// empty movement) and the Credit it could not apply (an overpayment, held in suspense as a
// credit of the debtor, never lost). Sum of the movements + Credit = Amount.
type Allocation struct {
	Amount    money.Amount   `json:"amount"`
	Movements []LoanMovement `json:"movements"`
	Credit    money.Amount   `json:"credit"`
}

// Allocate splits a positive amount over the loans by the policy, never above a balance: the
// loans named in prefer (for example those quoted in the payment's reference) are paid first,
// then the others; what is left after every balance is paid is the Credit. Loans must be in the
// amount's currency and have non-negative components and distinct keys. It is EINVALID
// otherwise.
func Allocate(amount money.Amount, loans []LoanBalance, prefer []string, p AllocationPolicy) (Allocation, error) {
	if err := p.Validate(); err != nil {
		return Allocation{}, err
	}
	cur := amount.Currency()
	if amount.Sign() <= 0 || cur == "" {
		return Allocation{}, reclaim.Errorf(reclaim.EINVALID, "an allocated payment is a positive amount, not %v", amount)
	}
	seen := map[string]bool{}
	for _, l := range loans {
		if seen[l.Loan] {
			return Allocation{}, reclaim.Errorf(reclaim.EINVALID, "loan %q is listed twice", l.Loan)
		}
		seen[l.Loan] = true
		for _, a := range []money.Amount{l.Fees, l.Interest, l.Principal} {
			if a.Sign() < 0 || (!a.IsAbsent() && a.Currency() != cur) {
				return Allocation{}, reclaim.Errorf(reclaim.EINVALID, "loan %q has a balance %v that is negative or not in %s", l.Loan, a, cur)
			}
		}
		if l.Total() < 0 || l.Fees.Minor() > 1<<62 || l.Interest.Minor() > 1<<62 || l.Principal.Minor() > 1<<62 {
			return Allocation{}, reclaim.Errorf(reclaim.EINVALID, "loan %q's balance is out of range", l.Loan)
		}
	}
	var first, rest []LoanBalance
	for _, l := range loans {
		if slices.Contains(prefer, l.Loan) {
			first = append(first, l)
		} else {
			rest = append(rest, l)
		}
	}
	out := Allocation{Amount: amount}
	left := amount.Minor()
	for _, group := range [][]LoanBalance{first, rest} {
		if left == 0 {
			break
		}
		mv, used, err := allocateGroup(left, group, cur, p)
		if err != nil {
			return Allocation{}, err
		}
		out.Movements = append(out.Movements, mv...)
		left -= used
	}
	out.Credit = money.New(left, cur)
	return out, nil
}

// allocateGroup pays at most amount over the loans and returns the movements and the amount used.
func allocateGroup(amount int64, loans []LoanBalance, cur money.Currency, p AllocationPolicy) ([]LoanMovement, int64, error) {
	var live []LoanBalance
	var total int64
	for _, l := range loans {
		if t := l.Total(); t > 0 {
			live = append(live, l)
			total += t
		}
	}
	if len(live) == 0 {
		return nil, 0, nil
	}
	shares := make([]int64, len(live))
	switch p.Across {
	case ProRata:
		pay := min(amount, total)
		weights := make([]int64, len(live))
		for i, l := range live {
			weights[i] = l.Total()
		}
		parts, err := money.New(pay, cur).Allocate(weights...)
		if err != nil {
			return nil, 0, reclaim.WrapError(reclaim.EINVALID, err, "pro-rata allocation: %v", err)
		}
		for i := range parts {
			shares[i] = parts[i].Minor()
		}
	default:
		slices.SortStableFunc(live, func(a, b LoanBalance) int {
			if c := a.DefaultDate.Compare(b.DefaultDate); c != 0 {
				return c
			}
			return strings.Compare(a.Loan, b.Loan)
		})
		left := amount
		for i, l := range live {
			shares[i] = min(left, l.Total())
			left -= shares[i]
		}
	}
	var out []LoanMovement
	var used int64
	for i, l := range live {
		if shares[i] == 0 {
			continue
		}
		m := LoanMovement{Loan: l.Loan, Fees: money.Zero(cur), Interest: money.Zero(cur), Principal: money.Zero(cur)}
		left := shares[i]
		for _, c := range p.Order {
			take := min(left, l.get(c))
			left -= take
			switch c {
			case CompFees:
				m.Fees = money.New(take, cur)
			case CompInterest:
				m.Interest = money.New(take, cur)
			default:
				m.Principal = money.New(take, cur)
			}
		}
		used += shares[i] - left
		out = append(out, m)
	}
	return out, used, nil
}

// Reversal returns the exact inverse of the allocation's movements (each component negated), in
// the same order: applying the allocation and then its reversal restores every balance.
func (a Allocation) Reversal() []LoanMovement {
	out := make([]LoanMovement, len(a.Movements))
	for i, m := range a.Movements {
		out[i] = m.Negate()
	}
	return out
}

// Negate returns the movement with every component negated.
func (m LoanMovement) Negate() LoanMovement {
	n := func(a money.Amount) money.Amount { return money.New(-a.Minor(), a.Currency()) }
	return LoanMovement{Loan: m.Loan, Fees: n(m.Fees), Interest: n(m.Interest), Principal: n(m.Principal)}
}

// ApplyMovements returns the balances after the movements (each takes its amounts off its loan;
// a negative movement adds them back). A movement for an unknown loan, or one that would take a
// component below zero, is EINVALID and nothing is applied.
func ApplyMovements(loans []LoanBalance, mv []LoanMovement) ([]LoanBalance, error) {
	out := slices.Clone(loans)
	idx := make(map[string]int, len(out))
	for i, l := range out {
		idx[l.Loan] = i
	}
	for _, m := range mv {
		i, ok := idx[m.Loan]
		if !ok {
			return nil, reclaim.Errorf(reclaim.EINVALID, "movement for loan %q, which is not among the balances", m.Loan)
		}
		l := &out[i]
		for _, c := range []struct {
			bal *money.Amount
			by  money.Amount
		}{{&l.Fees, m.Fees}, {&l.Interest, m.Interest}, {&l.Principal, m.Principal}} {
			v := c.bal.Minor() - c.by.Minor()
			if v < 0 {
				return nil, reclaim.Errorf(reclaim.EINVALID, "movement %v on loan %q takes a balance below zero", c.by, m.Loan)
			}
			cur := c.bal.Currency()
			if cur == "" {
				cur = c.by.Currency()
			}
			*c.bal = money.New(v, cur)
		}
	}
	return out, nil
}
