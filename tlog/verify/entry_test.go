package verify

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func hx(c byte) string { return strings.Repeat(string([]byte{c}), 64) }

func testVKey(t testing.TB, name string, seed byte) string {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	vk, err := note.NewEd25519VerifierKey(name, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return vk
}

func hdr(id, eff string) Header {
	return Header{Pool: "RCL-ABS-2025-1", EventID: id, Effective: eff}
}

// exampleEntries is one canonical example per entry type, in a plausible log order.
func exampleEntries(t testing.TB) []Entry {
	return []Entry{
		PoolOpened{Header: hdr("pool-1", "2025-01-15"), Name: "瑞可 2025 年第一期不良资产支持证券", Cutoff: "2024-12-31", Currency: "CNY", WaterfallHash: hx('a')},
		LoanBoarded{Header: hdr("board-1", "2025-01-15"), Loan: "L7Q2xK9mZp", Claim: 1234567, Principal: 1000000, Interest: 200000, Fees: 34567, DPD: 412, Commitment: hx('b')},
		LoanCollection{Header: hdr("coll-1", "2025-02-03"), Loan: "L7Q2xK9mZp", Amount: 50000, Principal: 40000, Interest: 9000, Fees: 1000, Channel: ChannelBankTransfer, BankTxn: hx('c')},
		LoanStatus{Header: hdr("status-1", "2025-02-04"), Loan: "L7Q2xK9mZp", Status: StatusPlan, Reason: "12-month plan agreed \"in writing\""},
		LoanRemoved{Header: hdr("remove-1", "2025-03-01"), Loan: "L7Q2xK9mZp", Reason: RemovalRepurchased, Balance: 1184567, Price: 1184567},
		LoanRecordUpdated{Header: hdr("record-1", "2025-02-10"), Loan: "L7Q2xK9mZp", Commitment: hx('d'), Fields: []string{"address", "phone"}},
		CashStatement{Header: hdr("stmt-2025-02", "2025-02-28"), Account: hx('e'), PeriodStart: "2025-02-01", PeriodEnd: "2025-02-28", Opening: 0, Credits: 50000, Debits: 1000, Closing: 49000, StatementHash: hx('f')},
		PeriodReport{Header: hdr("report-2025-02", "2025-02-28"), PeriodStart: "2025-01-15", PeriodEnd: "2025-02-28", FromIndex: 0, ToIndex: 7,
			LoansBoarded: 1, LoansRemoved: 0, CollectionsCount: 1, Collections: 50000, PrincipalCollected: 40000,
			OpeningBalance: 0, BoardedBalance: 1234567, RemovedBalance: 0, ClosingBalance: 1184567, ReportHash: hx('1')},
		AuctionResult{Header: hdr("auction-1", "2025-03-01"), Auction: "AUC-2025-007", Lot: "Lot 3", Loans: 120, Price: 98765432, Winner: hx('2'), Bids: 37, BidHistory: hx('3')},
		KeyRotation{Header: hdr("rotate-1", "2025-06-30"), OldKey: testVKey(t, "reclaim.example/pools/RCL-ABS-2025-1", 1), NewKey: testVKey(t, "reclaim.example/pools/RCL-ABS-2025-1", 2)},
		LoanCollectionReversal{Header: hdr("colrev-1", "2025-02-05"), Loan: "L7Q2xK9mZp", Amount: 50000, Principal: 40000, Interest: 9000, Fees: 1000, Reverses: "coll-1", Reason: "bounced: 账户余额不足"},
		LoanWaiver{Header: hdr("waiver-1", "2025-02-20"), Loan: "L7Q2xK9mZp", Amount: 600000, Principal: 500000, Interest: 90000, Fees: 10000, Settlement: "offer-12", Reason: "settlement paid in full"},
	}
}

func TestGoldenEntries(t *testing.T) {
	dir := filepath.Join("testdata", "entries")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range exampleEntries(t) {
		t.Run(e.Type(), func(t *testing.T) {
			b, err := e.Encode()
			if err != nil {
				t.Fatal(err)
			}
			h := tlog.RecordHash(b)
			jf := filepath.Join(dir, e.Type()+".json")
			hf := filepath.Join(dir, e.Type()+".hash")
			if *update {
				if err := os.WriteFile(jf, b, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(hf, []byte(h.String()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(jf)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("encoding changed:\n got %s\nwant %s", b, want)
			}
			wantHash, err := os.ReadFile(hf)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.String() + "\n"; got != string(wantHash) {
				t.Fatalf("leaf hash %s, golden %s", got, wantHash)
			}
			back, err := ParseEntry(want)
			if err != nil {
				t.Fatal(err)
			}
			again, err := back.Encode()
			if err != nil || !bytes.Equal(again, want) {
				t.Fatalf("round trip: %v\n%s", err, again)
			}
			if back.Type() != e.Type() || back.EntryHeader() != e.EntryHeader() {
				t.Fatalf("decoded %#v", back)
			}
		})
	}
}

// TestEncodingMatchesEncodingJSON checks the claim that entries are what encoding/json with
// SetEscapeHTML(false) writes for an ordered object.
func TestEncodingMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "<&>", "tab\tnl\ncr\rbs\bff\f", "\x00\x01\x1f\x7f",
		"\u2028\u2029", "中文 ✓ 😀", "\ufffd"} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, encoding/json %s", s, got, want)
		}
	}
}

