package live

import (
	"fmt"
	"strings"

	"reclaim/abs"
	"reclaim/date"
	"reclaim/money"
)

// NearShare is how close to its threshold a trigger is "near": within 10% of the threshold.
const NearShare = 0.10

// DealSnapshot is what investors watch live (the deal.<id> SSE topic): the pool's collections against
// the forecast curve, the tranche balances, the reserve levels, each trigger's headroom, and the
// alerts of the triggers that are near or hit.
type DealSnapshot struct {
	Deal string    `json:"deal"`
	Pool string    `json:"pool"`
	AsOf date.Date `json:"as_of"`
	Hash string    `json:"deal_hash"`
	// Period is the last payment date whose collection period has ended by AsOf (0: none yet).
	Period   int               `json:"period"`
	Status   string            `json:"status"`
	Curve    []MonitorPoint    `json:"curve"`
	Tranches []TrancheBalance  `json:"tranches"`
	Reserves []ReserveLevel    `json:"reserves"`
	Triggers []TriggerHeadroom `json:"triggers"`
	Alerts   []DealAlert       `json:"alerts"`
}

// MonitorPoint is one collection period: the forecast and, for periods collected so far (the
// current one to AsOf), the actual net collections; cumulative sums beside.
type MonitorPoint struct {
	Period      int           `json:"period"`
	Date        date.Date     `json:"date"`
	Forecast    money.Amount  `json:"forecast"`
	Actual      *money.Amount `json:"actual"`
	CumForecast money.Amount  `json:"cumulative_forecast"`
	CumActual   *money.Amount `json:"cumulative_actual"`
}

// TrancheBalance is a tranche's balance after Period's payment date.
type TrancheBalance struct {
	Name    string       `json:"name"`
	Issued  money.Amount `json:"issued"`
	Balance money.Amount `json:"balance"`
	Factor  string       `json:"factor"`
}

// ReserveLevel is a reserve account's balance after Period's payment date.
type ReserveLevel struct {
	Account string       `json:"account"`
	Balance money.Amount `json:"balance"`
}

// TriggerHeadroom is a trigger's state: ok, near (within NearShare of its threshold, or projected
// to be hit on the forecast) or hit (in force), with the metric and how far it is from the
// threshold (Headroom: a relative margin such as "+12.50%" where the trigger has a numeric
// threshold).
type TriggerHeadroom struct {
	Trigger   string `json:"trigger"`
	Kind      string `json:"kind"`
	Metric    string `json:"metric"`
	Threshold string `json:"threshold"`
	Headroom  string `json:"headroom"`
	State     string `json:"state"`
	Reason    string `json:"reason"`
}

// DealAlert is a trigger near or hit.
type DealAlert struct {
	Level   string `json:"level"` // warning (near) or critical (hit)
	Trigger string `json:"trigger"`
	Message string `json:"message"`
}

// Monitor computes the snapshot as of asOf: the deal run with actual cash for the collection
// periods ended by asOf and the forecast after (Scenario), the current period's collections to
// date, and every trigger's headroom.
func Monitor(d *abs.Deal, s *State, asOf date.Date) (*DealSnapshot, error) {
	res, done, wins, periods, err := liveRun(d, s, asOf)
	if err != nil {
		return nil, err
	}
	cur := d.Currency()
	snap := &DealSnapshot{Deal: d.Name(), Pool: s.Pool, AsOf: asOf, Hash: d.Hash(), Period: done, Status: res.FinalStatus,
		Curve: []MonitorPoint{}, Tranches: []TrancheBalance{}, Reserves: []ReserveLevel{}, Triggers: []TriggerHeadroom{}, Alerts: []DealAlert{}}
	var cumF, cumA int64
	var carried int64
	for k, p := range periods {
		cumF += p.Forecast.Minor()
		cp := MonitorPoint{Period: k + 1, Date: p.Date, Forecast: p.Forecast, CumForecast: money.New(cumF, cur)}
		var net int64
		switch {
		case k < done:
			net = wins[k].Net
			carried = wins[k].CostsCarried
		case !p.CollectionStart.After(asOf):
			end := p.CollectionEnd
			if asOf.Before(end) {
				end = asOf
			}
			net = s.Window(p.CollectionStart, end, carried).Net
		default:
			snap.Curve = append(snap.Curve, cp)
			continue
		}
		cumA += net
		a, c := money.New(net, cur), money.New(cumA, cur)
		cp.Actual, cp.CumActual = &a, &c
		snap.Curve = append(snap.Curve, cp)
	}
	at := max(done, 1) - 1
	if at < len(res.Periods) {
		per := res.Periods[at]
		if done > 0 {
			snap.Status = per.Status
		}
		for i, t := range per.Tranches {
			b := t.Closing
			if done == 0 {
				b = res.Tranches[i].Issued
			}
			snap.Tranches = append(snap.Tranches, TrancheBalance{Name: t.Name, Issued: res.Tranches[i].Issued, Balance: b,
				Factor: factor(b.Minor(), res.Tranches[i].Issued.Minor())})
		}
		doc := d.Document()
		for i, a := range per.Accounts {
			if doc.Accounts[i].Kind == "reserve" {
				b := a.Closing
				if done == 0 {
					b = a.Opening
				}
				snap.Reserves = append(snap.Reserves, ReserveLevel{Account: a.Name, Balance: b})
			}
		}
	}
	snap.Triggers, snap.Alerts = headrooms(d, res, done, periods)
	return snap, nil
}

