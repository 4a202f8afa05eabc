"""WAL frames written per bid-batch transaction into market_events, for three layouts.

docs/benchmarks.md, "The bid batcher's SQLite cost": the layout of main before migration 00038
(rowid table, primary key (auction_id, seq), unique index (auction_id, idem_key)), a WITHOUT ROWID
table clustered by (auction_id, seq) with no key index (tried, not kept), and 00038's (the rowid
table and its primary key, no key index). 20 auctions, 500 bidders with keys b<bidder>-<n> (the
load generator's), rows shaped like a refused bid; the WAL's growth per transaction of 68 records
(8 KiB pages, no automatic checkpoint), after 100,000 and 300,000 records. Uses the system SQLite
through Python's sqlite3 (the page layout is SQLite's, whichever build):

    python3 bench/auction/walframes.py
"""
import os, random, sqlite3, tempfile, time
COLS = """auction_id INTEGER NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, type TEXT NOT NULL,
 bidder TEXT NOT NULL, amount_minor INTEGER, idem_key TEXT, accepted INTEGER NOT NULL, rule TEXT NOT NULL,
 reason TEXT NOT NULL, actor TEXT NOT NULL, PRIMARY KEY (auction_id, seq)"""
def run(layout, preload=5000, batches=200, per=68, auctions=20, bidders=500):
    path = os.path.join(DIR, f"{layout}.db")
    for f in (path, path + "-wal", path + "-shm"):
        if os.path.exists(f): os.remove(f)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA page_size=8192"); db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA wal_autocheckpoint=0")
    if layout == "main":
        db.execute(f"CREATE TABLE market_events ({COLS})")
        db.execute("CREATE UNIQUE INDEX market_events_key ON market_events (auction_id, idem_key)")
    elif layout == "00038":
        db.execute(f"CREATE TABLE market_events ({COLS})")
    else:
        db.execute(f"CREATE TABLE market_events ({COLS}) WITHOUT ROWID")
    rnd = random.Random(1)
    seq = [0] * auctions; n = [0] * bidders
    def rec():
        b = rnd.randrange(bidders); a = b % auctions
        seq[a] += 1; n[b] += 1
        return (a + 1, seq[a], "2026-12-07T04:00:00.123456Z", "bid", "O%d" % (b + 1), 70000000 + seq[a], "b%d-%d" % (b, n[b]),
                0, "MP-6", "bid 700000.00 is below the current price 710000.00 plus one increment", "bench-bidder-%d" % b)
    db.execute("BEGIN")
    for _ in range(preload * auctions):
        db.execute("INSERT INTO market_events VALUES (?,?,?,?,?,?,?,?,?,?,?)", rec())
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    t0 = time.process_time()
    frames = 0
    for _ in range(batches):
        before = os.path.getsize(path + "-wal")
        db.execute("BEGIN IMMEDIATE")
        for _ in range(per):
            db.execute("INSERT INTO market_events VALUES (?,?,?,?,?,?,?,?,?,?,?)", rec())
        db.execute("COMMIT")
        after = os.path.getsize(path + "-wal")
        frames += (after - before - (32 if before == 0 else 0)) / (8192 + 24)
    cpu = time.process_time() - t0
    print(f"{layout}: {frames / batches:.1f} WAL frames per transaction of {per} records ({frames / batches / per:.2f} per record), {preload*auctions:,} records stored before; CPU {cpu/batches*1000:.2f} ms per transaction (SQLite {sqlite3.sqlite_version})")
DIR = tempfile.mkdtemp(prefix="walframes-")
for pre in (5000, 15000):
    for l in ("main", "without-rowid", "00038"):
        run(l, preload=pre)
for f in os.listdir(DIR):
    os.remove(os.path.join(DIR, f))
os.rmdir(DIR)
