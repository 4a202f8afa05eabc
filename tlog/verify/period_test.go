package verify

import (
	"bytes"
	"math/rand"
	"testing"
	"time"
)

// syncEntries serves es as a log, publishes it and syncs a local copy, which it returns.
func syncEntries(t *testing.T, es []Entry) string {
	t.Helper()
	keys := newTestKeys(t, 1)
	l := newTestLog(t, keys)
	for _, e := range es {
		l.add(mustEncode(t, e))
	}
	l.publish()
	dir := t.TempDir()
	if _, err := syncOnce(t, keys.policy(t, l.url(), 2), dir, ""); err != nil {
		t.Fatal(err)
	}
	return dir
}

func periodColl(id, eff, loan string, amt Amount) LoanCollection {
	return LoanCollection{Header: hdr(id, eff), Loan: loan, Amount: amt, Principal: amt, Channel: ChannelBankTransfer,
		BankTxn: Commit(bytes.Repeat([]byte{9}, 32), TagBankTxn, BankTxnRecord(id))}
}

// datedLog is a log whose collection c2 (entry 4) is dated 2025-02-01, after the January period,
// but was posted before January was closed: January must not count it, February must.
func datedLog() []Entry {
	return []Entry{
		PoolOpened{Header: hdr("open", "2025-01-01"), Name: "P", Cutoff: "2024-12-31", Currency: "CNY"},
		LoanBoarded{Header: hdr("b1", "2025-01-02"), Loan: "A", Claim: 10000, Principal: 10000, Commitment: hx('1')},
		LoanBoarded{Header: hdr("b2", "2025-01-02"), Loan: "B", Claim: 5000, Principal: 5000, Commitment: hx('2')},
		periodColl("c1", "2025-01-15", "A", 1000),
		periodColl("c2", "2025-02-01", "B", 2000),
		// 5: January counts the boardings and c1 only.
		PeriodReport{Header: hdr("r1", "2025-02-01"), PeriodStart: "2025-01-01", PeriodEnd: "2025-01-31", FromIndex: 0, ToIndex: 5,
			LoansBoarded: 2, CollectionsCount: 1, Collections: 1000, PrincipalCollected: 1000, BoardedBalance: 15000, ClosingBalance: 14000, ReportHash: hx('a')},
		periodColl("c3", "2025-02-10", "A", 500),
		// 7: February counts c2 (entry 4, so from_index is 4) and c3.
		PeriodReport{Header: hdr("r2", "2025-03-01"), PeriodStart: "2025-02-01", PeriodEnd: "2025-02-28", FromIndex: 4, ToIndex: 7,
			CollectionsCount: 2, Collections: 2500, PrincipalCollected: 2500, OpeningBalance: 14000, ClosingBalance: 11500, ReportHash: hx('b')},
	}
}

func mismatchFields(res *ReportResult) map[string]bool {
	out := map[string]bool{}
	for _, m := range res.Mismatches {
		out[m.Field] = true
	}
	return out
}

