package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

const auctionHead = `"rules": "judicial", "format": "english",
 "asset": {"kind": "real_estate", "appraisal": "1000000.00"},
 "start_price": "700000.00", "increment": "10000.00", "deposit": "70000.00",
 "notice_at": "2026-01-01T10:00:00+08:00",
 "start": "2026-02-01T10:00:00+08:00", "end": "2026-02-02T10:00:00+08:00"`

func writeAuction(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func keysOf(m map[string]any) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

func TestAuctionReplaySold(t *testing.T) {
	p := writeAuction(t, `{`+auctionHead+`,
 "preemption": [{"bidder": "P1", "rank": 1}],
 "events": [
   {"at": "2026-02-01T09:00:00+08:00", "type": "deposit", "bidder": "A"},
   {"at": "2026-02-01T09:00:00+08:00", "type": "deposit", "bidder": "P1"},
   {"at": "2026-02-01T11:00:00+08:00", "type": "bid", "bidder": "A", "amount": "750000.00", "key": "a-1"},
   {"at": "2026-02-01T11:00:01+08:00", "type": "bid", "bidder": "A", "amount": "750000.00", "key": "a-1"},
   {"at": "2026-02-02T09:57:00+08:00", "type": "bid", "bidder": "P1", "amount": "750000.00"},
   {"at": "2026-02-02T10:01:00+08:00", "type": "bid", "bidder": "A", "amount": "760000.00"},
   {"at": "2026-02-02T10:06:00+08:00", "type": "bid", "bidder": "P1", "amount": "760000.00"},
   {"at": "2026-02-02T10:06:00.001+08:00", "type": "bid", "bidder": "P1", "amount": "770000.00"},
   {"at": "2026-02-03T10:00:00+08:00", "type": "default", "bidder": "A"}
 ]}`)
	out, errOut, code := cli(t, "auction", "replay", p, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, k := range []string{"valid", "violations", "events", "end", "outcome", "winner", "price"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, keysOf(m))
		}
	}
	if _, ok := m["relist"]; ok {
		t.Error("relist shown for a sold auction")
	}
	if m["valid"] != true || m["outcome"] != "sold" || m["winner"] != "A" || m["price"] != "760000.00" ||
		m["end"] != "2026-02-02T10:06:00+08:00" || m["defaulted"] != true {
		t.Fatalf("report %s", out)
	}
	evs := m["events"].([]any)
	want := []struct {
		accepted bool
		rule     string
	}{{true, "JA-4"}, {true, "JA-4"}, {true, "JA-6"}, {true, "JA-6"}, {true, "JA-7"}, {true, "JA-6"}, {false, "JA-6"}, {false, "JA-6"}, {true, "JA-8"}}
	if len(evs) != len(want) {
		t.Fatalf("%d events", len(evs))
	}
	for i, e := range evs {
		ev := e.(map[string]any)
		if !reflect.DeepEqual(keysOf(ev), []string{"accepted", "index", "reason", "rule"}) {
			t.Fatalf("event keys %v", keysOf(ev))
		}
		if ev["index"] != float64(i) || ev["accepted"] != want[i].accepted || ev["rule"] != want[i].rule {
			t.Errorf("event %d: %v, want %+v", i, ev, want[i])
		}
	}
	// The text form names the same fate.
	out, _, code = cli(t, "auction", "replay", p)
	if code != exitOK || !strings.Contains(out, "Outcome: sold to A at 760000.00") || !strings.Contains(out, "End: 2026-02-02T10:06:00+08:00") {
		t.Fatalf("text: %d\n%s", code, out)
	}
}

func TestAuctionReplayFailedShowsRelist(t *testing.T) {
	p := writeAuction(t, `{`+strings.Replace(auctionHead, "real_estate", "movable", 1)+`, "events": []}`)
	out, _, code := cli(t, "auction", "replay", p, "--json")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil || code != exitOK {
		t.Fatalf("exit %d %v\n%s", code, err, out)
	}
	relist, _ := m["relist"].(map[string]any)
	if m["outcome"] != "failed" || relist["min_start_price"] != "560000.00" || relist["min_notice_days"] != float64(7) {
		t.Fatalf("report %s", out)
	}
	if _, ok := m["winner"]; ok {
		t.Fatal("winner on a failed auction")
	}
	if _, ok := m["price"]; ok {
		t.Fatal("price on a failed auction")
	}
}

func TestAuctionReplayInvalidListingExits1(t *testing.T) {
	p := writeAuction(t, `{`+strings.Replace(strings.Replace(auctionHead, `"700000.00"`, `"600000.00"`, 1), `"70000.00"`, `"60000.00"`, 1)+`,
 "events": [{"at": "2026-02-01T11:00:00+08:00", "type": "bid", "bidder": "A", "amount": "600000.00"}]}`)
	out, errOut, code := cli(t, "auction", "replay", p, "--json")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1: %s %s", code, out, errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	vs := m["violations"].([]any)
	if m["valid"] != false || m["outcome"] != "invalid" || len(vs) != 1 || vs[0].(map[string]any)["rule"] != "JA-1" {
		t.Fatalf("report %s", out)
	}
	if ev := m["events"].([]any)[0].(map[string]any); ev["accepted"] != false || ev["rule"] != "JA-1" {
		t.Fatalf("event of an invalid listing: %v", ev)
	}
	out, _, code = cli(t, "auction", "replay", p)
	if code != exitFailed || !strings.Contains(out, "JA-1") || !strings.Contains(out, "INVALID") {
		t.Fatalf("text: %d\n%s", code, out)
	}
}

func TestAuctionReplayMalformedExits2(t *testing.T) {
	p := writeAuction(t, `{`+auctionHead+`, "events": [
   {"at": "2026-02-01T09:00:00+08:00", "type": "deposit", "bidder": "A"},
   {"at": "2026-02-01T09:00:00+08:00", "type": "deposit", "bidder": "B"},
   {"at": "2026-02-01T11:00:00+08:00", "type": "bid", "bidder": "A", "amount": "700000.00"},
   {"at": "2026-02-01T12:00:00+08:00", "type": "bid", "bidder": "B", "amount": "7e5"}]}`)
	for _, args := range [][]string{{p}, {p, "--json"}} {
		out, errOut, code := cli(t, append([]string{"auction", "replay"}, args...)...)
		if code != exitUsage || !strings.Contains(errOut, `events[3].amount: "7e5" is not a decimal amount`) || out != "" {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if _, errOut, code := cli(t, "auction", "replay", filepath.Join(t.TempDir(), "missing.json")); code != exitUsage || !strings.Contains(errOut, "missing.json") {
		t.Fatalf("missing file: %d %s", code, errOut)
	}
	if _, _, code := cli(t, "auction", "replay"); code != exitUsage {
		t.Fatalf("no file: %d", code)
	}
	if out, _, code := cli(t, "auction", "replay", "--help"); code != exitOK || !strings.Contains(out, "Exit codes") {
		t.Fatalf("help: %d", code)
	}
}
