package workout

import (
	"context"
	"math"

	"reclaim"
	"reclaim/valuation/gbdt"
)

// The strategy's two models, both gradient-boosted trees from valuation/gbdt trained on contact
// outcomes: the contact model (probability that a case pays or commits to pay within
// ContactHorizonDays after a contact on a channel, or after no contact at all) and the acceptance
// model (probability that a settlement offer at a discount is accepted). The value of a contact
// is its uplift (P(pay | channel) - P(pay | no contact)) times the amount a paying case brings.

// ContactHorizonDays is the window after a contact in which a payment or commitment counts as
// its outcome in the contact model's label.
const ContactHorizonDays = 30

// CaseFeatures is what the strategy knows about a case on a day (no latent behaviour).
type CaseFeatures struct {
	Claim          float64 // total claim, yuan
	DPD            int     // days past due on the day
	Age            int     // borrower's age, -1 unknown
	PhoneAvailable bool
	Sued           bool
	WrittenOff     bool
	CreditCard     bool
	DaysOnBook     int // days since boarding
	Attempts30     int // contact attempts in the last 30 days
	Reached30      int // of which reached the debtor (answered, visited)
	DaysSinceReach int // days since the debtor was last reached, -1 never
	InvalidNumber  bool
	Refusals       int // settlement offers refused
}

