package abs

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"reclaim/money"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func loadFile(t testing.TB, path string) *Deal {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Load(b, Options{Files: os.DirFS(filepath.Dir(path))})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./abs -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run with -update and review the diff\n--- got ---\n%s", path, got)
	}
}

func mustRate(t testing.TB, s string) money.Rate {
	t.Helper()
	r, err := money.ParseRate(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestGolden runs the documented deals and compares the full period tables with testdata:
// (a) the two-tranche deal with a liquidity reserve and an incentive split, base case;
// (b) the variant whose recovery-shortfall trigger defers the servicer's base fee, under a 12%
// haircut that trips it; (c) a stressed run (haircut and delay) that exhausts the reserve and
// hits the event of default.
func TestGolden(t *testing.T) {
	for _, c := range []struct {
		golden, deal string
		s            Scenario
		check        func(t *testing.T, r *Result)
	}{
		{"a-base.txt", "../docs/examples/deal-npl-2tranche.yaml", Scenario{}, func(t *testing.T, r *Result) {
			if r.FinalStatus != "normal" || !r.Tranches[0].Loss.IsZero() || !r.Tranches[1].Loss.IsZero() || r.Tranches[1].ResidualPaid.Sign() <= 0 {
				t.Errorf("base case: status %s, tranches %+v", r.FinalStatus, r.Tranches)
			}
		}},
		{"b-shortfall-defers-fee.txt", "testdata/deal-shortfall-trigger.yaml", Scenario{Haircut: mustRate(t, "12%")}, func(t *testing.T, r *Result) {
			hit := false
			for _, tt := range r.Triggers {
				hit = hit || (tt.Trigger == "recovery_shortfall" && tt.Hit)
			}
			deferred := false
			for _, p := range r.Periods {
				for _, f := range p.Fees {
					if f.Name == "servicer" && f.Deferred.Sign() > 0 && f.Paid.IsZero() {
						deferred = true
					}
				}
			}
			if !hit || !deferred {
				t.Errorf("the recovery-shortfall trigger did not defer the servicer fee (hit %v, deferred %v)", hit, deferred)
			}
		}},
		{"c-stress-eod.txt", "../docs/examples/deal-npl-2tranche.yaml", Scenario{Haircut: mustRate(t, "30%"), Delay: 3}, func(t *testing.T, r *Result) {
			if r.FinalStatus != "post_default" || len(r.StatusChanges) == 0 {
				t.Errorf("no event of default: %s", r.FinalStatus)
			}
			exhausted := false
			for _, p := range r.Periods {
				for _, a := range p.Accounts {
					if a.Name == "reserve" && a.Closing.IsZero() {
						exhausted = true
					}
				}
			}
			if !exhausted {
				t.Error("the reserve was never exhausted")
			}
		}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			d := loadFile(t, c.deal)
			r, err := d.Run(c.s)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := r.WriteTable(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, c.golden, b.Bytes())
			c.check(t, r)
		})
	}
}
