package tape

import (
	"fmt"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// TrackOnly with any superset of the repeated loan ids (what a Bloom filter pass returns: the
// repeated ids plus false positives) reports exactly what remembering every id reports.
func TestTrackOnlySupersetSameReport(t *testing.T) {
	header := []string{"loan_id", "borrower_id", "portfolio_id", "cut_off_date"}
	l, err := NewLayout(header, nil)
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 80).Draw(rt, "rows")
		ids := rapid.IntRange(1, 40).Draw(rt, "ids")
		var rows []Row
		count := map[string]int{}
		for i := 0; i < n; i++ {
			id := ""
			if !rapid.Bool().Draw(rt, "blank") || i == 0 {
				id = fmt.Sprintf("L%d", rapid.IntRange(0, ids-1).Draw(rt, "id"))
			}
			count[id]++
			rows = append(rows, Row{Line: i + 2, Cells: []string{id, "B1", "P", "2025-06-30"}})
		}
		superset := map[string]struct{}{}
		for id, c := range count {
			if c > 1 || rapid.Bool().Draw(rt, "false positive") {
				superset[id] = struct{}{}
			}
		}
		report := func(track map[string]struct{}) [][]RowError {
			c := NewConverter(l, SourceInfo{})
			if track != nil {
				c.TrackOnly(track)
			}
			var out [][]RowError
			for _, r := range rows {
				var res Result
				c.Convert(r, &res)
				var dup []RowError
				for _, e := range res.Errors {
					if e.Rule == RuleLoanIDUnique {
						dup = append(dup, e)
					}
				}
				out = append(out, dup)
			}
			return out
		}
		if all, some := report(nil), report(superset); !reflect.DeepEqual(all, some) {
			rt.Fatalf("TrackOnly(%v) reports\n%v\nremembering every id reports\n%v", superset, some, all)
		}
	})
}
