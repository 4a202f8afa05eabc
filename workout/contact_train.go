package workout

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/valuation/gbdt"
)

// Training the contact model from the live system's own contact log (docs/strategy.md, "The
// trained contact model"): every contact that happened (allowed, or reported by an agency) is one
// example; its features are the case's as they stood at the contact (LiveFeatures); its label is
// whether the case paid within the horizon after the contact. Contacts whose horizon has not yet
// ended by the as-of day are left out (their label is not known yet). The held-out split is by
// case, so that no case's contacts are on both sides.

// LiveCase is what the contact model needs of a case that does not change with the day.
type LiveCase struct {
	ID          int64
	Claim       float64   // the case's claim at boarding, yuan
	DPD         int       // the largest days past due of its loans at their tape's cut-off
	CutOff      date.Date // that tape's cut-off (DPD grows by a day a day after it)
	BirthYear   int       // the debtor's birth year, 0 unknown
	Phone       bool      // a phone number is known
	CreditCard  bool      // one of its loans is a credit card
	WrittenOff  bool      // one of its loans was written off by the seller
	BoardedOn   date.Date // the acquisition's award date
	SuedOn      date.Date // the first suit filed, zero none
	RefusalDays []date.Date
}

// LiveContact is one contact of the log.
type LiveContact struct {
	ID      int64 // the attempt's id (for error messages)
	CaseID  int64
	At      time.Time
	Day     date.Date // the debtor-local day of the contact
	Channel string
	Outcome string // the contact log's outcome (answered, no_answer, invalid_number, visited, ...)
}

// LivePayment is a net payment (payments less reversals) of a case on a day.
type LivePayment struct {
	CaseID int64
	On     date.Date
	Amount float64 // yuan, > 0
}

// ContactLog is the live contact log as the trainer reads it.
type ContactLog struct {
	Cases    []LiveCase    // by id
	Contacts []LiveContact // by case, then time
	Payments []LivePayment // by case, then day
}

// reachedOutcome reports whether a contact reached the debtor.
func reachedOutcome(o string) bool {
	return o == "answered" || o == "visited" || o == CallPromiseToPay || o == CallRefusal
}

// LiveFeatures returns the features of case c on day, given its earlier contacts (those before
// day; later ones are ignored) as CaseFeatures. The age is the year of day less the birth year.
func LiveFeatures(c *LiveCase, earlier []LiveContact, day date.Date) CaseFeatures {
	f := CaseFeatures{Claim: c.Claim, DPD: c.DPD, Age: -1, PhoneAvailable: c.Phone, CreditCard: c.CreditCard,
		WrittenOff: c.WrittenOff, DaysSinceReach: -1}
	if !c.CutOff.IsZero() && day.After(c.CutOff) {
		f.DPD += day.Sub(c.CutOff)
	}
	if c.BirthYear > 0 {
		f.Age = day.Year() - c.BirthYear
	}
	if !c.BoardedOn.IsZero() && day.After(c.BoardedOn) {
		f.DaysOnBook = day.Sub(c.BoardedOn)
	}
	f.Sued = !c.SuedOn.IsZero() && c.SuedOn.Before(day)
	for _, r := range c.RefusalDays {
		if r.Before(day) {
			f.Refusals++
		}
	}
	for _, h := range earlier {
		if !h.Day.Before(day) {
			continue
		}
		ago := day.Sub(h.Day)
		if ago <= 30 {
			f.Attempts30++
		}
		if reachedOutcome(h.Outcome) {
			if ago <= 30 {
				f.Reached30++
			}
			if f.DaysSinceReach < 0 || ago < f.DaysSinceReach {
				f.DaysSinceReach = ago
			}
		}
		if h.Outcome == CallInvalidNumber {
			f.InvalidNumber = true
		}
	}
	return f
}

// LiveExample is one training example with the case it came from.
type LiveExample struct {
	ContactExample
	CaseID int64
	Day    date.Date
	// Collected is what the case paid in the horizon after the contact (yuan).
	Collected float64
}

