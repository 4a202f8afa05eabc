package workout

import (
	"cmp"
	"math"
	"slices"

	"reclaim/date"
)

// The manager's dashboard (issue 13 item 5; docs/performance.md): collections against forecast by
// channel, agent and agency, the champion/challenger lift, and limitation warnings. Pure: the
// adapter loads cases, payments and contacts over a window and the forecast of each portfolio
// over that window; nothing here reads a clock or a database.

// Strategy arms of a case (case_arms.arm).
const (
	ArmChampion   = "champion"
	ArmChallenger = "challenger"
)

// DrawArm returns the arm of a case in an experiment: the challenger for the share of cases that
// ChallengerArm puts there (a hash of the seed and the case id, so the draw is random, fixed and
// independent of every other case), else the champion.
func DrawArm(seed uint64, caseRef string, share float64) string {
	if ChallengerArm(seed, caseRef, share) {
		return ArmChallenger
	}
	return ArmChampion
}

// DashClaim is a case's claim in one portfolio (a case may hold loans of several).
type DashClaim struct {
	Portfolio int64
	Claim     float64
}

// DashCase is a case as the dashboard sees it.
type DashCase struct {
	ID               int64
	Assignee         string // "" when unassigned
	Agency           string // "" when worked in house
	Arm              string // "" when in no experiment
	LimitationExpiry date.Date
	Claims           []DashClaim
}

// DashPayment is the net amount (payments less reversals) credited to a case on a day, major units.
type DashPayment struct {
	CaseID int64
	On     date.Date
	Amount float64
}

// DashContact is a contact that happened (allowed, or reported by an agency) with a case.
type DashContact struct {
	CaseID  int64
	On      date.Date // the debtor's local day
	Channel string
}

// DashInput is what Collections needs for the window [From, To].
type DashInput struct {
	From, To date.Date
	Cases    []DashCase
	Payments []DashPayment
	Contacts []DashContact
	// Forecast is each portfolio's forecast gross collections over the window; a portfolio
	// missing from it has no forecast.
	Forecast map[int64]float64
	// PortfolioClaim is each portfolio's total claim at boarding (the denominator of a case's
	// share of its portfolio's forecast).
	PortfolioClaim map[int64]float64
	// ChannelCost is the cost of one contact on each channel (the strategy file's).
	ChannelCost map[string]float64
	// AttributionDays is how far back a payment looks for the contact that earned it (30 when
	// zero).
	AttributionDays int
}

// CollectionRow is one group of a breakdown. Forecast (and Ratio) are null when not every case
// in the group belongs to a portfolio with a forecast, and always for channels (a forecast is
// per portfolio, not per channel).
type CollectionRow struct {
	Key         string   `json:"key"`
	Cases       int      `json:"cases"`
	Collected   float64  `json:"collected"`
	Forecast    *float64 `json:"forecast"`
	Ratio       *float64 `json:"ratio"`
	Contacts    int      `json:"contacts"`
	ContactCost float64  `json:"contact_cost"`
}

// CollectionsBreakdown is collections in the window by channel, agent and agency, and in total.
type CollectionsBreakdown struct {
	From      date.Date       `json:"from"`
	To        date.Date       `json:"to"`
	Total     CollectionRow   `json:"total"`
	ByChannel []CollectionRow `json:"by_channel"`
	ByAgent   []CollectionRow `json:"by_agent"`
	ByAgency  []CollectionRow `json:"by_agency"`
}

// Group keys for cases and payments without an attribute.
const (
	KeyUnassigned = "(unassigned)"
	KeyInHouse    = "(in-house)"
	KeyNoContact  = "(no contact)"
)

