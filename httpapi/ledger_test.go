package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"

	"reclaim"
	"reclaim/auth"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tlog/verify"
)

// tokenFor creates an API token for the fixture's user of role r.
func (f *fixture) tokenFor(r reclaim.Role) string {
	f.t.Helper()
	tok, hash, err := auth.NewToken()
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.db.CreateToken(context.Background(), f.users[r].ID, "test", hash); err != nil {
		f.t.Fatal(err)
	}
	return tok
}

func (f *fixture) get(path, token string) (int, []byte) {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.ts.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// A tlog-tiles client nobody here wrote (sumdb's TileHashReader) reads the served tiles and
// proves records against the published checkpoint; entry bundles hold the stored entries.
func TestLedgerTiles(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		inv := f.tokenFor(reclaim.RoleInvestor)
		code, vkey := f.get("/ledger/P1/vkey", "")
		if code != 200 {
			t.Fatalf("vkey %d", code)
		}
		code, signed := f.get("/ledger/P1/checkpoint", "")
		if code != 200 {
			t.Fatalf("checkpoint %d %s", code, signed)
		}
		v, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open(signed, note.VerifierList(v))
		if err != nil {
			t.Fatalf("checkpoint signature: %v", err)
		}
		cp, err := verify.ParseCheckpoint([]byte(n.Text))
		if err != nil {
			t.Fatal(err)
		}
		if cp.Origin != "test.example/ledger/P1" || cp.Size != 301 {
			t.Fatalf("checkpoint %+v", cp)
		}
		tree := sumtlog.Tree{N: cp.Size, Hash: cp.Hash}
		fetched := 0
		tr := tileReader{height: 8, read: func(tile sumtlog.Tile) ([]byte, error) {
			fetched++
			code, b := f.get("/ledger/P1/"+verify.TilePath(tile), inv)
			if code != 200 {
				return nil, fmt.Errorf("tile %s: %d %s", verify.TilePath(tile), code, b)
			}
			return b, nil
		}}
		r := sumtlog.TileHashReader(tree, tr)
		entries, err := f.db.LedgerEntries(ctx, "P1", 0, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int64{0, 1, 255, 256, 300} {
			p, err := sumtlog.ProveRecord(cp.Size, i, r)
			if err != nil {
				t.Fatalf("prove %d from served tiles: %v", i, err)
			}
			if err := sumtlog.CheckRecord(p, cp.Size, cp.Hash, i, sumtlog.RecordHash(entries[i])); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		}
		if fetched == 0 {
			t.Fatal("no tile fetched")
		}
		// Entry bundles: the full first bundle and the partial second one.
		for _, c := range []struct {
			path  string
			from  int
			width int
		}{{"tile/entries/000", 0, 256}, {"tile/entries/001.p/45", 256, 45}} {
			code, b := f.get("/ledger/P1/"+c.path, inv)
			if code != 200 {
				t.Fatalf("%s: %d", c.path, code)
			}
			got, err := verify.ParseEntryBundle(b, c.width)
			if err != nil {
				t.Fatalf("%s: %v", c.path, err)
			}
			for i, e := range got {
				if string(e) != string(entries[c.from+i]) {
					t.Fatalf("%s entry %d differs", c.path, i)
				}
			}
		}
		// Access and bad paths.
		for _, c := range []struct {
			path, token string
			want        int
		}{
			{"/ledger/P1/tile/0/000", "", 401},
			{"/ledger/P1/tile/0/000", f.tokenFor(reclaim.RoleBidder), 403},
			{"/ledger/P1/tile/0/000", f.tokenFor(reclaim.RoleCollector), 403},
			{"/ledger/P1/tile/0/001", inv, 404},           // beyond the tree: 301 leaves, tile 1 is partial
			{"/ledger/P1/tile/0/001.p/46", inv, 404},      // wider than the tree
			{"/ledger/P1/tile/0/001.p/0", inv, 404},       // malformed width
			{"/ledger/P1/tile/0/x001", inv, 404},          // malformed index
			{"/ledger/P1/tile/entries/002.p/1", inv, 404}, // beyond
			{"/ledger/P1/tile/9/000", inv, 404},
			{"/ledger/NOPE/checkpoint", "", 404},
			{"/ledger/bad%20pool/checkpoint", "", 404},
			{"/ledger/P1/proof/inclusion?index=301&size=301", inv, 400},
			{"/ledger/P1/proof/inclusion?index=-1", inv, 400},
			{"/ledger/P1/proof/inclusion?index=abc", inv, 400},
			{"/ledger/P1/proof/consistency?old=302&size=301", inv, 400},
			{"/ledger/P1/proof/consistency?old=1&size=999", inv, 400},
			{"/ledger/P1/receipt/301", inv, 404},
			{"/ledger/P1/receipt/x", inv, 400},
		} {
			if code, b := f.get(c.path, c.token); code != c.want {
				t.Errorf("GET %s: %d %s, want %d", c.path, code, b, c.want)
			}
		}
		// Proofs as served check against the checkpoint.
		code, b := f.get("/ledger/P1/proof/inclusion?index=17", inv)
		if code != 200 {
			t.Fatalf("inclusion proof %d %s", code, b)
		}
		ip, err := verify.ParseInclusionProof(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := sumtlog.CheckRecord(ip.Proof, ip.Size, cp.Hash, 17, sumtlog.RecordHash(entries[17])); err != nil {
			t.Fatal(err)
		}
		code, b = f.get("/ledger/P1/proof/consistency?old=10", inv)
		if code != 200 {
			t.Fatalf("consistency proof %d %s", code, b)
		}
		cpf, err := verify.ParseConsistencyProof(b)
		if err != nil {
			t.Fatal(err)
		}
		old, err := sumtlog.TreeHash(10, f.db.LedgerHashes(ctx, "P1"))
		if err != nil {
			t.Fatal(err)
		}
		if err := sumtlog.CheckTree(cpf.Proof, cp.Size, cp.Hash, 10, old); err != nil {
			t.Fatal(err)
		}
	})
}

// tileReader fetches tiles for sumdb's TileHashReader; it keeps no cache.
type tileReader struct {
	height int
	read   func(sumtlog.Tile) ([]byte, error)
}

func (r tileReader) Height() int { return r.height }
func (r tileReader) ReadTiles(tiles []sumtlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := r.read(t)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
func (r tileReader) SaveTiles([]sumtlog.Tile, [][]byte) {}

// Receipts served by the API check offline against the investors' policy; collections posted
// through the API land on the log; the live topic is the ledger readers'.
func TestLedgerAPI(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		p, err := f.db.LedgerPool(ctx, "P1")
		if err != nil {
			t.Fatal(err)
		}
		pol, err := verify.ParsePolicy([]byte(f.ledger.PolicyFile(p, f.ts.URL)))
		if err != nil {
			t.Fatal(err)
		}
		inv := f.as(reclaim.RoleInvestor)
		res, b := inv.do("GET", "/api/v1/pools/P1/entries/open", "")
		if res.StatusCode != 200 {
			t.Fatalf("receipt %d %s", res.StatusCode, b)
		}
		rc, err := verify.ParseReceipt(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := verify.CheckReceipt(pol, rc); err != nil {
			t.Fatalf("receipt does not check: %v", err)
		}
		rc.Entry = []byte(strings.Replace(string(rc.Entry), "P1", "P2", 1))
		if _, err := verify.CheckReceipt(pol, rc); err == nil {
			t.Fatal("a tampered receipt checked")
		}
		res, b = inv.do("GET", "/api/v1/pools/P1", "")
		var pv struct {
			Size       int64  `json:"size"`
			VKey       string `json:"vkey"`
			Checkpoint struct {
				Size int64 `json:"size"`
			} `json:"checkpoint"`
		}
		if res.StatusCode != 200 || json.Unmarshal(b, &pv) != nil || pv.Size != 301 || pv.Checkpoint.Size != 301 || pv.VKey == "" {
			t.Fatalf("pool %d %s", res.StatusCode, b)
		}
		// A collector posts a collection; bad input is refused with the field named.
		loans, _, err := f.db.PoolLoans(ctx, "P1", 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		col := f.as(reclaim.RoleCollector)
		res, b = col.do("POST", "/api/v1/pools/P1/collections",
			`{"loan":"`+loans[0].Ref+`","amount":"12.34","channel":"bank_transfer","txn_id":"T-1","effective":"2025-07-15"}`)
		if res.StatusCode != 201 {
			t.Fatalf("post collection %d %s", res.StatusCode, b)
		}
		for _, bad := range []string{
			`{"loan":"` + loans[0].Ref + `","amount":"-1","channel":"bank_transfer","txn_id":"T-2","effective":"2025-07-15"}`,
			`{"loan":"` + loans[0].Ref + `","amount":"1e99","channel":"bank_transfer","txn_id":"T-3","effective":"2025-07-15"}`,
			`{"loan":"` + loans[0].Ref + `","amount":"1.00","channel":"bank_transfer","txn_id":"T-4","effective":"2025-02-30"}`,
			`{"loan":"` + loans[0].Ref + `","amount":"1.00","channel":"pigeon","txn_id":"T-5","effective":"2025-07-15"}`,
			`{"loan":"` + loans[0].Ref + `","amount":"1.00","channel":"bank_transfer","txn_id":"T-1","effective":"2025-07-15"}`,
			`{"loan":"nope","amount":"1.00","channel":"bank_transfer","txn_id":"T-6","effective":"2025-07-15"}`,
		} {
			res, b := col.do("POST", "/api/v1/pools/P1/collections", bad)
			if res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Errorf("accepted or crashed on %s: %d %s", bad, res.StatusCode, b)
			}
		}
		if err := f.ledger.SequenceAndPublish(ctx); err != nil {
			t.Fatal(err)
		}
		res, b = inv.do("GET", "/api/v1/pools/P1/entries?limit=2", "")
		var page struct {
			Items []struct {
				Index int64  `json:"index"`
				Type  string `json:"type"`
				Entry string `json:"entry"`
			} `json:"items"`
			Size int64 `json:"size"`
		}
		if res.StatusCode != 200 || json.Unmarshal(b, &page) != nil || page.Size != 302 || len(page.Items) != 2 ||
			page.Items[0].Type != "loan.collection" || !strings.Contains(page.Items[0].Entry, `"amount":"1234"`) {
			t.Fatalf("entries %d %s", res.StatusCode, b)
		}
		if strings.Contains(string(b), "T-1") {
			t.Fatal("the bank transaction id reached the ledger")
		}
		// A trustee closes a period; the report is on the log.
		res, b = f.as(reclaim.RoleTrustee).do("POST", "/api/v1/pools/P1/reports", `{"period_start":"2025-07-01","period_end":"2025-07-31"}`)
		if res.StatusCode != 201 || !strings.Contains(string(b), `"collections":"1234"`) {
			t.Fatalf("close period %d %s", res.StatusCode, b)
		}
		// July is closed: a collection dated in it is refused, naming the first open day.
		res, b = col.do("POST", "/api/v1/pools/P1/collections",
			`{"loan":"`+loans[0].Ref+`","amount":"1.00","channel":"bank_transfer","txn_id":"T-LATE","effective":"2025-07-31"}`)
		if res.StatusCode != 400 || !strings.Contains(string(b), "period_closed") || !strings.Contains(string(b), "2025-08-01") {
			t.Fatalf("collection dated in a closed period: %d %s", res.StatusCode, b)
		}
		// Live topics: ledger readers may subscribe, others do not see the topic.
		res, _ = f.as(reclaim.RoleBidder).do("GET", "/api/v1/stream?topic=ledger.P1", "")
		if res.StatusCode != 404 {
			t.Fatalf("bidder subscribed to the ledger: %d", res.StatusCode)
		}
	})
}