// LiveExamples turns the contact log into training examples: one per contact whose horizon
// (horizon days after its day) ended by asOf, labelled paid when the case paid on a day in
// (day, day+horizon]. A contact on an unknown channel is EINVALID naming it; so is a contact of
// a case not in the log's cases, or a horizon below 1.
func LiveExamples(log *ContactLog, horizon int, asOf date.Date) ([]LiveExample, error) {
	if horizon < 1 {
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("horizon: %d days; at least 1", horizon),
			Fields: map[string]string{"field": "horizon", "value": strconv.Itoa(horizon)}}
	}
	cases := make(map[int64]*LiveCase, len(log.Cases))
	for i := range log.Cases {
		cases[log.Cases[i].ID] = &log.Cases[i]
	}
	pays := map[int64][]LivePayment{}
	for _, p := range log.Payments {
		if p.Amount > 0 {
			pays[p.CaseID] = append(pays[p.CaseID], p)
		}
	}
	byCase := map[int64][]LiveContact{}
	var order []int64
	for _, c := range log.Contacts {
		if ChannelIndex(Channel(c.Channel)) < 0 {
			return nil, &reclaim.Error{Code: reclaim.EINVALID,
				Message: fmt.Sprintf("contact log: contact %d on case %d has unknown channel %q (known: call, sms, visit, letter, email)", c.ID, c.CaseID, c.Channel),
				Fields:  map[string]string{"field": "channel", "value": c.Channel, "contact": strconv.FormatInt(c.ID, 10)}}
		}
		if cases[c.CaseID] == nil {
			return nil, reclaim.Errorf(reclaim.EINVALID, "contact log: contact %d names case %d, which is not in the log", c.ID, c.CaseID)
		}
		if _, ok := byCase[c.CaseID]; !ok {
			order = append(order, c.CaseID)
		}
		byCase[c.CaseID] = append(byCase[c.CaseID], c)
	}
	var out []LiveExample
	for _, id := range order {
		hist := byCase[id]
		sort.SliceStable(hist, func(i, j int) bool { return hist[i].At.Before(hist[j].At) })
		c := cases[id]
		for k, h := range hist {
			end := h.Day.AddDays(horizon)
			if end.After(asOf) {
				continue
			}
			got := 0.0
			for _, p := range pays[id] {
				if p.On.After(h.Day) && !p.On.After(end) {
					got += p.Amount
				}
			}
			out = append(out, LiveExample{ContactExample: ContactExample{Features: LiveFeatures(c, hist[:k], h.Day), Channel: Channel(h.Channel), Paid: got > 0},
				CaseID: id, Day: h.Day, Collected: got})
		}
	}
	return out, nil
}

// ContactModelSummary describes a trained contact model: the rows it saw, the positives per
// channel, its AUC on the held-out cases and the share of the claim a paying case paid.
type ContactModelSummary struct {
	Rows         int            `json:"rows"`
	TrainRows    int            `json:"train_rows"`
	HoldoutRows  int            `json:"holdout_rows"`
	Positives    int            `json:"positives"`
	ByChannel    map[string]int `json:"rows_by_channel"`
	PosByChannel map[string]int `json:"positives_by_channel"`
	AUC          float64        `json:"auc"` // on the held-out cases; -1 when not computed (too few rows or one label held out)
	PayShare     float64        `json:"pay_share"`
	HorizonDays  int            `json:"horizon_days"`
	MinRows      int            `json:"min_rows"`
}

// LiveTrainOptions are the live trainer's settings.
type LiveTrainOptions struct {
	MinRows     int     // fewest examples to train on (default 200; never below 100)
	HoldoutFrac float64 // share of cases held out for the AUC (default 0.25)
	Params      ModelParams
}

// DefaultMinRows is the default fewest usable contacts the live trainer needs.
const DefaultMinRows = 200

// holdout reports whether case id is in the held-out share frac (deterministic by id).
func holdout(id int64, frac float64) bool {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(id >> (8 * i))
	}
	h.Write(b[:])
	return float64(h.Sum64()>>11)/float64(1<<53) < frac
}

