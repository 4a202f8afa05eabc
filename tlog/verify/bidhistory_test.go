package verify

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func goldenHistory() []HistoryBid {
	t0 := time.Date(2026, 2, 1, 3, 0, 0, 0, time.UTC)
	return []HistoryBid{
		{At: t0, Bidder: "B001", Amount: 70000000},
		{At: t0.Add(90*time.Second + 123456789*time.Nanosecond), Bidder: "B002", Amount: 71000000},
		{At: t0.Add(23*time.Hour + 57*time.Minute), Bidder: "B001", Amount: 73000000},
	}
}

// TestBidHistoryGolden pins the canonical encoding and its hash (testdata/bidhistory/*; -update
// rewrites them).
func TestBidHistoryGolden(t *testing.T) {
	dir := filepath.Join("testdata", "bidhistory")
	b, err := EncodeBidHistory(goldenHistory())
	if err != nil {
		t.Fatal(err)
	}
	h, err := BidHistoryHash(goldenHistory())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "history.txt"), b, 0o644)
		os.WriteFile(filepath.Join(dir, "history.sha256"), []byte(h+"\n"), 0o644)
	}
	want, err := os.ReadFile(filepath.Join(dir, "history.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(want) {
		t.Fatalf("encoding changed:\n%s\nwant\n%s", b, want)
	}
	wantHash, _ := os.ReadFile(filepath.Join(dir, "history.sha256"))
	if h+"\n" != string(wantHash) {
		t.Fatalf("hash %s, golden %s", h, wantHash)
	}
	if !strings.Contains(string(b), "2 2026-02-01T03:01:30.123456Z B002 71000000\n") {
		t.Fatalf("second line not as documented:\n%s", b)
	}
}

func TestCheckBidHistory(t *testing.T) {
	bids := goldenHistory()
	h, _ := BidHistoryHash(bids)
	e := AuctionResult{Header: Header{Pool: "p", EventID: "auc-1", Effective: "2026-02-03"}, Auction: "A-1", Lot: "1", Loans: 3,
		Price: 73000000, Winner: strings.Repeat("a", 64), Bids: 3, BidHistory: h}
	if err := CheckBidHistory(e, bids); err != nil {
		t.Fatalf("matching history refused: %v", err)
	}
	tampered := append([]HistoryBid(nil), bids...)
	tampered[1].Amount++
	if err := CheckBidHistory(e, tampered); err == nil || !strings.Contains(err.Error(), "hashes to") {
		t.Fatalf("tampered amount: %v", err)
	}
	if err := CheckBidHistory(e, bids[:2]); err == nil || !strings.Contains(err.Error(), "2 bids") {
		t.Fatalf("dropped bid: %v", err)
	}
	for _, bad := range []HistoryBid{{At: bids[0].At, Bidder: "B 1", Amount: 1}, {At: bids[0].At, Bidder: "", Amount: 1},
		{At: bids[0].At, Bidder: "B1", Amount: -1}, {Bidder: "B1", Amount: 1}} {
		if _, err := EncodeBidHistory([]HistoryBid{bad}); err == nil {
			t.Errorf("%+v encoded", bad)
		}
	}
	if b, _ := EncodeBidHistory(nil); string(b) != BidHistoryVersion+"\n" {
		t.Fatalf("empty history %q", b)
	}
}

// TestBidHistoryProperties: a history checks against its own hash, and changing any bid's time
// (by a microsecond or more), code or amount, or dropping or adding a bid, changes the hash.
func TestBidHistoryProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 30).Draw(t, "n")
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		bids := make([]HistoryBid, n)
		at := t0
		for i := range bids {
			at = at.Add(time.Duration(rapid.Int64Range(1, 1e9).Draw(t, "gap")) * time.Microsecond)
			bids[i] = HistoryBid{At: at, Bidder: fmt.Sprintf("B%03d", rapid.IntRange(1, 999).Draw(t, "code")),
				Amount: Amount(rapid.Int64Range(0, 1e15).Draw(t, "amount"))}
		}
		h, err := BidHistoryHash(bids)
		if err != nil {
			t.Fatal(err)
		}
		e := AuctionResult{Header: Header{EventID: "e"}, Bids: int64(n), BidHistory: h}
		if err := CheckBidHistory(e, bids); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		i := rapid.IntRange(0, n-1).Draw(t, "i")
		changed := append([]HistoryBid(nil), bids...)
		switch rapid.IntRange(0, 3).Draw(t, "change") {
		case 0:
			changed[i].At = changed[i].At.Add(time.Microsecond)
		case 1:
			changed[i].Bidder += "X"
		case 2:
			changed[i].Amount++
		case 3:
			changed = append(changed[:i], changed[i+1:]...)
			e.Bids-- // the count alone would not give it away
		}
		if CheckBidHistory(e, changed) == nil {
			t.Fatalf("changed history %v still matches", changed)
		}
	})
}