// Collections attributes the window's payments and contacts.
//
//   - agent and agency: the case's current assignee and agency; a group's forecast is the sum
//     over its cases of the case's share of each portfolio's claim times that portfolio's
//     forecast for the window (a forecast is made per portfolio; claim share is how it is split);
//   - channel: the channel of the case's latest contact on or before the payment's day and at
//     most AttributionDays before it (last touch), else KeyNoContact; contacts count on their
//     own channel.
//
// Payments and contacts outside the window or on unknown cases are ignored. Rows are sorted by
// collected, largest first, then key.
func Collections(in DashInput) CollectionsBreakdown {
	window := in.AttributionDays
	if window <= 0 {
		window = 30
	}
	inWindow := func(d date.Date) bool { return !d.Before(in.From) && !d.After(in.To) }
	idx := make(map[int64]int32, len(in.Cases)) // case id -> index in in.Cases
	for i := range in.Cases {
		idx[in.Cases[i].ID] = int32(i)
	}
	type acc struct {
		cases    map[int64]bool // channel groups: the distinct cases paid
		n        int            // other groups: the cases in them (each case is in one)
		row      CollectionRow
		fc       float64
		fcMissed bool
	}
	groups := map[string]map[string]*acc{"channel": {}, "agent": {}, "agency": {}}
	get := func(kind, key string) *acc {
		a := groups[kind][key]
		if a == nil {
			a = &acc{row: CollectionRow{Key: key}}
			if kind == "channel" {
				a.cases = map[int64]bool{}
			}
			groups[kind][key] = a
		}
		return a
	}
	caseForecast := func(c *DashCase) (float64, bool) {
		f, ok := 0.0, true
		for _, cl := range c.Claims {
			fc, has := in.Forecast[cl.Portfolio]
			tot := in.PortfolioClaim[cl.Portfolio]
			if !has || tot <= 0 {
				ok = false
				continue
			}
			f += fc * cl.Claim / tot
		}
		return f, ok && len(c.Claims) > 0
	}
	agentOf := func(c *DashCase) string { return cmp.Or(c.Assignee, KeyUnassigned) }
	agencyOf := func(c *DashCase) string { return cmp.Or(c.Agency, KeyInHouse) }
	var total acc
	// Each case's agent and agency groups, looked up once.
	agentAcc := make([]*acc, len(in.Cases))
	agencyAcc := make([]*acc, len(in.Cases))
	for i := range in.Cases {
		c := &in.Cases[i]
		f, ok := caseForecast(c)
		agentAcc[i], agencyAcc[i] = get("agent", agentOf(c)), get("agency", agencyOf(c))
		for _, a := range [...]*acc{agentAcc[i], agencyAcc[i], &total} {
			a.n++
			a.fc += f
			a.fcMissed = a.fcMissed || !ok
		}
	}
	// Contacts by case, in day order, for last-touch attribution.
	byCase := make([][]DashContact, len(in.Cases))
	for _, ct := range in.Contacts {
		i, known := idx[ct.CaseID]
		if !known || !inWindow(ct.On) {
			continue
		}
		byCase[i] = append(byCase[i], ct)
		cost := in.ChannelCost[ct.Channel]
		for _, a := range [...]*acc{get("channel", ct.Channel), agentAcc[i], agencyAcc[i], &total} {
			a.row.Contacts++
			a.row.ContactCost += cost
		}
	}
	for _, cs := range byCase {
		if len(cs) > 1 {
			slices.SortStableFunc(cs, func(a, b DashContact) int { return a.On.Compare(b.On) })
		}
	}
	for _, p := range in.Payments {
		i, known := idx[p.CaseID]
		if !known || !inWindow(p.On) {
			continue
		}
		ch := KeyNoContact
		for _, ct := range byCase[i] {
			if ct.On.After(p.On) {
				break
			}
			if p.On.Sub(ct.On) <= window {
				ch = ct.Channel
			}
		}
		chAcc := get("channel", ch)
		chAcc.cases[p.CaseID] = true
		for _, a := range [...]*acc{chAcc, agentAcc[i], agencyAcc[i], &total} {
			a.row.Collected += p.Amount
		}
	}
	finish := func(a *acc, withForecast bool) CollectionRow {
		r := a.row
		r.Cases = a.n
		if a.cases != nil {
			r.Cases = len(a.cases)
		}
		if withForecast && !a.fcMissed && r.Cases > 0 {
			f := a.fc
			r.Forecast = &f
			if f > 0 {
				x := r.Collected / f
				r.Ratio = &x
			}
		}
		return r
	}
	rows := func(kind string, withForecast bool) []CollectionRow {
		out := []CollectionRow{}
		for _, a := range groups[kind] {
			out = append(out, finish(a, withForecast))
		}
		slices.SortFunc(out, func(a, b CollectionRow) int {
			return cmp.Or(cmp.Compare(b.Collected, a.Collected), cmp.Compare(a.Key, b.Key))
		})
		return out
	}
	return CollectionsBreakdown{From: in.From, To: in.To, Total: finish(&total, true),
		ByChannel: rows("channel", false), ByAgent: rows("agent", true), ByAgency: rows("agency", true)}
}