// TrainLiveContactModel trains the contact model on examples (LiveExamples): with fewer than
// MinRows examples, or one label only, it is EINVALID naming how many were found and needed. The
// model is fitted on the cases outside the held-out share, scored on the held-out ones (AUC), and
// then refitted on every example (the stored model); the same examples give the same model.
func TrainLiveContactModel(ctx context.Context, examples []LiveExample, o LiveTrainOptions) (*ContactModel, ContactModelSummary, error) {
	if o.MinRows <= 0 {
		o.MinRows = DefaultMinRows
	}
	o.MinRows = max(o.MinRows, 100)
	if !(o.HoldoutFrac > 0 && o.HoldoutFrac < 1) {
		o.HoldoutFrac = 0.25
	}
	s := ContactModelSummary{Rows: len(examples), ByChannel: map[string]int{}, PosByChannel: map[string]int{}, MinRows: o.MinRows, AUC: -1}
	if len(examples) < o.MinRows {
		return nil, s, &reclaim.Error{Code: reclaim.EINVALID,
			Message: fmt.Sprintf("the contact log has %d usable contacts (contacts whose horizon has ended); training needs at least %d", len(examples), o.MinRows),
			Fields:  map[string]string{"field": "min_rows", "found": strconv.Itoa(len(examples)), "needed": strconv.Itoa(o.MinRows)}}
	}
	var train, test []ContactExample
	var testIdx []int
	claimPaid, paid := 0.0, 0.0
	for i, ex := range examples {
		s.ByChannel[string(ex.Channel)]++
		if ex.Paid {
			s.Positives++
			s.PosByChannel[string(ex.Channel)]++
			if ex.Features.Claim > 0 {
				claimPaid += ex.Features.Claim
				paid += ex.Collected
			}
		}
		if holdout(ex.CaseID, o.HoldoutFrac) {
			test = append(test, ex.ContactExample)
			testIdx = append(testIdx, i)
		} else {
			train = append(train, ex.ContactExample)
		}
	}
	if s.Positives == 0 || s.Positives == len(examples) {
		return nil, s, reclaim.Errorf(reclaim.EINVALID, "the contact log's %d usable contacts are all %s: training needs both outcomes",
			len(examples), map[bool]string{true: "followed by a payment", false: "without a payment"}[s.Positives > 0])
	}
	if claimPaid > 0 {
		s.PayShare = math.Min(paid/claimPaid, 1)
	}
	s.TrainRows, s.HoldoutRows = len(train), len(test)
	if len(train) >= 100 && len(test) > 0 {
		if m, err := TrainContactModel(ctx, train, o.Params); err == nil {
			label, score := make([]float64, len(test)), make([]float64, len(test))
			for i := range test {
				label[i] = b2f(test[i].Paid)
				score[i] = m.PPay(&test[i].Features, test[i].Channel)
			}
			if auc := gbdt.AUC(label, score, nil); !math.IsNaN(auc) {
				s.AUC = auc
			}
		} else if ctx.Err() != nil {
			return nil, s, ctx.Err()
		}
	}
	all := make([]ContactExample, len(examples))
	for i := range examples {
		all[i] = examples[i].ContactExample
	}
	m, err := TrainContactModel(ctx, all, o.Params)
	if err != nil {
		return nil, s, err
	}
	return m, s, nil
}

// MarshalBinary writes the model in valuation/gbdt's model file format.
func (m *ContactModel) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	if _, err := m.m.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// UnmarshalContactModel reads a model MarshalBinary wrote; a model whose features are not the
// contact model's (channel, then the case features) is EINVALID.
func UnmarshalContactModel(b []byte) (*ContactModel, error) {
	g, err := gbdt.ReadModel(bytes.NewReader(b))
	if err != nil {
		return nil, reclaim.Errorf(reclaim.EINVALID, "contact model: %v", err)
	}
	fs := g.Features()
	if len(fs) != 1+len(caseFeatureDefs) || fs[0].Name != "channel" {
		return nil, reclaim.Errorf(reclaim.EINVALID, "contact model: the file is not a contact model (%d features)", len(fs))
	}
	for i, f := range caseFeatureDefs {
		if fs[i+1].Name != f.Name {
			return nil, reclaim.Errorf(reclaim.EINVALID, "contact model: feature %d is %q, want %q", i+1, fs[i+1].Name, f.Name)
		}
	}
	return &ContactModel{m: g}, nil
}

// ModelValues is the challenger's value of a contact on each channel for a case with features f
// under a trained contact model: P(pay | channel) x amountIfPaid (ChannelValues without uplift;
// the planner passes the balance times the model's pay share), NaN where RulesValues would be
// NaN for want of a number (a call or SMS when no phone is known) and for channels s does not use.
func ModelValues(s *Strategy, m *ContactModel, f *CaseFeatures, amountIfPaid float64) [NumChannels]float64 {
	v := ChannelValues(s, m, f, amountIfPaid, false)
	if !f.PhoneAvailable {
		v[ChannelIndex(ChannelCall)], v[ChannelIndex(ChannelSMS)] = math.NaN(), math.NaN()
	}
	return v
}

// ContactModelInfo describes a stored contact model.
type ContactModelInfo struct {
	ID        int64               `json:"id"`
	Name      string              `json:"name"`
	CreatedAt time.Time           `json:"created_at"`
	Trainer   string              `json:"trainer"`
	Summary   ContactModelSummary `json:"summary"`
}

// ContactModelCard is the newest stored model as the console shows it: Model false (and Info
// nil) when none is stored, the challenger arm then being valued by rules; Valuation is what a
// plan made now would say in DayPlan.ChallengerValuation.
type ContactModelCard struct {
	Model     bool              `json:"model"`
	Info      *ContactModelInfo `json:"info,omitempty"`
	Valuation string            `json:"challenger_valuation"`
}

// ContactTrainRequest says how to train: the fewest usable contacts (0: DefaultMinRows), the
// label's horizon in days (0: ContactHorizonDays) and an optional name (default
// contact-YYYYMMDD-HHMMSS).
type ContactTrainRequest struct {
	MinRows int    `json:"min_rows,omitempty"`
	Horizon int    `json:"horizon_days,omitempty"`
	Name    string `json:"name,omitempty"`
}
