package sqldb_test

import (
	"context"
	"reflect"
	"testing"

	"reclaim/market"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
)

// TestMarketEventsRawMatchesDriver: on SQLite the batcher's INSERT below database/sql stores
// what the INSERT through the driver stores, values and SQLite types, for the same events on two
// fresh stores: deposits (no amount, no key), accepted and refused bids, a bid without a key, a
// repeated key.
func TestMarketEventsRawMatchesDriver(t *testing.T) {
	run := func(driver bool) [][]string {
		restore := sqldb.SetMarketDriverInsertForTest(driver)
		defer restore()
		db := sqldbtest.OpenSQLite(t)
		f := newMarketFixture(t, db, 2, englishSpec())
		id := f.auction.ID
		for i, req := range []market.BidRequest{
			{Amount: yuan(700_000), Key: "a-1"},
			{Amount: yuan(705_000), Key: "a-2"}, // off the increment: refused
			{Amount: yuan(690_000)},             // below the price: refused, no key
			{Amount: yuan(720_000)},
			{Amount: yuan(730_000), Key: "a-3"},
			{Amount: yuan(730_000), Key: "a-3"}, // repeat: not stored again
		} {
			if _, err := f.m.PlaceBid(f.bidders[[]int{0, 1, 0, 1, 0, 0}[i]], id, req); err != nil {
				t.Fatalf("bid %d: %v", i, err)
			}
		}
		f.m.Close()
		rows := storedEventRows(t, db, id)
		var adv string // what the batch's advance stored (last_seq and end_at, with their types)
		if err := db.ReadTx(context.Background(), func(tx *sqldb.Tx) error {
			return tx.QueryRow(context.Background(), `SELECT last_seq || ' ' || typeof(last_seq) || ' ' || end_at || ' ' || typeof(end_at) FROM market_auctions WHERE id = ?`, id).Scan(&adv)
		}); err != nil {
			t.Fatal(err)
		}
		return append(rows, []string{adv})
	}
	raw, drv := run(false), run(true)
	if len(raw) != 2+5+1 {
		t.Fatalf("the raw path stored %d records, want 7: %q", len(raw), raw)
	}
	if !reflect.DeepEqual(raw, drv) {
		t.Fatalf("stored records differ:\nraw    %q\ndriver %q", raw, drv)
	}
}