// Run runs the deal as of asOf: actual cash (Scenario) for the collection periods that ended
// before asOf, the forecast after. It returns the result and how many periods are actual.
func Run(d *abs.Deal, s *State, asOf date.Date) (*abs.Result, int, error) {
	res, done, _, _, err := liveRun(d, s, asOf)
	return res, done, err
}

func liveRun(d *abs.Deal, s *State, asOf date.Date) (res *abs.Result, done int, wins []Window, periods []abs.Period, err error) {
	if periods, err = Windows(d); err != nil {
		return
	}
	for k, p := range periods {
		if p.CollectionEnd.Before(asOf) {
			done = k + 1
		}
	}
	if done == 0 {
		res, err = d.Run(abs.Scenario{})
		return
	}
	var sc abs.Scenario
	if sc, wins, err = Scenario(d, s, done); err != nil {
		return
	}
	res, err = d.Run(sc)
	return
}

// headrooms evaluates each trigger of the document on the live run: its last test at or before
// period done, and the projection after it.
func headrooms(d *abs.Deal, res *abs.Result, done int, periods []abs.Period) ([]TriggerHeadroom, []DealAlert) {
	doc := d.Document()
	out := []TriggerHeadroom{}
	alerts := []DealAlert{}
	for _, tr := range doc.Triggers {
		h := TriggerHeadroom{Trigger: tr.Name, Kind: tr.Kind, State: "ok"}
		var last *abs.TriggerTest
		projected := false
		for i := range res.Triggers {
			t := &res.Triggers[i]
			if t.Trigger != tr.Name {
				continue
			}
			if t.Period <= done {
				last = t
			} else if t.Hit {
				projected = true
			}
		}
		if last != nil {
			h.Metric, h.Threshold = last.Metric, last.Threshold
		}
		switch tr.Kind {
		case "cumulative_recovery":
			if done > 0 && done <= len(res.Periods) {
				p := res.Periods[done-1]
				th, err := money.ParseRate(tr.Threshold)
				if err == nil && p.CumForecast.Minor() > 0 && th.Float() > 0 {
					ratio := float64(p.CumCollections.Minor()) / float64(p.CumForecast.Minor())
					m := (ratio - th.Float()) / th.Float()
					h.Headroom = fmt.Sprintf("%+.2f%%", m*100)
					if m < NearShare && m >= 0 {
						h.State, h.Reason = "near", fmt.Sprintf("cumulative recoveries are %.2f%% of the forecast, within %.0f%% of the %s threshold", ratio*100, NearShare*100, th.Percent(2))
					}
				}
			}
		case "reserve_below":
			if last != nil {
				var bal, tgt float64
				var share float64
				fmt.Sscanf(strings.ReplaceAll(last.Metric, ",", ""), "balance %f", &bal)
				fmt.Sscanf(strings.ReplaceAll(last.Threshold, ",", ""), "%f%% of target %f", &share, &tgt)
				if need := share / 100 * tgt; need > 0 {
					m := (bal - need) / need
					h.Headroom = fmt.Sprintf("%+.2f%%", m*100)
					if m < NearShare && m >= 0 {
						h.State, h.Reason = "near", fmt.Sprintf("the reserve is within %.0f%% of its floor", NearShare*100)
					}
				}
			}
		case "interest_shortfall":
			for _, l := range res.Statement {
				if l.Period <= done && l.Period == done && strings.HasPrefix(l.To, "tranche:") && strings.HasSuffix(l.To, ":interest") && isReserve(doc, l.From) {
					h.State, h.Reason = "near", "senior interest was paid from the reserve on the last payment date"
				}
			}
		case "date":
			if done < len(periods) {
				if dt, err := date.ParseStrict(tr.Date); err == nil && !periods[done].Date.Before(dt) {
					h.State, h.Reason = "near", "takes effect on the next payment date"
				}
			}
		}
		if h.State == "ok" && projected {
			h.State, h.Reason = "near", "projected to be hit on the forecast"
		}
		if last != nil && last.InForce {
			h.State, h.Reason = "hit", fmt.Sprintf("in force since a test on or before payment date %s", last.Date)
		}
		out = append(out, h)
		switch h.State {
		case "near":
			alerts = append(alerts, DealAlert{Level: "warning", Trigger: tr.Name, Message: tr.Name + " is near: " + h.Reason})
		case "hit":
			alerts = append(alerts, DealAlert{Level: "critical", Trigger: tr.Name, Message: tr.Name + " is hit: " + h.Reason})
		}
	}
	return out, alerts
}

func isReserve(doc *abs.Document, name string) bool {
	for _, a := range doc.Accounts {
		if a.Name == name {
			return a.Kind == "reserve"
		}
	}
	return false
}

// factor is balance / issued with six decimals.
func factor(bal, issued int64) string {
	if issued == 0 {
		return "0.000000"
	}
	return fmt.Sprintf("%.6f", float64(bal)/float64(issued))
}
