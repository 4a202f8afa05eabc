package abs

import (
	"os"
	"strings"
	"testing"

	"reclaim"
)

// FuzzLoad feeds arbitrary bytes to Parse and Compile: they must never panic, must return either
// a deal or an EINVALID / ETOOLARGE error, and a deal they accept must run its base case.
func FuzzLoad(f *testing.F) {
	if b, err := os.ReadFile("../docs/examples/deal-npl-2tranche.yaml"); err == nil {
		f.Add(b)
	}
	if b, err := os.ReadFile("testdata/deal-shortfall-trigger.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("name: x\n"))
	f.Add([]byte("tranches: [{name: A, balance: \"1\"}]\nwaterfalls: {normal: [{action: if, then: [{action: if}]}]}\n"))
	f.Add([]byte("triggers: [{name: a, kind: any, of: [a]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Load(data, Options{})
		if err != nil {
			if c := reclaim.ErrorCode(err); c != reclaim.EINVALID && c != reclaim.ETOOLARGE {
				t.Fatalf("code %s: %v", c, err)
			}
			return
		}
		if _, err := d.Run(Scenario{}); err != nil && reclaim.ErrorCode(err) == reclaim.EINTERNAL {
			t.Fatalf("accepted deal broke an invariant: %v", err)
		}
	})
}

// FuzzParseFlowsCSV: the collections CSV parser never panics and returns ordered, non-negative
// flows or an EINVALID error.
func FuzzParseFlowsCSV(f *testing.F) {
	f.Add("date,amount\n2024-01-31,100.50\n2024-02-29,7\n")
	f.Add("2024-01-31,1\n2024-01-31,2\n")
	f.Add("\"2024-01-31,1\n")
	f.Add("2024-01-31,-1\n")
	f.Fuzz(func(t *testing.T, in string) {
		fl, err := ParseFlowsCSV(strings.NewReader(in), "CNY")
		if err != nil {
			if reclaim.ErrorCode(err) != reclaim.EINVALID {
				t.Fatalf("code %s", reclaim.ErrorCode(err))
			}
			return
		}
		for i, x := range fl {
			if x.Amount.Sign() < 0 || (i > 0 && !x.Date.After(fl[i-1].Date)) {
				t.Fatalf("bad flow %d: %+v", i, x)
			}
		}
	})
}
