package ledger_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"reclaim/date"
	"reclaim/ingest"
	"reclaim/ledger"
	"reclaim/pii"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/synth"
	"reclaim/tlog/verify"
	"reclaim/tlog/witness"
)

// Three witnesses run as C2SP tlog-witness servers on 127.0.0.1; the publisher needs two. With
// one down the checkpoint is published with two cosignatures, which an investor's 2-of-3 policy
// accepts and a 3-of-3 policy refuses; with two down nothing is published.
func TestWitnessQuorum(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		keyFile := filepath.Join(dir, "ledger.key")
		// The log key first: witnesses must know it.
		boot, err := ledger.New(db, nil, nil, ledger.Config{KeyFile: keyFile, CreateKey: true, Origin: "test.example/ledger"})
		if err != nil {
			t.Fatal(err)
		}
		logVKey := boot.VerifierKey()
		var list strings.Builder
		var servers []*httptest.Server
		var vkeys []string
		for _, name := range []string{"trustee", "rating", "investors"} {
			skey, vkey, err := verify.GenerateCosignatureKey(name + ".example/witness")
			if err != nil {
				t.Fatal(err)
			}
			signer, err := verify.NewCosignatureSignerFromKey(skey, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			logs, err := witness.ParseLogs([]byte("log " + logVKey + " test.example/ledger/W1\n"))
			if err != nil {
				t.Fatal(err)
			}
			w, err := witness.New(signer, logs, filepath.Join(dir, name+".state.json"), nil)
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(w)
			t.Cleanup(ts.Close)
			servers = append(servers, ts)
			vkeys = append(vkeys, vkey)
			list.WriteString(name + " " + ts.URL + " " + vkey + "\n")
		}
		wfile := filepath.Join(dir, "witnesses.txt")
		if err := os.WriteFile(wfile, []byte(list.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		svc, err := ledger.New(db, nil, slog.New(slog.DiscardHandler), ledger.Config{KeyFile: keyFile, Origin: "test.example/ledger",
			WitnessFile: wfile, Quorum: 2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.New(db, nil, nil, ledger.Config{KeyFile: keyFile, Origin: "x", WitnessFile: wfile, Quorum: 4}); err == nil {
			t.Fatal("a quorum above the witness count was accepted")
		}
		keys, err := pii.LoadKey(pii.KeyOptions{DevDir: dir, AllowDev: true})
		if err != nil {
			t.Fatal(err)
		}
		tape := filepath.Join(dir, "t.csv")
		f, err := os.Create(tape)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := synth.WriteTape(ctx, synth.Config{Seed: 3, Loans: 50, PortfolioRef: "W", CutOff: date.Of(2025, 6, 30), Profile: synth.BankMixed},
			f, nil, synth.TapeOptions{}, nil); err != nil {
			t.Fatal(err)
		}
		f.Close()
		rep, err := ingest.Run(ctx, db.IngestStore(), keys, tape, ingest.Options{SellerName: "W"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.OpenPool(ctx, sqldb.PoolSpec{Pool: "W1", Origin: "test.example/ledger/W1", PortfolioID: rep.PortfolioID, Effective: date.Of(2025, 7, 1)}); err != nil {
			t.Fatal(err)
		}
		servers[2].Close() // the investors' witness is down
		svc.SequenceAll(ctx)
		pub, err := svc.Publish(ctx, "W1")
		if err != nil {
			t.Fatalf("publish with 2 of 3 witnesses: %v", err)
		}
		if pub.Cosigners != 2 {
			t.Fatalf("%d cosigners", pub.Cosigners)
		}
		c, err := db.LatestCheckpoint(ctx, "W1")
		if err != nil || c.Cosigners != 2 {
			t.Fatalf("stored checkpoint %+v %v", c, err)
		}
		policy := func(q int) *verify.Policy {
			text := "log " + logVKey + "\norigin test.example/ledger/W1\n"
			for _, v := range vkeys {
				text += "witness " + v + "\n"
			}
			text += "quorum " + string(rune('0'+q)) + "\n"
			p, err := verify.ParsePolicy([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		if _, err := verify.VerifyCheckpoint(policy(2), []byte(c.Note)); err != nil {
			t.Fatalf("2-of-3 policy: %v", err)
		}
		if _, err := verify.VerifyCheckpoint(policy(3), []byte(c.Note)); err == nil {
			t.Fatal("a 3-of-3 policy accepted two cosignatures")
		}
		// Two witnesses down: the grown log is signed but not published.
		servers[1].Close()
		if _, err := db.PostCollection(ctx, collection("W1", firstLoan(t, db, "W1"))); err != nil {
			t.Fatal(err)
		}
		svc.SequenceAll(ctx)
		if _, err := svc.Publish(ctx, "W1"); err == nil {
			t.Fatal("published below quorum")
		}
		if c2, _ := db.LatestCheckpoint(ctx, "W1"); c2.Size != c.Size {
			t.Fatalf("a checkpoint below quorum was stored: %d", c2.Size)
		}
	})
}