// ArmReport is the champion/challenger comparison over a window: each arm's cases and mean net
// collections per case (collected less contact costs), and the lift with its interval (null with
// the reason when an arm has fewer than two cases).
type ArmReport struct {
	Champion   int     `json:"champion_cases"`
	Challenger int     `json:"challenger_cases"`
	Confidence float64 `json:"confidence"`
	// Lift is challenger − champion in mean net collections per case, with its interval.
	Lift *LiftFigures `json:"lift"`
	Note string       `json:"note,omitempty"`
}

// LiftFigures is a Lift with the relative figures null when the champion's mean is zero.
type LiftFigures struct {
	Method         string   `json:"method"`
	ChampionMean   float64  `json:"champion_mean"`
	ChallengerMean float64  `json:"challenger_mean"`
	Diff           float64  `json:"diff"`
	Lo             float64  `json:"lo"`
	Hi             float64  `json:"hi"`
	RelativeDiff   *float64 `json:"relative_diff"`
	RelativeLo     *float64 `json:"relative_lo"`
	RelativeHi     *float64 `json:"relative_hi"`
}

// ArmLift measures the lift of the challenger over the window with LiftNormal (the arms are
// independent: each case was drawn into one). A case's value is its payments in the window less
// the cost of its contacts in the window.
func ArmLift(in DashInput, conf float64) ArmReport {
	value := map[int64]float64{}
	arm := map[int64]string{}
	for _, c := range in.Cases {
		if c.Arm == ArmChampion || c.Arm == ArmChallenger {
			arm[c.ID] = c.Arm
			value[c.ID] = 0
		}
	}
	inWindow := func(d date.Date) bool { return !d.Before(in.From) && !d.After(in.To) }
	for _, p := range in.Payments {
		if _, ok := arm[p.CaseID]; ok && inWindow(p.On) {
			value[p.CaseID] += p.Amount
		}
	}
	for _, ct := range in.Contacts {
		if _, ok := arm[ct.CaseID]; ok && inWindow(ct.On) {
			value[ct.CaseID] -= in.ChannelCost[ct.Channel]
		}
	}
	ids := make([]int64, 0, len(arm))
	for id := range arm {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var champ, chall []float64
	for _, id := range ids {
		if arm[id] == ArmChallenger {
			chall = append(chall, value[id])
		} else {
			champ = append(champ, value[id])
		}
	}
	r := ArmReport{Champion: len(champ), Challenger: len(chall), Confidence: conf}
	l, err := LiftNormal(champ, chall, conf)
	if err != nil {
		r.Note = err.Error()
		return r
	}
	fin := func(x float64) *float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return &x
	}
	r.Lift = &LiftFigures{Method: l.Method, ChampionMean: l.Mean1, ChallengerMean: l.Mean2, Diff: l.Diff, Lo: l.Lo, Hi: l.Hi,
		RelativeDiff: fin(l.RelativeDiff), RelativeLo: fin(l.RelativeLo), RelativeHi: fin(l.RelativeHi)}
	return r
}

// LimitationCounts counts open cases by how soon their limitation period runs out, the windows
// of LimitationWarning: expired, within 30 days, within 90 days (the 30-day ones not counted
// again), later, and unknown (no expiry on record).
type LimitationCounts struct {
	Expired  int `json:"expired"`
	Within30 int `json:"within_30d"`
	Within90 int `json:"within_90d"`
	Later    int `json:"later"`
	Unknown  int `json:"unknown"`
}

// CountLimitation counts cases by LimitationWarning as of today.
func CountLimitation(cases []DashCase, today date.Date) LimitationCounts {
	var n LimitationCounts
	for _, c := range cases {
		if c.LimitationExpiry.IsZero() {
			n.Unknown++
			continue
		}
		switch LimitationWarning(c.LimitationExpiry, today) {
		case WarnExpired:
			n.Expired++
		case Warn30:
			n.Within30++
		case Warn90:
			n.Within90++
		default:
			n.Later++
		}
	}
	return n
}