// TestReportCutByEffectiveDate: a collection dated after the period's end but sequenced before its
// close counts in the next period, not in this one; the roll-forward holds across the periods.
func TestReportCutByEffectiveDate(t *testing.T) {
	dir := syncEntries(t, datedLog())
	for _, idx := range []int64{5, 7} {
		if res, err := Report(dir, idx); err != nil {
			t.Fatalf("report %d: %v %+v", idx, err, res.Mismatches)
		}
	}
	pr, err := Periods(dir)
	if err != nil || pr.Reports != 2 || pr.Movements != 5 || pr.InOpen != 0 {
		t.Fatalf("periods %+v %v", pr, err)
	}

	// The server that cut January by log position counted c2 in January (and then not in
	// February): both reports are caught.
	es := datedLog()
	r1, r2 := es[5].(PeriodReport), es[7].(PeriodReport)
	r1.CollectionsCount, r1.Collections, r1.PrincipalCollected, r1.ClosingBalance = 2, 3000, 3000, 12000
	r2.FromIndex, r2.CollectionsCount, r2.Collections, r2.PrincipalCollected, r2.OpeningBalance = 5, 1, 500, 500, 12000
	es[5], es[7] = r1, r2
	res, err := ReportEntries(es, 5)
	wantFailure(t, err, "report-mismatch")
	f := mismatchFields(res)
	for _, want := range []string{"collections_count", "collections", "principal_collected", "closing_balance"} {
		if !f[want] {
			t.Errorf("January by log position: no mismatch on %s: %+v", want, res.Mismatches)
		}
	}
	if res.Recomputed.Collections != 1000 || res.Outstanding != 14000 {
		t.Errorf("January recomputed %+v, outstanding %s", res.Recomputed, res.Outstanding)
	}
	res, err = ReportEntries(es, 7)
	wantFailure(t, err, "report-mismatch")
	if f := mismatchFields(res); !f["from_index"] || !f["collections"] || res.Recomputed.FromIndex != 4 {
		t.Errorf("February after a position cut: %+v, from %d", res.Mismatches, res.Recomputed.FromIndex)
	}

	// A server that leaves c3 out of February.
	es = datedLog()
	r2 = es[7].(PeriodReport)
	r2.CollectionsCount, r2.Collections, r2.PrincipalCollected, r2.ClosingBalance = 1, 2000, 2000, 12000
	es[7] = r2
	res, err = ReportEntries(es, 7)
	wantFailure(t, err, "report-mismatch")
	if f := mismatchFields(res); !f["collections"] || !f["closing_balance"] {
		t.Errorf("left out: %+v", res.Mismatches)
	}

	// A February that does not start the day after January ended.
	es = datedLog()
	r2 = es[7].(PeriodReport)
	r2.PeriodStart = "2025-02-02"
	es[7] = r2
	res, err = ReportEntries(es, 7)
	wantFailure(t, err, "report-mismatch")
	if f := mismatchFields(res); !f["period_start"] {
		t.Errorf("gap: %+v", res.Mismatches)
	}
}

// TestCheckPeriods: a movement booked into a closed period (dated in it, sequenced after its
// report), one dated before the first period, and a gap between periods are each caught with the
// entry named; a clean log with an open period passes.
func TestCheckPeriods(t *testing.T) {
	es := datedLog()
	es = append(es, periodColl("c4", "2025-03-01", "A", 100)) // the open period
	res, err := CheckPeriods(es)
	if err != nil || res.InOpen != 1 || res.Movements != 6 {
		t.Fatalf("clean log: %+v %v", res, err)
	}

	// Booked into January after January's report (entry 5): the server should have refused it.
	es = datedLog()
	r2 := es[7].(PeriodReport)
	es = append(es[:7:7], periodColl("late", "2025-01-31", "A", 300), r2)
	r2.ToIndex = 8
	es[8] = r2
	res, err = CheckPeriods(es)
	f := wantFailure(t, err, "period-coverage")
	if len(res.Problems) != 1 || res.Problems[0].Index != 7 || res.Problems[0].Report != 5 || res.Problems[0].EventID != "late" {
		t.Fatalf("booked into a closed period: %+v", res.Problems)
	}
	if _, err := MarshalEvidence(f, testNow()); err != nil {
		t.Fatal(err)
	}
	// Its February report, whatever it claims, cannot also make the roll-forward hold: the
	// outstanding balances at the end of February include it.
	rr, err := ReportEntries(es, 8)
	if err == nil || !mismatchFields(rr)["closing_balance"] {
		t.Fatalf("february with a back-dated entry: %v %+v", err, rr)
	}

	// The first period starts after the boardings.
	es = datedLog()
	r1 := es[5].(PeriodReport)
	r1.PeriodStart = "2025-01-03"
	es[5] = r1
	res, err = CheckPeriods(es)
	wantFailure(t, err, "period-coverage")
	if len(res.Problems) != 2 || res.Problems[0].Index != 1 || res.Problems[1].Index != 2 || res.Problems[0].Report != -1 {
		t.Fatalf("before the first period: %+v", res.Problems)
	}

	// A gap: February starts on the 2nd (so 1 February, c2's date, would be in no period): the
	// report that breaks the tiling is named.
	es = datedLog()
	r2 = es[7].(PeriodReport)
	r2.PeriodStart = "2025-02-02"
	es[7] = r2
	res, err = CheckPeriods(es)
	wantFailure(t, err, "period-coverage")
	got := map[int64]bool{}
	for _, p := range res.Problems {
		got[p.Index] = true
	}
	if !got[7] || res.Problems[0].Report != 7 {
		t.Fatalf("gap: %+v", res.Problems)
	}
}

