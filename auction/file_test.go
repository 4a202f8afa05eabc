package auction

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"reclaim"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// example is the auction file of auction-rules.md.
const example = `{"rules": "judicial", "format": "english",
 "asset": {"kind": "real_estate", "appraisal": "1000000.00"},
 "start_price": "700000.00", "increment": "10000.00", "deposit": "70000.00",
 "notice_at": "2026-01-01T10:00:00+08:00",
 "start": "2026-02-01T10:00:00+08:00", "end": "2026-02-02T10:00:00+08:00",
 "preemption": [{"bidder": "P1", "rank": 1}],
 "deposit_exempt": ["C1"],
 "events": [
   {"at": "2026-02-01T09:00:00+08:00", "type": "deposit", "bidder": "A"},
   {"at": "2026-02-01T11:00:00.000+08:00", "type": "bid", "bidder": "A", "amount": "700000.00", "key": "a-1"}
 ]}`

func TestParseExample(t *testing.T) {
	f, err := ParseFile([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	l := f.Listing
	if l.Pack.Name != "judicial" || l.Format != English || l.Kind != RealEstate || l.Appraisal != y(1_000_000) ||
		l.StartPrice != y(700_000) || l.Increment != y(10_000) || l.Deposit != y(70_000) || !l.Start.Equal(t0) ||
		l.Preemption["P1"] != 1 || !l.DepositExempt["C1"] || len(f.Events) != 2 || f.Events[1].Event.Key != "a-1" ||
		f.Events[1].Event.Amount != y(700_000) || !f.Events[1].At.Equal(t0.Add(3600e9)) {
		t.Fatalf("parsed %+v", f)
	}
	r := Replay(f)
	if !r.Valid || r.Outcome != OutcomeSold || r.Winner != "A" || r.Price != "700000.00" || r.End != "2026-02-02T10:00:00+08:00" ||
		len(r.Events) != 2 || !r.Events[0].Accepted || !r.Events[1].Accepted || r.Relist != nil {
		t.Fatalf("replay %+v", r)
	}
}

// edit returns the example with one replacement.
func edit(old, new string) string {
	if !strings.Contains(example, old) {
		panic(old)
	}
	return strings.Replace(example, old, new, 1)
}

func TestParseErrorsNameThePath(t *testing.T) {
	for _, c := range []struct {
		name, file, want string
	}{
		{"exponent amount", edit(`"amount": "700000.00"`, `"amount": "7e5"`), `events[1].amount: "7e5" is not a decimal amount`},
		{"number amount", edit(`"start_price": "700000.00"`, `"start_price": 700000`), `start_price: 700000 is not a decimal amount in a string`},
		{"three decimals", edit(`"deposit": "70000.00"`, `"deposit": "70000.001"`), `deposit: "70000.001" is not a decimal amount`},
		{"huge", edit(`"increment": "10000.00"`, `"increment": "99999999999999999999"`), `increment: "99999999999999999999" is out of range`},
		{"missing start", edit(`"start": "2026-02-01T10:00:00+08:00", `, ``), `start: missing`},
		{"bad time", edit(`"end": "2026-02-02T10:00:00+08:00"`, `"end": "2026-02-02 10:00"`), `end: "2026-02-02 10:00" is not an RFC 3339 time`},
		{"time without zone", edit(`"end": "2026-02-02T10:00:00+08:00"`, `"end": "2026-02-02T10:00:00"`), `end: "2026-02-02T10:00:00" is not an RFC 3339 time`},
		{"unknown pack", edit(`"judicial"`, `"court"`), `rules: "court" is not a rule pack`},
		{"unknown format", edit(`"english"`, `"vickrey"`), `format: "vickrey" is not a format`},
		{"unknown kind", edit(`"real_estate"`, `"ship"`), `asset.kind: "ship" is not an asset kind`},
		{"asset not object", edit(`{"kind": "real_estate", "appraisal": "1000000.00"}`, `"house"`), `asset: "house" is not an object`},
		{"unknown field", edit(`"deposit_exempt"`, `"deposit_exmpt"`), `deposit_exmpt: unknown field`},
		{"unknown event field", edit(`"key": "a-1"`, `"kee": "a-1"`), `events[1].kee: unknown field`},
		{"unknown event type", edit(`"type": "bid"`, `"type": "offer"`), `events[1].type: "offer" is not an event type`},
		{"bid without bidder", edit(`"bidder": "A", "amount"`, `"amount"`), `events[1].bidder: missing`},
		{"bid without amount", edit(`, "amount": "700000.00"`, ``), `events[1].amount: missing`},
		{"rank zero", edit(`"rank": 1`, `"rank": 0`), `preemption[0].rank: 0 is not a rank`},
		{"rank string", edit(`"rank": 1`, `"rank": "1"`), `preemption[0].rank: "1" is not a rank`},
		{"exempt not a name", edit(`["C1"]`, `[""]`), `deposit_exempt[0]: "" is not a bidder name`},
		{"events not array", edit(`"events": [`, `"events": {"x": [`) + "}", `events: {`},
		{"time order", edit(`"2026-02-01T11:00:00.000+08:00"`, `"2026-02-01T08:00:00+08:00"`), `events[1].at: 2026-02-01T08:00:00+08:00 is before events[0].at`},
		{"not json", `{"rules": "judicial",`, `not valid JSON`},
		{"trailing", example + ` {}`, `text after the JSON object`},
		{"array", `[]`, `the file is not a JSON object`},
		{"empty", ``, `not valid JSON`},
	} {
		_, err := ParseFile([]byte(c.file))
		var pe *ParseError
		if err == nil || !errors.As(err, &pe) || reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("%s: error %v, want a ParseError", c.name, err)
			continue
		}
		if !strings.HasPrefix(pe.Error(), c.want) {
			t.Errorf("%s: %q, want it to start with %q", c.name, pe.Error(), c.want)
		}
	}
}

// TestGolden replays every auction file in testdata and compares the JSON report with its
// .golden.json file (go test ./auction -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.auction.json"))
	if err != nil || len(files) < 8 {
		t.Fatalf("golden inputs: %v %v", files, err)
	}
	for _, in := range files {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			f, err := ParseFile(data)
			if err != nil {
				got, _ = json.MarshalIndent(map[string]string{"malformed": err.Error()}, "", "  ")
			} else {
				got, _ = json.MarshalIndent(Replay(f), "", "  ")
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(in, ".auction.json") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("replay differs from %s (-want +got):\n%s", golden, d)
			}
		})
	}
}

