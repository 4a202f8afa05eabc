package abs

import (
	"testing"

	"reclaim/money"
)

// TestBreakeven solves the example deal's break-even haircut per delay and checks the answer at
// fen precision: the senior passes at the solved haircut and fails when one more fen of
// collections is lost. Longer delays cannot allow a larger haircut here.
func TestBreakeven(t *testing.T) {
	d := loadFile(t, "../docs/examples/deal-npl-2tranche.yaml")
	bs, err := d.Breakeven([]int{0, 1, 2, 4}, money.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(d, false)
	prev := money.MustRate(1, 1)
	for _, b := range bs {
		if !b.PassesBase {
			// With two empty periods the reserve (about 1.5 periods of senior interest and
			// fees) runs out: the senior misses interest whatever the haircut.
			if b.Delay < 2 || !b.Haircut.IsZero() {
				t.Errorf("%v", b)
			}
			prev = b.Haircut
			continue
		}
		if b.Haircut.Sign() <= 0 || b.Haircut.Cmp(money.MustRate(1, 1)) >= 0 {
			t.Fatalf("%v", b)
		}
		if b.Haircut.Cmp(prev) > 0 {
			t.Errorf("delay %d allows more haircut (%s) than a shorter delay (%s)", b.Delay, b.Percent, prev.Percent(6))
		}
		prev = b.Haircut
		base := d.collections(Scenario{Delay: b.Delay})
		total := b.Collections.Minor()
		lost := total - b.Kept.Minor()
		for _, c := range []struct {
			lost int64
			want bool
		}{{lost, true}, {lost + 1, false}} {
			coll := make([]int64, len(base))
			for k, x := range base {
				a, _ := money.New(x, "CNY").MulRate(money.MustRate(total-c.lost, total), money.HalfUp)
				coll[k] = a.Minor()
			}
			if ok, err := r.quiet(coll); err != nil || ok != c.want {
				t.Errorf("delay %d, %d fen lost: pass %v (%v), want %v", b.Delay, c.lost, ok, err, c.want)
			}
		}
		// The run at the break-even haircut, recorded, shows no senior loss.
		res, err := d.Run(Scenario{Delay: b.Delay, Haircut: b.Haircut})
		if err != nil || !res.Tranches[0].Loss.IsZero() {
			t.Errorf("delay %d at break-even: %v %+v", b.Delay, err, res.Tranches[0])
		}
		t.Logf("%v in %d runs", b, b.Steps)
	}
}

func TestGrid(t *testing.T) {
	d := loadFile(t, "../docs/examples/deal-npl-2tranche.yaml")
	hs := []money.Rate{{}, money.MustRate(1, 10), money.MustRate(3, 10), money.MustRate(1, 2)}
	cells, err := d.Grid(hs, []int{0, 2}, money.Rate{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 8 {
		t.Fatalf("%d cells", len(cells))
	}
	if !cells[0].SeniorPass || cells[0].Loss[0] != 0 || cells[7].SeniorPass || cells[7].Loss[0] <= 0 {
		t.Errorf("grid corners: %+v %+v", cells[0], cells[7])
	}
	for i := 2; i < len(cells); i++ { // more haircut, same delay: no less loss
		if cells[i].Loss[0] < cells[i-2].Loss[0] {
			t.Errorf("loss falls with the haircut: %+v then %+v", cells[i-2], cells[i])
		}
	}
}

// TestCleanUpCall: with the call exercised, the originator buys the pool back on the first
// payment date the tranches are down to 10% of their issued balance; the proceeds repay every
// tranche and the deal ends that day.
func TestCleanUpCall(t *testing.T) {
	doc := exampleDoc(t)
	doc.CleanUpCall.Exercise = true
	d, err := Compile(doc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := d.Run(Scenario{})
	if err != nil {
		t.Fatal(err)
	}
	last := r.Periods[len(r.Periods)-1]
	if last.CallProceeds.Sign() <= 0 || len(r.Periods) >= 16 {
		t.Fatalf("no call: %d periods, proceeds %s", len(r.Periods), last.CallProceeds)
	}
	var issued, before int64
	for i, tr := range r.Tranches {
		issued += tr.Issued.Minor()
		before += r.Periods[len(r.Periods)-2].Tranches[i].Closing.Minor()
		if !tr.Outstanding.IsZero() {
			t.Errorf("tranche %s still has %s after the call", tr.Name, tr.Outstanding)
		}
	}
	if before*10 > issued {
		t.Errorf("called although the balance before (%d) was above 10%% of %d", before, issued)
	}
	found := false
	for _, l := range r.Statement {
		found = found || (l.From == "originator" && l.Amount == last.CallProceeds)
	}
	if !found {
		t.Error("no statement line for the call proceeds")
	}
}