func TestParseEntryRejects(t *testing.T) {
	good, err := exampleEntries(t)[2].Encode() // loan.collection
	if err != nil {
		t.Fatal(err)
	}
	g := string(good)
	rep := func(old, new string) string {
		if !strings.Contains(g, old) {
			t.Fatalf("example lacks %q", old)
		}
		return strings.Replace(g, old, new, 1)
	}
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "unexpected end"},
		{"not object", "[]", "unexpected"},
		{"trailing newline", g + "\n", "whitespace"},
		{"space after colon", rep(`"v":1`, `"v": 1`), "whitespace"},
		{"space after comma", rep(`,"pool"`, `, "pool"`), "whitespace"},
		{"float amount as number", rep(`"amount":"50000"`, `"amount":500.00`), "floats"},
		{"float int", rep(`"v":1`, `"v":1.0`), "floats"},
		{"exponent", rep(`"v":1`, `"v":1e0`), "floats"},
		{"negative", rep(`"v":1`, `"v":-1`), "signed"},
		{"leading zero int", rep(`"v":1`, `"v":01`), "leading zeros"},
		{"version 3", rep(`"v":1`, `"v":3`), "unsupported version"},
		{"version string", rep(`"v":1`, `"v":"1"`), "want the integer"},
		{"unknown type", rep(`"loan.collection"`, `"loan.teleported"`), "unknown entry type"},
		{"unknown key", rep(`,"channel"`, `,"colour":"red","channel"`), "unknown key"},
		{"missing key", rep(`,"fees":"1000"`, ``), `fees: missing`},
		{"missing header key", rep(`"event_id":"coll-1",`, ``), `event_id: missing`},
		{"missing last key", strings.Replace(g, `,"bank_txn":"`+hx('c')+`"`, "", 1), "bank_txn: missing"},
		{"reordered", rep(`"interest":"9000","fees":"1000"`, `"fees":"1000","interest":"9000"`), "out of order"},
		{"reordered header", rep(`"pool":"RCL-ABS-2025-1","event_id":"coll-1"`, `"event_id":"coll-1","pool":"RCL-ABS-2025-1"`), "out of order"},
		{"duplicate", rep(`,"fees":"1000"`, `,"fees":"1000","fees":"1000"`), "duplicate key"},
		{"amount one decimal", rep(`"amount":"50000"`, `"amount":"500.00"`), "canonical amount"},
		{"amount leading zero", rep(`"amount":"50000"`, `"amount":"050000"`), "canonical amount"},
		{"amount plus", rep(`"amount":"50000"`, `"amount":"+50000"`), "canonical amount"},
		{"amount minus", rep(`"amount":"50000"`, `"amount":"-50000"`), "canonical amount"},
		{"amount exponent", rep(`"amount":"50000"`, `"amount":"5e4"`), "canonical amount"},
		{"amount too big", rep(`"amount":"50000"`, `"amount":"999999999999999999999"`), "amount"},
		{"split mismatch", rep(`"amount":"50000"`, `"amount":"50001"`), "not the sum"},
		{"zero collection", strings.NewReplacer(`"amount":"50000","principal":"40000","interest":"9000","fees":"1000"`,
			`"amount":"0","principal":"0","interest":"0","fees":"0"`).Replace(g), "more than 0.00"},
		{"bad date", rep(`"2025-02-03"`, `"2025-02-30"`), "not a date"},
		{"date format", rep(`"2025-02-03"`, `"2025-2-3"`), "not a date"},
		{"bad channel", rep(`"bank_transfer"`, `"pigeon"`), "not one of"},
		{"upper hex", rep(hx('c'), strings.ToUpper(hx('c'))), "lower-case hex"},
		{"short hex", rep(hx('c'), hx('c')[:63]), "lower-case hex"},
		{"bad loan ref", rep(`"loan":"L7Q2xK9mZp"`, `"loan":"L7Q2 xK9"`), "outside"},
		{"bad event id", rep(`"coll-1"`, `"coll/1"`), "outside"},
		{"escaped slash", rep(`"coll-1"`, `"coll\/1"`), "outside"},
		{"needless escape", rep(`"loan":"L7Q2xK9mZp"`, `"loan":"L7Q2xK9m\u005ap"`), "canonical form"},
		{"wrong kind", rep(`"amount":"50000"`, `"amount":["500.00"]`), "want an amount"},
		{"null", rep(`"amount":"50000"`, `"amount":null`), "null"},
		{"nested", rep(`"amount":"50000"`, `"amount":{}`), "nested"},
		{"trailing data", g + "{}", "data after"},
		{"bad utf8", rep("L7Q2xK9mZp", "L7Q2\xffK9mZp"), "UTF-8"},
		{"oversize", g[:len(g)-1] + strings.Repeat(" ", MaxEntrySize) + "}", "more than the 8192"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := ParseEntry([]byte(c.in))
			if err == nil {
				t.Fatalf("accepted %s as %#v", c.in, e)
			}
			var ee *EntryError
			if !errors.As(err, &ee) {
				t.Fatalf("error %T %v is not an *EntryError", err, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestEncodeValidates(t *testing.T) {
	ex := exampleEntries(t)
	bad := []Entry{
		LoanBoarded{Header: hdr("b", "2025-01-01"), Loan: "x", Claim: 3, Principal: 1, Interest: 1, Fees: 0, Commitment: hx('a')},
		LoanBoarded{Header: hdr("b", "2025-01-01"), Loan: "x", Claim: 1, Principal: 1, DPD: -1, Commitment: hx('a')},
		LoanBoarded{Header: hdr("b", "2025-01-01"), Loan: "x", Claim: -1, Principal: -1, Commitment: hx('a')},
		LoanStatus{Header: hdr("s", "2025-01-01"), Loan: "x", Status: "happy"},
		LoanStatus{Header: hdr("s", "2025-01-01"), Loan: "x", Status: StatusOpen, Reason: strings.Repeat("字", 201)},
		LoanRemoved{Header: hdr("r", "2025-01-01"), Loan: "x", Reason: "lost"},
		LoanRecordUpdated{Header: hdr("u", "2025-01-01"), Loan: "x", Commitment: hx('a'), Fields: []string{"b", "a"}},
		LoanRecordUpdated{Header: hdr("u", "2025-01-01"), Loan: "x", Commitment: hx('a'), Fields: []string{"a", "a"}},
		LoanRecordUpdated{Header: hdr("u", "2025-01-01"), Loan: "x", Commitment: hx('a')},
		CashStatement{Header: hdr("c", "2025-01-01"), Account: hx('a'), PeriodStart: "2025-01-01", PeriodEnd: "2025-01-31", Opening: 1, Credits: 1, Debits: 1, Closing: 2, StatementHash: hx('b')},
		CashStatement{Header: hdr("c", "2025-01-01"), Account: hx('a'), PeriodStart: "2025-02-01", PeriodEnd: "2025-01-31", StatementHash: hx('b')},
		PeriodReport{Header: hdr("p", "2025-01-01"), PeriodStart: "2025-01-01", PeriodEnd: "2025-01-31", ToIndex: 3, BoardedBalance: 10, ClosingBalance: 9, ReportHash: hx('a')},
		PeriodReport{Header: hdr("p", "2025-01-01"), PeriodStart: "2025-01-01", PeriodEnd: "2025-01-31", FromIndex: 4, ToIndex: 3, ReportHash: hx('a')},
		PoolOpened{Header: hdr("o", "2025-01-01"), Name: "n", Cutoff: "2025-01-01", Currency: "cny"},
		PoolOpened{Header: Header{Pool: "", EventID: "o", Effective: "2025-01-01"}, Name: "n", Cutoff: "2025-01-01", Currency: "CNY"},
		KeyRotation{Header: hdr("k", "2025-01-01"), OldKey: ex[9].(KeyRotation).OldKey, NewKey: ex[9].(KeyRotation).OldKey},
		KeyRotation{Header: hdr("k", "2025-01-01"), OldKey: "nonsense", NewKey: ex[9].(KeyRotation).NewKey},
		AuctionResult{Header: hdr("a", "2025-01-01"), Auction: "", Lot: "l", Winner: hx('a'), BidHistory: hx('3')},
		LoanStatus{Header: hdr("s", "2025-01-01"), Loan: "x", Status: StatusOpen, Reason: "bad \xff"},
		LoanStatus{Header: hdr("s", "2025-01-01"), Loan: "x", Status: StatusOpen, Reason: strings.Repeat("x", 200)[:0] + strings.Repeat("长", 200)},
	}
	for i, e := range bad[:len(bad)-1] {
		if b, err := e.Encode(); err == nil {
			t.Errorf("%d: encoded invalid %#v as %s", i, e, b)
		}
	}
	// The last one is valid (200 characters, 600 bytes).
	if _, err := bad[len(bad)-1].Encode(); err != nil {
		t.Errorf("200-character reason: %v", err)
	}
	// Oversize: a valid entry whose encoding exceeds MaxEntrySize.
	big := LoanStatus{Header: hdr("s", "2025-01-01"), Loan: "x", Status: StatusOpen, Reason: strings.Repeat("\x01", 200)}
	if b, err := big.Encode(); err != nil || len(b) < 1200 {
		t.Fatalf("escaped reason: %v %d", err, len(b))
	}
}

func TestAmount(t *testing.T) {
	for _, c := range []struct {
		s string
		a Amount
	}{{"0", 0}, {"5", 5}, {"1230", 1230}, {"123456789", 123456789}, {"99999999999999999", MaxAmount}} {
		a, err := ParseAmount(c.s)
		if err != nil || a != c.a {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", c.s, a, err, c.a)
		}
		if a.String() != c.s {
			t.Errorf("%d.String() = %q, want %q", c.a, a.String(), c.s)
		}
	}
	for _, s := range []string{"", "0.00", "12.30", "00", "0100", "1,000", "-100", "+100", " 100", "100 ",
		"1e2", "0x10", "100000000000000000", "１00"} {
		if a, err := ParseAmount(s); err == nil {
			t.Errorf("ParseAmount(%q) accepted as %d", s, a)
		}
	}
	if Amount(-5).String() != "-5" || Amount(-1<<63).String() != "-9223372036854775808" || Amount(1230).Major() != "12.30" || Amount(-5).Major() != "-0.05" {
		t.Errorf("negative formatting: %s %s", Amount(-5), Amount(-1<<63))
	}
	if _, ok := Amount(1 << 62).Add(1 << 62); ok {
		t.Error("overflow not detected")
	}
}

func TestCommit(t *testing.T) {
	salt := bytes.Repeat([]byte{7}, 32)
	c := Commit(salt, TagBankTxn, BankTxnRecord("TXN-1"))
	if !isHex64(c) {
		t.Fatalf("commitment %q", c)
	}
	// Domain separation: the tag and the record cannot be shifted across the 0x00 separator.
	if Commit(salt, TagBankTxn+"T", []byte("XN-1")) == c || Commit(salt, TagBidder, []byte("TXN-1")) == c {
		t.Fatal("tags do not separate domains")
	}
	// Known answer, computed with Python's hmac module:
	// hmac.new(bytes([7])*32, b"reclaim/bank-txn/v1\x00TXN-1", hashlib.sha256).hexdigest()
	const want = "e4938394e68ef90cc7af72825ebed9f31ac82574a49470c10551165d8477f04f"
	if c != want {
		t.Fatalf("commitment %s, known answer %s", c, want)
	}
}

func FuzzParseEntry(f *testing.F) {
	for _, e := range exampleEntries(f) {
		b, err := e.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"pool":"p","event_id":"e","type":"loan.status","effective":"2025-01-01","loan":"x","status":"open","reason":"\u00e9\ud83d\ude00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEntry(b)
		if err != nil {
			return
		}
		again, err := e.Encode()
		if err != nil {
			t.Fatalf("parsed entry does not encode: %v\n%q", err, b)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted non-canonical input\n in %q\nout %q", b, again)
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("parsed entry does not validate: %v", err)
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
	})
}

// FuzzEntryRoundTrip encodes entries with arbitrary field values: whatever Encode accepts,
// ParseEntry must decode to the same value, and the bytes must be what encoding/json writes.
func FuzzEntryRoundTrip(f *testing.F) {
	f.Add("L1", "plan \"agreed\"\n\u2028", int64(12345), int64(100), "2025-01-31")
	f.Add("x", "", int64(0), int64(0), "0001-01-01")
	f.Fuzz(func(t *testing.T, loan, reason string, amount, principal int64, date string) {
		for _, e := range []Entry{
			LoanStatus{Header: Header{Pool: "P", EventID: "e", Effective: date}, Loan: loan, Status: StatusPlan, Reason: reason},
			LoanCollection{Header: hdr("c", "2025-01-01"), Loan: loan, Amount: Amount(amount), Principal: Amount(principal),
				Interest: Amount(amount - principal), Channel: ChannelCash, BankTxn: hx('a')},
			AuctionResult{Header: hdr("a", "2025-01-01"), Auction: reason, Lot: loan, Loans: amount, Price: Amount(principal), Winner: hx('b'), Bids: amount, BidHistory: hx('c')},
		} {
			b, err := e.Encode()
			if err != nil {
				continue
			}
			back, err := ParseEntry(b)
			if err != nil {
				t.Fatalf("Encode output %q does not parse: %v", b, err)
			}
			if !reflect.DeepEqual(back, e) {
				t.Fatalf("round trip changed %#v into %#v", e, back)
			}
			if !json.Valid(b) {
				t.Fatalf("invalid JSON %q", b)
			}
			if s, ok := e.(LoanStatus); ok {
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				enc.Encode(s.Reason)
				if !bytes.Contains(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))) {
					t.Fatalf("reason %q not encoded as encoding/json does: %s", s.Reason, b)
				}
			}
		}
	})
}

// benchCollection is a loan.collection entry like the ones bench/ledger appends (333 bytes).
func benchCollection(tb testing.TB) []byte {
	e := LoanCollection{Header: Header{Pool: "BENCH-1767000000000000000", EventID: "col-000000123456", Effective: "2026-11-28"},
		Loan: "L0000000077a7e3a2cf40", Amount: 123456, Principal: 100000, Interest: 20000, Fees: 3456,
		Channel: ChannelBankTransfer, BankTxn: Commit([]byte("benchmark-salt-benchmark-salt-32"), TagBankTxn, []byte("T123456"))}
	return mustEncode(tb, e)
}

func BenchmarkParseEntry(b *testing.B) {
	run := func(b *testing.B, in []byte) {
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseEntry(in); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("loan.collection-333B", func(b *testing.B) { run(b, benchCollection(b)) })
	for _, e := range exampleEntries(b) {
		in := mustEncode(b, e)
		b.Run(e.Type(), func(b *testing.B) { run(b, in) })
	}
}

// parseBothWays runs ParseEntry's canonical scanner and the general decoder on b and fails if
// the scanner accepts anything the decoder rejects, decodes it differently, or rejects a
// canonical entry.
func parseBothWays(t *testing.T, b []byte) {
	t.Helper()
	slow, slowErr := parseEntrySlow(b)
	var sc entryScan
	var fast Entry
	if scanEntry(b, &sc) {
		fast = sc.entry(b)
	}
	switch {
	case fast != nil && slowErr != nil:
		t.Fatalf("the scanner accepts %q, the decoder rejects it: %v", b, slowErr)
	case fast != nil && !reflect.DeepEqual(fast, slow):
		t.Fatalf("%q: the scanner decodes %#v, the decoder %#v", b, fast, slow)
	case fast == nil && slowErr == nil:
		t.Fatalf("the scanner rejects the canonical entry %q", b)
	}
	got, err := ParseEntry(b)
	if (err == nil) != (slowErr == nil) || err != nil && err.Error() != slowErr.Error() || !reflect.DeepEqual(got, slow) {
		t.Fatalf("ParseEntry(%q) = %#v, %v; the decoder gives %#v, %v", b, got, err, slow, slowErr)
	}
}

// oddStrings are string values that exercise every escape and character class.
var oddStrings = []string{"", "plain", "quote\" back\\slash /", "tab\tnl\ncr\rbs\bff\f", "\x00\x01\x07\x0b\x0e\x1f\x7f",
	"\u2028\u2029", "中文 ✓ 😀", "\ufffd", "<&>", strings.Repeat("长", 200), strings.Repeat("x", 201), strings.Repeat("\x01", 200)}

// mutations returns variants of b: every byte replaced by a few others, deleted and doubled.
func mutations(b []byte) [][]byte {
	var out [][]byte
	subst := []byte{' ', '"', '\\', ',', ':', '0', '1', '9', '.', '-', 'a', 'A', 'z', '}', ']', 0x01, 0xff, 0xe2}
	for i := range b {
		for _, c := range subst {
			if c != b[i] {
				m := bytes.Clone(b)
				m[i] = c
				out = append(out, m)
			}
		}
		out = append(out, append(bytes.Clone(b[:i]), b[i+1:]...))
		out = append(out, append(bytes.Clone(b[:i+1]), b[i:]...))
	}
	return out
}

func TestParseEntryFastPathAgrees(t *testing.T) {
	var inputs [][]byte
	ex := exampleEntries(t)
	for _, e := range ex {
		inputs = append(inputs, mustEncode(t, e))
	}
	inputs = append(inputs, benchCollection(t))
	rot := ex[9].(KeyRotation)
	for _, s := range oddStrings {
		for _, e := range []Entry{
			LoanStatus{Header: hdr("s-1", "2025-01-01"), Loan: "L1", Status: StatusOpen, Reason: s},
			PoolOpened{Header: hdr("p-1", "2025-01-01"), Name: s, Cutoff: "2024-12-31", Currency: "CNY"},
			AuctionResult{Header: hdr("a-1", "2025-01-01"), Auction: s, Lot: "lot " + s, Loans: 1, Price: 1, Winner: hx('2'), Bids: 1, BidHistory: hx('4')},
			KeyRotation{Header: hdr("k-1", "2025-01-01"), OldKey: rot.OldKey, NewKey: s},
			LoanRecordUpdated{Header: hdr("r-1", "2025-01-01"), Loan: "L1", Commitment: hx('d'), Fields: []string{"a", "b" + s}},
		} {
			if b, err := e.Encode(); err == nil {
				inputs = append(inputs, b)
			} else {
				// Not encodable: write the invalid value the way the encoder would anyway.
				b := []byte(strings.Replace(string(mustEncode(t, LoanStatus{Header: hdr("s-1", "2025-01-01"), Loan: "L1", Status: StatusOpen})),
					`"reason":""`, `"reason":`+string(appendJSONString(nil, s)), 1))
				inputs = append(inputs, b)
			}
		}
	}
	// Every \u00xx escape (upper- and lower-case hex), a few others, and every short escape.
	status := string(mustEncode(t, LoanStatus{Header: hdr("s-1", "2025-01-01"), Loan: "L1", Status: StatusOpen, Reason: "-"}))
	var escapes []string
	for c := 0; c < 0x100; c++ {
		escapes = append(escapes, fmt.Sprintf(`\u%04x`, c), fmt.Sprintf(`\u%04X`, c), `\`+string(rune(c)))
	}
	escapes = append(escapes, `\u2027`, `\u2028`, `\u2029`, `\u202A`, `\u202a`, `\ud83d\ude00`, `\ud83d`, `\u00`, `\`, "\u2028", "\u2029")
	for _, e := range escapes {
		inputs = append(inputs, []byte(strings.Replace(status, `"reason":"-"`, `"reason":"`+e+`"`, 1)))
	}
	// Field lists at the limits, and amounts and integers around theirs.
	many := make([]string, 1025)
	for i := range many {
		many[i] = fmt.Sprintf("f%04d", i)
	}
	for _, n := range []int{1, 1024, 1025} {
		b, _ := LoanRecordUpdated{Header: hdr("r-1", "2025-01-01"), Loan: "L1", Commitment: hx('d'), Fields: many[:n]}.Encode()
		if b == nil {
			b = []byte(`{"v":1,"pool":"P","event_id":"r","type":"loan.record_updated","effective":"2025-01-01","loan":"L1","commitment":"` +
				hx('d') + `","fields":["` + strings.Join(many[:n], `","`) + `"]}`)
		}
		inputs = append(inputs, b)
	}
	for _, a := range []string{"999999999999999.99", "1000000000000000.00", "9999999999999999.99", "0.01", "0.00", "00.01"} {
		inputs = append(inputs, []byte(strings.Replace(string(mustEncode(t, ex[4])), `"price":"11845.67"`, `"price":"`+a+`"`, 1)))
	}
	for _, n := range []string{"9007199254740991", "9007199254740992", "10000000000000000", "0", "00"} {
		inputs = append(inputs, []byte(strings.Replace(string(mustEncode(t, ex[1])), `"dpd":412`, `"dpd":`+n, 1)))
	}
	for i, in := range inputs {
		parseBothWays(t, in)
		if i <= len(ex) { // mutate the examples and the benchmark entry
			for _, m := range mutations(in) {
				parseBothWays(t, m)
			}
		}
	}
}

func TestValidDateBytes(t *testing.T) {
	for _, y := range []string{"0000", "0001", "0004", "0100", "0400", "1900", "2000", "2023", "2024", "9999", "+999", "-001", " 202"} {
		for m := -1; m <= 13; m++ {
			for d := -1; d <= 32; d++ {
				for _, s := range []string{fmt.Sprintf("%s-%02d-%02d", y, m, d), fmt.Sprintf("%s-%d-%02d", y, m, d), fmt.Sprintf("%s/%02d/%02d", y, m, d)} {
					if got, want := validDateBytes([]byte(s)), validDate(s); got != want {
						t.Errorf("%q: validDateBytes %v, validDate %v", s, got, want)
					}
				}
			}
		}
	}
}

// FuzzParseEntryFastPath checks that ParseEntry's canonical scanner and its general decoder
// accept the same entries and decode them alike.
func FuzzParseEntryFastPath(f *testing.F) {
	for _, e := range exampleEntries(f) {
		f.Add(mustEncode(f, e))
	}
	f.Add([]byte(`{"v":1,"pool":"p","event_id":"e","type":"loan.status","effective":"2025-01-01","loan":"x","status":"open","reason":"\u0001\n\"\\\u2028é"}`))
	f.Add([]byte(`{"v":1,"pool":"p","event_id":"e","type":"loan.record_updated","effective":"2025-01-01","loan":"x","commitment":"` + hx('a') + `","fields":["a","b.c","d_1"]}`))
	f.Fuzz(func(t *testing.T, b []byte) { parseBothWays(t, b) })
}