var caseFeatureDefs = []gbdt.Feature{
	{Name: "log_claim", Kind: gbdt.Numeric},
	{Name: "dpd", Kind: gbdt.Numeric},
	{Name: "age", Kind: gbdt.Numeric},
	{Name: "phone", Kind: gbdt.Numeric},
	{Name: "sued", Kind: gbdt.Numeric},
	{Name: "written_off", Kind: gbdt.Numeric},
	{Name: "credit_card", Kind: gbdt.Numeric},
	{Name: "days_on_book", Kind: gbdt.Numeric},
	{Name: "attempts30", Kind: gbdt.Numeric},
	{Name: "reached30", Kind: gbdt.Numeric},
	{Name: "days_since_reach", Kind: gbdt.Numeric},
	{Name: "invalid_number", Kind: gbdt.Numeric},
	{Name: "refusals", Kind: gbdt.Numeric},
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (f *CaseFeatures) row(dst []float64) []float64 {
	age, since := float64(f.Age), float64(f.DaysSinceReach)
	if f.Age < 0 {
		age = math.NaN()
	}
	if f.DaysSinceReach < 0 {
		since = math.NaN()
	}
	return append(dst, math.Log1p(math.Max(f.Claim, 0)), float64(f.DPD), age, b2f(f.PhoneAvailable), b2f(f.Sued),
		b2f(f.WrittenOff), b2f(f.CreditCard), float64(f.DaysOnBook), float64(f.Attempts30), float64(f.Reached30), since,
		b2f(f.InvalidNumber), float64(f.Refusals))
}

// ContactExample is one training row of the contact model: a case's features on a day, the
// channel it was contacted on ("" for no contact that day) and whether it paid or committed
// within ContactHorizonDays.
type ContactExample struct {
	Features CaseFeatures
	Channel  Channel
	Paid     bool
}

// AcceptExample is one settlement offer: the case's features, the discount offered (share of the
// claim waived, in [0, 1)) and whether the debtor accepted.
type AcceptExample struct {
	Features CaseFeatures
	Discount float64
	Accepted bool
}

// ContactModel predicts P(pay or commit within ContactHorizonDays | features, channel).
type ContactModel struct {
	m *gbdt.Model
}

// AcceptanceModel predicts P(accept | features, discount); the response to the discount is
// constrained non-decreasing.
type AcceptanceModel struct {
	m *gbdt.Model
}

// ModelParams are the trees' parameters for both models (zero fields take gbdt's defaults with 150
// trees of depth 4 and learning rate 0.08).
type ModelParams struct {
	Trees        int
	MaxDepth     int
	LearningRate float64
	Seed         uint64
	Threads      int
}

func (p ModelParams) gbdt() gbdt.Params {
	g := gbdt.DefaultParams()
	g.Objective = gbdt.Binary
	g.Trees, g.MaxDepth, g.LearningRate = 150, 4, 0.08
	g.MinChildWeight = 5
	if p.Trees > 0 {
		g.Trees = p.Trees
	}
	if p.MaxDepth > 0 {
		g.MaxDepth = p.MaxDepth
	}
	if p.LearningRate > 0 {
		g.LearningRate = p.LearningRate
	}
	g.Seed, g.Threads = p.Seed, p.Threads
	return g
}

// TrainContactModel fits the contact model on examples (at least 100, with both labels). The same
// examples and parameters give the same model.
func TrainContactModel(ctx context.Context, examples []ContactExample, p ModelParams) (*ContactModel, error) {
	if err := checkLabels(len(examples), func(i int) bool { return examples[i].Paid }); err != nil {
		return nil, err
	}
	feats := append([]gbdt.Feature{{Name: "channel", Kind: gbdt.Categorical}}, caseFeatureDefs...)
	d := gbdt.NewDataset(feats, len(examples))
	row := make([]float64, 0, len(feats))
	for i := range examples {
		ex := &examples[i]
		ci := 0.0
		if ex.Channel != "" {
			k := ChannelIndex(ex.Channel)
			if k < 0 {
				return nil, reclaim.Errorf(reclaim.EINVALID, "contact example %d: unknown channel %q", i, ex.Channel)
			}
			ci = float64(k + 1)
		}
		row = ex.Features.row(append(row[:0], ci))
		for j, v := range row {
			d.Columns[j][i] = v
		}
		d.Label[i] = b2f(ex.Paid)
	}
	m, err := gbdt.Train(ctx, p.gbdt(), d, nil, nil)
	if err != nil {
		return nil, err
	}
	return &ContactModel{m: m}, nil
}

// TrainAcceptanceModel fits the acceptance model on examples (at least 100, with both labels).
func TrainAcceptanceModel(ctx context.Context, examples []AcceptExample, p ModelParams) (*AcceptanceModel, error) {
	if err := checkLabels(len(examples), func(i int) bool { return examples[i].Accepted }); err != nil {
		return nil, err
	}
	feats := append([]gbdt.Feature{{Name: "discount", Kind: gbdt.Numeric, Monotone: 1}}, caseFeatureDefs...)
	d := gbdt.NewDataset(feats, len(examples))
	row := make([]float64, 0, len(feats))
	for i := range examples {
		ex := &examples[i]
		if !(ex.Discount >= 0 && ex.Discount < 1) {
			return nil, reclaim.Errorf(reclaim.EINVALID, "acceptance example %d: discount %v is outside [0, 1)", i, ex.Discount)
		}
		row = ex.Features.row(append(row[:0], ex.Discount))
		for j, v := range row {
			d.Columns[j][i] = v
		}
		d.Label[i] = b2f(ex.Accepted)
	}
	gp := p.gbdt()
	gp.Trees = max(gp.Trees/2, 20)
	m, err := gbdt.Train(ctx, gp, d, nil, nil)
	if err != nil {
		return nil, err
	}
	return &AcceptanceModel{m: m}, nil
}

func checkLabels(n int, pos func(int) bool) error {
	if n < 100 {
		return reclaim.Errorf(reclaim.EINVALID, "training needs at least 100 examples, got %d", n)
	}
	k := 0
	for i := 0; i < n; i++ {
		if pos(i) {
			k++
		}
	}
	if k == 0 || k == n {
		return reclaim.Errorf(reclaim.EINVALID, "training needs both outcomes among the examples (%d of %d positive)", k, n)
	}
	return nil
}

// PPay returns P(pay or commit within ContactHorizonDays) for a case with features f contacted on
// ch ("" for no contact).
func (m *ContactModel) PPay(f *CaseFeatures, ch Channel) float64 {
	var buf [16]float64
	ci := 0.0
	if ch != "" {
		ci = float64(ChannelIndex(ch) + 1)
	}
	return m.m.Predict(f.row(append(buf[:0], ci)))
}

// Uplift returns how much a contact on ch raises P(pay) over no contact (never negative).
func (m *ContactModel) Uplift(f *CaseFeatures, ch Channel) float64 {
	return math.Max(m.PPay(f, ch)-m.PPay(f, ""), 0)
}

// PAccept returns P(the debtor accepts a settlement at discount d).
func (m *AcceptanceModel) PAccept(f *CaseFeatures, d float64) float64 {
	var buf [16]float64
	return m.m.Predict(f.row(append(buf[:0], d)))
}

// BestAction is a next best action: a channel with its expected value, cost and the ratios the
// choice is made by.
type BestAction struct {
	Channel    Channel
	Value      float64 // expected recovery the contact adds (yuan)
	Cost       float64 // cost of the attempt (yuan)
	Net        float64 // Value - Cost
	NetPerCost float64 // Net / Cost (+Inf for a free channel with a positive net)
}

// ChannelValues returns, per channel of s (ChannelIndex order; NaN for channels s does not use),
// the expected recovery of a contact today: P(pay | channel) times amountIfPaid, the expected
// collection from a case that pays or commits. With uplift, P(pay | no contact) is subtracted
// first (the recovery the contact adds rather than the recovery that follows it); it is the
// better target with plenty of training data and a noisy one with little (docs/strategy.md).
func ChannelValues(s *Strategy, m *ContactModel, f *CaseFeatures, amountIfPaid float64, uplift bool) [NumChannels]float64 {
	var v [NumChannels]float64
	base := 0.0
	if uplift {
		base = m.PPay(f, "")
	}
	for i, ch := range AllChannels {
		if _, ok := s.Channels[ch]; !ok {
			v[i] = math.NaN()
			continue
		}
		v[i] = math.Max(m.PPay(f, ch)-base, 0) * amountIfPaid
	}
	return v
}

// NextBestAction returns the channel with the largest expected net recovery per unit of cost
// for a case whose channel values are v (ChannelValues), and false when no channel's expected
// value exceeds its cost (the best action is then no contact).
func NextBestAction(s *Strategy, v [NumChannels]float64) (BestAction, bool) {
	var best BestAction
	found := false
	for i, ch := range AllChannels {
		if math.IsNaN(v[i]) {
			continue
		}
		if _, ok := s.Channels[ch]; !ok {
			continue
		}
		c := s.Cost(ch).Float()
		net := v[i] - c
		if net <= 0 {
			continue
		}
		r := math.Inf(1)
		if c > 0 {
			r = net / c
		}
		if !found || r > best.NetPerCost || (r == best.NetPerCost && net > best.Net) {
			best, found = BestAction{Channel: ch, Value: v[i], Cost: c, Net: net, NetPerCost: r}, true
		}
	}
	return best, found
}