func FuzzAuctionFile(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte(edit(`"amount": "700000.00"`, `"amount": "7e5"`)))
	f.Add([]byte(`{"rules":"marketplace","format":"dutch","asset":{"kind":"movable"},"start_price":"100","notice_at":"2026-01-01T00:00:00Z","start":"2026-01-03T00:00:00Z","end":"2026-01-03T05:00:00Z","dutch":{"step":"1","every":"1m"},"events":[{"at":"2026-01-03T00:30:00Z","type":"accept","bidder":"A"}]}`))
	f.Add([]byte(`{"rules":"yindeng","format":"multi_round","asset":{"kind":"npl_package"},"start_price":"100","increment":"1","notice_at":"2026-01-01T00:00:00Z","start":"2026-01-09T00:00:00Z","end":"2026-01-09T05:00:00Z","rounds":["2026-01-09T01:00:00Z"],"events":[{"at":"2026-01-09T00:30:00Z","type":"quote","bidder":"A","amount":"100"},{"at":"2026-01-09T04:58:00Z","type":"bid","bidder":"A","amount":"101"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || reclaim.ErrorCode(err) != reclaim.EINVALID {
				t.Fatalf("error %v is not a ParseError", err)
			}
			return
		}
		r := Replay(file)
		if len(r.Events) != len(file.Events) {
			t.Fatalf("%d events reported for %d", len(r.Events), len(file.Events))
		}
		switch {
		case !r.Valid && r.Outcome != OutcomeInvalid, r.Valid && r.Outcome == OutcomeInvalid:
			t.Fatalf("valid=%v outcome %s", r.Valid, r.Outcome)
		case r.Outcome == OutcomeSold && (r.Winner == "" || r.Price == "" || r.Relist != nil):
			t.Fatalf("sold report %+v", r)
		case r.Outcome == OutcomeFailed && (r.Winner != "" || r.Relist == nil):
			t.Fatalf("failed report %+v", r)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatal(err)
		}
	})
}
