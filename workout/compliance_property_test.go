package workout

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var (
	genChannels = []Channel{ChannelCall, ChannelCall, ChannelCall, ChannelSMS, ChannelVisit, ChannelLetter, ChannelEmail}
	genOutcomes = []Outcome{OutcomeAnswered, OutcomeNoAnswer, OutcomeBusy, OutcomeInvalidNumber, OutcomeDelivered,
		OutcomeFailed, OutcomeVisited, OutcomeNotFound, OutcomeNoAnswer, OutcomeAnswered}
	// Offsets from -12:00 to +14:00, so local days and instants disagree in every way they can.
	genOffsets = []int{8 * 3600, 8 * 3600, -5 * 3600, 0, 5*3600 + 45*60, -12 * 3600, 14 * 3600}
)

// genLog draws a contact log over a few debtors, debts and numbers, 2, 12 or 40 days long, with ties in
// time and contacts out of time order.
func genLog(t *rapid.T) []Contact {
	n := rapid.IntRange(0, 120).Draw(t, "n")
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).Unix()
	days := rapid.SampledFrom([]int{2, 12, 40}).Draw(t, "days")
	var log []Contact
	for i := range n {
		debtor := rapid.IntRange(1, 3).Draw(t, "debtor")
		c := Contact{
			ID:       fmt.Sprintf("c%d", i),
			DebtorID: fmt.Sprintf("d%d", debtor),
			DebtID:   fmt.Sprintf("L%d%d", debtor, rapid.IntRange(1, 2).Draw(t, "debt")),
			Channel:  rapid.SampledFrom(genChannels).Draw(t, "channel"),
			Party:    rapid.SampledFrom([]Party{PartyDebtor, PartyDebtor, PartyDebtor, PartyThirdParty}).Draw(t, "party"),
			Number:   rapid.SampledFrom([]string{"n1", "n2", "n3", "n4", ""}).Draw(t, "number"),
			Outcome:  rapid.SampledFrom(genOutcomes).Draw(t, "outcome"),
			Consent:  rapid.SampledFrom([]string{"", "", "", ConsentLateHours}).Draw(t, "consent"),
		}
		// Minutes over the days, rounded to the half hour often, so that instants tie.
		m := rapid.IntRange(0, days*24*60).Draw(t, "minute")
		if rapid.Bool().Draw(t, "round") {
			m -= m % 30
		}
		off := rapid.SampledFrom(genOffsets).Draw(t, "offset")
		c.At = time.Unix(base+int64(m)*60, 0).In(time.FixedZone("", off))
		log = append(log, c)
	}
	return log
}

// Audit equals Decide applied to each prefix of the log in time order, for both packs.
func TestAuditEqualsDecideOnPrefixes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		log := genLog(t)
		for _, pack := range []Pack{PackCN, PackUS} {
			a, d := Audit(pack, log), decideAll(pack, log)
			if !reflect.DeepEqual(a, d) {
				t.Fatalf("%s: Audit and Decide disagree:\naudit  %+v\ndecide %+v", pack, a, d)
			}
			for k := 1; k < len(a); k++ {
				if a[k-1].Index > a[k].Index {
					t.Fatalf("flags out of log order: %+v", a)
				}
			}
		}
	})
}

// Decide needs only the contacts that share c's debtor, debt or number: the rest of the history
// changes nothing.
func TestDecideRelevantHistory(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		log := genLog(t)
		order := TimeOrder(log)
		var hist []Contact
		for _, i := range order {
			c := log[i]
			var rel []Contact
			for _, h := range hist {
				if h.DebtorID == c.DebtorID || h.DebtID == c.DebtID || (h.Number != "" && h.Number == c.Number) {
					rel = append(rel, h)
				}
			}
			// The minimal history Decide documents: the debtor's own contacts of any age, and
			// the related contacts of the last HistoryWindow.
			var minimal []Contact
			for _, h := range rel {
				if (h.DebtorID == c.DebtorID && h.Party == PartyDebtor) || c.At.Sub(h.At) < HistoryWindow {
					minimal = append(minimal, h)
				}
			}
			for _, pack := range []Pack{PackCN, PackUS} {
				all := Decide(pack, DebtorState{}, hist, c)
				if some := Decide(pack, DebtorState{}, rel, c); !reflect.DeepEqual(all, some) {
					t.Fatalf("%s %s: whole history %+v, relevant history %+v", pack, c.ID, all, some)
				}
				if some := Decide(pack, DebtorState{}, minimal, c); !reflect.DeepEqual(all, some) {
					t.Fatalf("%s %s: whole history %+v, minimal history %+v", pack, c.ID, all, some)
				}
			}
			hist = append(hist, c)
		}
	})
}

// A live-only state only ever adds violations to what the audit rules find.
func TestLiveStateOnlyAdds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		log := genLog(t)
		if len(log) == 0 {
			return
		}
		st := DebtorState{
			DoNotContact: rapid.Bool().Draw(t, "dnc"), Deceased: rapid.Bool().Draw(t, "dead"), Bankrupt: rapid.Bool().Draw(t, "bk"),
			ThirdPartyStopped: []string{"n2"}, TimeBarred: rapid.Bool().Draw(t, "tb"),
			Purpose:      rapid.SampledFrom([]string{"", PurposeSuit}).Draw(t, "purpose"),
			Inconvenient: []Window{{Start: 12 * time.Hour, End: 13 * time.Hour}},
		}
		order := TimeOrder(log)
		var hist []Contact
		for _, i := range order {
			for _, pack := range []Pack{PackCN, PackUS} {
				base := Decide(pack, DebtorState{}, hist, log[i])
				live := Decide(pack, st, hist, log[i])
				for _, v := range base.Violations {
					found := false
					for _, w := range live.Violations {
						found = found || w == v
					}
					if !found {
						t.Fatalf("%s: live state dropped %+v", pack, v)
					}
				}
				if st.DoNotContact && live.Allowed {
					t.Fatal("DNC allowed a contact")
				}
			}
			hist = append(hist, log[i])
		}
	})
}