// TestPeriodOfProperty: for random contiguous periods and any date, PeriodOf agrees with the
// definition (the one period containing the date, the open period after the last, none before the
// first), including on every boundary day; and every date at or after the first start is in
// exactly one period or the open one.
func TestPeriodOfProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(n int) string { return base.AddDate(0, 0, n).Format(time.DateOnly) }
	for iter := 0; iter < 300; iter++ {
		var ps []PeriodReport
		start := rng.Intn(60)
		first := start
		for k := rng.Intn(6); k > 0; k-- {
			end := start + rng.Intn(40)
			ps = append(ps, PeriodReport{PeriodStart: day(start), PeriodEnd: day(end)})
			start = end + 1
		}
		var probes []int
		for _, p := range ps { // every boundary
			for _, s := range []string{p.PeriodStart, p.PeriodEnd} {
				tm, _ := time.Parse(time.DateOnly, s)
				n := int(tm.Sub(base).Hours() / 24)
				probes = append(probes, n-1, n, n+1)
			}
		}
		for i := 0; i < 20; i++ {
			probes = append(probes, rng.Intn(400)-20)
		}
		for _, n := range probes {
			eff := day(n)
			got := PeriodOf(ps, eff)
			want, hits := -1, 0
			for k, p := range ps {
				if InPeriod(eff, p.PeriodStart, p.PeriodEnd) {
					want, hits = k, hits+1
				}
			}
			if len(ps) == 0 || eff > ps[len(ps)-1].PeriodEnd {
				want, hits = len(ps), hits+1
			}
			if got != want {
				t.Fatalf("periods %v, date %s: PeriodOf %d, want %d", ps, eff, got, want)
			}
			if len(ps) > 0 && n >= first && hits != 1 {
				t.Fatalf("periods %v, date %s: in %d periods", ps, eff, hits)
			}
		}
	}
	if DayAfter("2024-02-28") != "2024-02-29" || DayAfter("2025-12-31") != "2026-01-01" || DayAfter("nope") != "" {
		t.Fatal("DayAfter")
	}
}

// TestRemovalDatedBeforeCollection: a removal takes the balance left after every collection
// logged before it, so it may not be dated before one of them.
func TestRemovalDatedBeforeCollection(t *testing.T) {
	for _, c := range []struct {
		removal string
		ok      bool
	}{{"2025-03-10", true}, {"2025-03-09", false}} {
		es := append(datedLog(),
			periodColl("c5", "2025-03-10", "A", 100),
			LoanRemoved{Header: hdr("rmA", c.removal), Loan: "A", Reason: RemovalRepurchased, Balance: 8400, Price: 8400},
			PeriodReport{Header: hdr("r3", "2025-04-01"), PeriodStart: "2025-03-01", PeriodEnd: "2025-03-31", FromIndex: 7, ToIndex: 10,
				LoansRemoved: 1, CollectionsCount: 1, Collections: 100, PrincipalCollected: 100, OpeningBalance: 11500, RemovedBalance: 8400,
				ClosingBalance: 3000, ReportHash: hx('c')})
		res, err := ReportEntries(es, 10)
		if c.ok {
			if err != nil {
				t.Fatalf("removal dated %s: %v %+v", c.removal, err, res.Mismatches)
			}
			continue
		}
		wantFailure(t, err, "report-mismatch")
		if len(res.Mismatches) != 1 || res.Mismatches[0].Field != "removed_balance" {
			t.Fatalf("removal dated %s: %+v", c.removal, res.Mismatches)
		}
	}
}
