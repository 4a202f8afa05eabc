package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"reclaim/date"
	"reclaim/money"
	"reclaim/synth"
	"reclaim/workout"
)

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

func simUpdating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func smallConfig(mode Mode) Config {
	return Config{Seed: 7, Loans: 600, Months: 3, CutOff: date.Of(2026, 6, 30), Profile: synth.BankMixed, Mode: mode,
		Strategy: workout.DefaultStrategy().Scaled(0.006)}
}

func runSmall(t *testing.T, cfg Config) (*Result, []byte, []byte) {
	t.Helper()
	var c, p bytes.Buffer
	cfg.Contacts, cfg.Payments = &c, &p
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, c.Bytes(), p.Bytes()
}

func digest(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:8]) }

// TestSimulationGolden runs a small rules simulation and compares its result (with digests of
// the contact log and the payments) with testdata/small_rules.json; -update rewrites it.
func TestSimulationGolden(t *testing.T) {
	r, c, p := runSmall(t, smallConfig(Rules))
	doc := map[string]any{"result": r, "contacts_sha256_64": digest(c), "payments_sha256_64": digest(p),
		"contact_lines": bytes.Count(c, []byte("\n")), "payment_lines": bytes.Count(p, []byte("\n"))}
	got, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	const path = "testdata/small_rules.json"
	if simUpdating() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("simulation differs from %s (run with -update after checking the change):\n%s", path, got)
	}
	if r.Collected <= 0 || r.Months[0].Contacts == 0 {
		t.Errorf("nothing happened: %+v", r)
	}
}

// TestSimulationAuditsClean: every contact of the simulated log passes the CN audit, the log
// reads with the compliance engine's reader, and payments add up to the collections.
func TestSimulationAuditsClean(t *testing.T) {
	for _, mode := range []Mode{Rules, Explore} {
		r, c, p := runSmall(t, smallConfig(mode))
		log, err := workout.ReadContactLog(bytes.NewReader(c))
		if err != nil {
			t.Fatalf("%s: contact log does not read: %v", mode, err)
		}
		if len(log) == 0 {
			t.Fatalf("%s: empty log", mode)
		}
		total := 0
		for _, n := range r.Contacts {
			total += n
		}
		if total != len(log) {
			t.Errorf("%s: %d contacts counted, %d logged", mode, total, len(log))
		}
		for _, pack := range []workout.Pack{workout.PackCN} {
			if flags := workout.Audit(pack, log); len(flags) != 0 {
				t.Errorf("%s: %d violations under %s, first %+v", mode, len(flags), pack, flags[0])
			}
		}
		recs, err := csv.NewReader(bytes.NewReader(p)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != strings.Join(PaymentsHeader, ",") {
			t.Errorf("payments header %v", recs[0])
		}
		var sum int64
		for _, rec := range recs[1:] {
			a, err := money.ParseStrict(rec[2], money.CNY)
			if err != nil || a.Sign() <= 0 {
				t.Fatalf("payment line %v: %v", rec, err)
			}
			if _, err := date.ParseStrict(rec[1]); err != nil {
				t.Fatalf("payment date %v: %v", rec, err)
			}
			sum += a.Minor()
		}
		if got := money.New(sum, money.CNY).Float(); got-r.Collected > 0.01 || r.Collected-got > 0.01 {
			t.Errorf("%s: payments sum %.2f, collected %.2f", mode, got, r.Collected)
		}
	}
}

func TestSimulationDeterministic(t *testing.T) {
	cfg := smallConfig(Rules)
	cfg.Loans = 200
	_, c1, p1 := runSmall(t, cfg)
	_, c2, p2 := runSmall(t, cfg)
	if !bytes.Equal(c1, c2) || !bytes.Equal(p1, p2) {
		t.Fatal("the same seed gave different runs")
	}
	cfg.Seed++
	_, c3, _ := runSmall(t, cfg)
	if bytes.Equal(c1, c3) {
		t.Fatal("another seed gave the same run")
	}
}

// TestOptimiserAndSplit learns models on a small exploration run, then runs the optimiser and a
// champion/challenger split; both stay within capacity and audit clean.
func TestOptimiserAndSplit(t *testing.T) {
	if testing.Short() {
		t.Skip("trains models")
	}
	base := smallConfig(Optimiser)
	base.Loans, base.Months = 1500, 2
	base.Strategy = workout.DefaultStrategy().Scaled(0.015)
	m, _, err := Learn(context.Background(), base, LearnConfig{Seed: 11, Loans: 6000, Months: 5, Params: workout.ModelParams{Trees: 30, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if m.ContactExamples == 0 || m.AcceptExamples == 0 || !(m.PayShare > 0 && m.PayShare < 1) {
		t.Fatalf("models %+v", m)
	}
	for _, mode := range []Mode{Optimiser, Split} {
		cfg := base
		cfg.Mode, cfg.Models, cfg.PerCase = mode, m, true
		r, c, _ := runSmall(t, cfg)
		log, err := workout.ReadContactLog(bytes.NewReader(c))
		if err != nil {
			t.Fatal(err)
		}
		if flags := workout.Audit(workout.PackCN, log); len(flags) != 0 {
			t.Errorf("%s: violations %+v", mode, flags[0])
		}
		perDay := map[string]int{}
		for _, ct := range log {
			perDay[ct.At.Format("2006-01-02")]++
		}
		for d, n := range perDay {
			if n > cfg.Strategy.Capacity() {
				t.Errorf("%s: %d contacts on %s, capacity %d", mode, n, d, cfg.Strategy.Capacity())
			}
		}
		if len(r.PerCase) != r.Cases {
			t.Errorf("%s: per-case results %d for %d cases", mode, len(r.PerCase), r.Cases)
		}
		if mode == Split && (r.Arms["champion"].Cases == 0 || r.Arms["challenger"].Cases == 0) {
			t.Errorf("split arms %+v", r.Arms)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Loans: 0, Months: 1, CutOff: date.Of(2026, 6, 30), Mode: Rules},
		{Loans: 10, Months: 0, CutOff: date.Of(2026, 6, 30), Mode: Rules},
		{Loans: 10, Months: 1, Mode: Rules},
		{Loans: 10, Months: 1, CutOff: date.Of(2026, 6, 30), Mode: Optimiser},
		{Loans: 10, Months: 1, CutOff: date.Of(2026, 6, 30), Mode: "greedy"},
	} {
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
