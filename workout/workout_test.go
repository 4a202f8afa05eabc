package workout_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pgregory.net/rapid"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	. "reclaim/workout"
)

// update reports whether -update was given (registered here unless another test file of the
// package registered it first).
func woUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func woYuan(m int64) money.Amount { return money.New(m, money.CNY) }

func TestLimitationExpiry(t *testing.T) {
	d := date.Of
	tests := []struct {
		name    string
		ev      []LimitationEvent
		exp     date.Date
		basis   LimitationKind
		enforce date.Date
	}{
		{"none", nil, date.Date{}, "", date.Date{}},
		{"default only", []LimitationEvent{{Kind: LimDefault, On: d(2023, 1, 15)}}, d(2026, 1, 15), LimDefault, date.Date{}},
		{"leap day", []LimitationEvent{{Kind: LimDefault, On: d(2024, 2, 29)}}, d(2027, 2, 28), LimDefault, date.Date{}},
		{"leap day to leap year", []LimitationEvent{{Kind: LimPartPayment, On: d(2024, 2, 29)}, {Kind: LimDefault, On: d(2020, 1, 1)}}, d(2027, 2, 28), LimPartPayment, date.Date{}},
		{"demand without proof does not interrupt", []LimitationEvent{{Kind: LimDefault, On: d(2023, 1, 1)}, {Kind: LimDemand, On: d(2024, 6, 1)}}, d(2026, 1, 1), LimDefault, date.Date{}},
		{"demand delivered", []LimitationEvent{{Kind: LimDefault, On: d(2023, 1, 1)}, {Kind: LimDemand, On: d(2024, 6, 1), Delivered: true}}, d(2027, 6, 1), LimDemand, date.Date{}},
		{"acknowledgement", []LimitationEvent{{Kind: LimAcknowledgement, On: d(2025, 3, 31)}, {Kind: LimDefault, On: d(2023, 1, 1)}}, d(2028, 3, 31), LimAcknowledgement, date.Date{}},
		{"notice delivered", []LimitationEvent{{Kind: LimDefault, On: d(2023, 1, 1)}, {Kind: LimNoticeDelivered, On: d(2026, 3, 9)}}, d(2029, 3, 9), LimNoticeDelivered, date.Date{}},
		{"suit", []LimitationEvent{{Kind: LimDefault, On: d(2023, 1, 1)}, {Kind: LimSuit, On: d(2024, 5, 6)}}, d(2027, 5, 6), LimSuit, date.Date{}},
		{"stated later wins", []LimitationEvent{{Kind: LimDefault, On: d(2023, 1, 1)}, {Kind: LimStatedExpiry, On: d(2026, 6, 1)}}, d(2026, 6, 1), LimStatedExpiry, date.Date{}},
		{"stated earlier ignored", []LimitationEvent{{Kind: LimDefault, On: d(2023, 1, 1)}, {Kind: LimStatedExpiry, On: d(2025, 6, 1)}}, d(2026, 1, 1), LimDefault, date.Date{}},
		{"judgment: 2 years to enforce", []LimitationEvent{{Kind: LimSuit, On: d(2024, 1, 1)}, {Kind: LimJudgment, On: d(2024, 2, 29)}}, d(2027, 1, 1), LimSuit, d(2026, 2, 28)},
		{"enforcement applied meets the deadline", []LimitationEvent{{Kind: LimJudgment, On: d(2024, 3, 1)}, {Kind: LimEnforcementFiled, On: d(2024, 9, 1)}}, date.Date{}, "", date.Date{}},
		{"enforcement before a later judgment", []LimitationEvent{{Kind: LimEnforcementFiled, On: d(2023, 9, 1)}, {Kind: LimJudgment, On: d(2024, 3, 1)}}, date.Date{}, "", d(2026, 3, 1)},
		{"zero dates ignored", []LimitationEvent{{Kind: LimSuit}, {Kind: LimDefault, On: d(2023, 1, 1)}}, d(2026, 1, 1), LimDefault, date.Date{}},
		{"unknown kind ignored", []LimitationEvent{{Kind: "gossip", On: d(2025, 1, 1)}, {Kind: LimDefault, On: d(2023, 1, 1)}}, d(2026, 1, 1), LimDefault, date.Date{}},
		// 3 years from the interruption's own date: the same day three years on is the last day.
		{"part-payment: last day is the same date 3 years on", []LimitationEvent{{Kind: LimDefault, On: d(2023, 1, 1)}, {Kind: LimPartPayment, On: d(2026, 3, 2)}}, d(2029, 3, 2), LimPartPayment, date.Date{}},
		{"month end stays month end", []LimitationEvent{{Kind: LimDefault, On: d(2023, 8, 31)}}, d(2026, 8, 31), LimDefault, date.Date{}},
		{"interruption on the default's day", []LimitationEvent{{Kind: LimDefault, On: d(2023, 5, 6)}, {Kind: LimAcknowledgement, On: d(2023, 5, 6)}}, d(2026, 5, 6), LimAcknowledgement, date.Date{}},
		// Below, at and above the last day of a period that started on 2023-01-01 (expiry 2026-01-01).
		{"part-payment the day before expiry", []LimitationEvent{{Kind: LimDefault, On: d(2023, 1, 1)}, {Kind: LimPartPayment, On: d(2025, 12, 31)}}, d(2028, 12, 31), LimPartPayment, date.Date{}},
		{"part-payment on the expiry day", []LimitationEvent{{Kind: LimDefault, On: d(2023, 1, 1)}, {Kind: LimPartPayment, On: d(2026, 1, 1)}}, d(2029, 1, 1), LimPartPayment, date.Date{}},
		{"the latest of several interruptions", []LimitationEvent{{Kind: LimSuit, On: d(2024, 1, 1)}, {Kind: LimDefault, On: d(2023, 1, 1)},
			{Kind: LimDemand, On: d(2025, 7, 1), Delivered: true}, {Kind: LimAcknowledgement, On: d(2025, 6, 30)}}, d(2028, 7, 1), LimDemand, date.Date{}},
		{"judgment: deadline 2 years on, enforcement the day before meets nothing", []LimitationEvent{{Kind: LimJudgment, On: d(2024, 3, 1)},
			{Kind: LimEnforcementFiled, On: d(2024, 2, 29)}}, date.Date{}, "", d(2026, 3, 1)},
		{"enforcement on the judgment's day meets the deadline", []LimitationEvent{{Kind: LimJudgment, On: d(2024, 3, 1)},
			{Kind: LimEnforcementFiled, On: d(2024, 3, 1)}}, date.Date{}, "", date.Date{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LimitationExpiry(tt.ev)
			if got.Expiry != tt.exp || got.Basis != tt.basis || got.EnforcementDeadline != tt.enforce {
				t.Fatalf("got %+v, want expiry %v basis %q enforcement %v", got, tt.exp, tt.basis, tt.enforce)
			}
		})
	}
}

func TestLimitationProperties(t *testing.T) {
	kinds := []LimitationKind{LimDefault, LimDemand, LimAcknowledgement, LimPartPayment, LimSuit, LimNoticeDelivered}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 8).Draw(t, "n")
		var ev []LimitationEvent
		for i := 0; i < n; i++ {
			ev = append(ev, LimitationEvent{Kind: kinds[rapid.IntRange(0, len(kinds)-1).Draw(t, "k")],
				On: date.Of(2000, 1, 1).AddDays(rapid.IntRange(0, 10000).Draw(t, "d")), Delivered: rapid.Bool().Draw(t, "del")})
		}
		base := LimitationExpiry(ev)
		// Order does not matter.
		rev := make([]LimitationEvent, len(ev))
		for i := range ev {
			rev[len(ev)-1-i] = ev[i]
		}
		if LimitationExpiry(rev) != base {
			t.Fatalf("order changes the result")
		}
		// A later interruption never moves the expiry earlier.
		later := append(ev, LimitationEvent{Kind: LimPartPayment, On: date.Of(2000, 1, 1).AddDays(rapid.IntRange(0, 12000).Draw(t, "p"))})
		if e := LimitationExpiry(later).Expiry; e.Before(base.Expiry) {
			t.Fatalf("a part-payment moved the expiry from %v to %v", base.Expiry, e)
		}
		// The expiry is 3 years after From, always.
		if !base.From.IsZero() && base.Expiry != base.From.AddYears(3) {
			t.Fatalf("expiry %v from %v", base.Expiry, base.From)
		}
	})
}

func TestLimitationWarning(t *testing.T) {
	asOf := date.Of(2026, 12, 6)
	for _, tt := range []struct {
		d    date.Date
		want string
	}{
		{date.Date{}, WarnNone}, {asOf.AddDays(-1), WarnExpired}, {asOf, Warn30}, {asOf.AddDays(30), Warn30},
		{asOf.AddDays(31), Warn90}, {asOf.AddDays(90), Warn90}, {asOf.AddDays(91), WarnNone},
	} {
		if got := LimitationWarning(tt.d, asOf); got != tt.want {
			t.Errorf("LimitationWarning(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestCostBasis(t *testing.T) {
	parts, err := CostBasis(woYuan(1000), []money.Amount{woYuan(1), woYuan(1), woYuan(1)})
	if err != nil {
		t.Fatal(err)
	}
	if parts[0] != woYuan(334) || parts[1] != woYuan(333) || parts[2] != woYuan(333) {
		t.Fatalf("parts %v", parts)
	}
	if p, _ := CostBasis(woYuan(10), []money.Amount{woYuan(0), woYuan(0)}); p[0] != woYuan(5) || p[1] != woYuan(5) {
		t.Fatalf("zero claims split evenly: %v", p)
	}
	for _, bad := range []struct {
		price  money.Amount
		claims []money.Amount
	}{
		{woYuan(1), nil}, {woYuan(-1), []money.Amount{woYuan(1)}}, {woYuan(1), []money.Amount{woYuan(-1)}}, {woYuan(1), []money.Amount{money.New(1, "USD")}},
	} {
		if _, err := CostBasis(bad.price, bad.claims); reclaim.ErrorCode(err) != reclaim.EINVALID {
			t.Errorf("CostBasis(%v, %v) = %v, want EINVALID", bad.price, bad.claims, err)
		}
	}
}

func TestCostBasisSumsToPrice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		price := woYuan(rapid.Int64Range(0, 1e12).Draw(t, "price"))
		n := rapid.IntRange(1, 50).Draw(t, "n")
		claims := make([]money.Amount, n)
		for i := range claims {
			claims[i] = woYuan(rapid.Int64Range(0, 1e10).Draw(t, "claim"))
		}
		parts, err := CostBasis(price, claims)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for i, p := range parts {
			if p.Sign() < 0 || (claims[i].IsZero() && p.Sign() != 0 && !woAllZero(claims)) {
				t.Fatalf("part %d = %v for claim %v", i, p, claims[i])
			}
			sum += p.Minor()
		}
		if sum != price.Minor() {
			t.Fatalf("parts sum to %d, price %d", sum, price.Minor())
		}
	})
}

func woAllZero(as []money.Amount) bool {
	for _, a := range as {
		if !a.IsZero() {
			return false
		}
	}
	return true
}

func TestJoinCase(t *testing.T) {
	nid := BlindTerm{Kind: BlindNationalID, Hash: []byte{1}}
	ph := BlindTerm{Kind: BlindPhone, Hash: []byte{2}}
	tests := []struct {
		name    string
		terms   []BlindTerm
		matches []CaseMatch
		want    int64
	}{
		{"nothing known", []BlindTerm{nid, ph}, nil, 0},
		{"no terms", nil, nil, 0},
		{"same ID", []BlindTerm{nid, ph}, []CaseMatch{{7, BlindNationalID}}, 7},
		{"lowest of several ID matches", []BlindTerm{nid}, []CaseMatch{{9, BlindNationalID}, {4, BlindNationalID}}, 4},
		{"ID beats phone", []BlindTerm{nid, ph}, []CaseMatch{{3, BlindPhone}, {8, BlindNationalID}}, 8},
		{"phone alone does not join a person with an ID", []BlindTerm{nid, ph}, []CaseMatch{{3, BlindPhone}}, 0},
		{"phone joins a person without an ID", []BlindTerm{ph}, []CaseMatch{{5, BlindPhone}, {3, BlindPhone}}, 3},
	}
	for _, tt := range tests {
		if got := JoinCase(tt.terms, tt.matches); got != tt.want {
			t.Errorf("%s: JoinCase = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestCourtFee(t *testing.T) {
	tests := []struct {
		claim, fee, simplified int64 // fen
	}{
		{0, 0, 0},
		{-5, 0, 0},
		{1, 5000, 2500},
		{1_000_000, 5000, 2500},           // 10,000 yuan
		{1_000_001, 5000, 2500},           // 10,000.01: +0.00025 fen, rounds away
		{1_000_020, 5001, 2500},           // 10,000.20: +0.5 fen rounds up; halved 2500.25 -> 2500
		{5_000_000, 105000, 52500},        // 50,000 yuan costs 1,050 (market.md)
		{10_000_000, 230000, 115000},      // 100,000
		{20_000_000, 430000, 215000},      // 200,000
		{50_000_000, 880000, 440000},      // 500,000
		{100_000_000, 1380000, 690000},    // 1 million
		{200_000_000, 2280000, 1140000},   // 2 million
		{500_000_000, 4680000, 2340000},   // 5 million
		{1_000_000_000, 8180000, 4090000}, // 10 million
		{2_000_000_000, 14180000, 7090000},
		{3_000_000_000, 19180000, 9590000},
		{1_234_567, 10864, 5432}, // 12,345.67: 50 + 2,345.67 x 2.5% = 108.64175
	}
	for _, tt := range tests {
		got, err := CourtFee(woYuan(tt.claim), false)
		if err != nil || got != woYuan(tt.fee) {
			t.Errorf("CourtFee(%d) = %v %v, want %d", tt.claim, got.Minor(), err, tt.fee)
		}
		got, err = CourtFee(woYuan(tt.claim), true)
		if err != nil || got != woYuan(tt.simplified) {
			t.Errorf("CourtFee(%d, simplified) = %v %v, want %d", tt.claim, got.Minor(), err, tt.simplified)
		}
	}
	if _, err := CourtFee(money.New(100, "JPY"), false); reclaim.ErrorCode(err) != reclaim.EINVALID {
		t.Errorf("JPY: %v", err)
	}
}

func TestCourtFeeNonDecreasing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := rapid.Int64Range(0, 1e12).Draw(t, "x")
		d := rapid.Int64Range(0, 1e9).Draw(t, "d")
		a, _ := CourtFee(woYuan(x), false)
		b, _ := CourtFee(woYuan(x+d), false)
		if b.Minor() < a.Minor() {
			t.Fatalf("fee(%d)=%d > fee(%d)=%d", x, a.Minor(), x+d, b.Minor())
		}
	})
}

func TestRenderNoticeGolden(t *testing.T) {
	text, html := RenderNotice(NoticeData{CaseRef: "C42", MaskedName: "张*", Seller: "某银行<信用卡>中心", Buyer: "本公司 (the AMC)",
		AwardDate: date.Of(2026, 3, 2), PortfolioRef: "PKG-1", Loans: []NoticeLoan{{"L1", woYuan(123456)}, {"L2", woYuan(1)}}})
	got := text + "\n----\n" + html + "\n"
	path := filepath.Join("testdata", "notice.golden")
	if woUpdate() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("notice differs from %s (run with -update):\n%s", path, got)
	}
}

func TestValidateAction(t *testing.T) {
	ok := []ActionInput{
		{Kind: KindCall, Outcome: CallPromiseToPay, Number: "13800138000"},
		{Kind: KindSMS, Outcome: "delivered", Number: "13800138000", Party: "debtor"},
		{Kind: KindLetter, Outcome: "delivered"},
		{Kind: KindVisit, Outcome: "visited", RecordingRef: "rec-1"},
		{Kind: KindLegal, LegalStep: LegalFiling, Effective: date.Of(2026, 1, 1), Claim: woYuan(1)},
		{Kind: KindLegal, LegalStep: LegalTerminated, Effective: date.Of(2026, 1, 1)},
		{Kind: KindNote, Note: "x"},
	}
	for _, in := range ok {
		if err := ValidateAction(in); err != nil {
			t.Errorf("%+v: %v", in, err)
		}
	}
	bad := []struct {
		in    ActionInput
		field string
	}{
		{ActionInput{Kind: "fax"}, "kind"},
		{ActionInput{Kind: KindCall, Outcome: "delivered", Number: "1"}, "outcome"},
		{ActionInput{Kind: KindCall, Outcome: CallAnswered}, "number"},
		{ActionInput{Kind: KindCall, Outcome: CallAnswered, Number: "1", Party: "neighbour"}, "party"},
		{ActionInput{Kind: KindCall, Outcome: CallAnswered, Number: "1", Consent: "yes"}, "consent"},
		{ActionInput{Kind: KindVisit, Outcome: "visited"}, "recording_ref"},
		{ActionInput{Kind: KindLegal, LegalStep: "appeal", Effective: date.Of(2026, 1, 1)}, "legal_step"},
		{ActionInput{Kind: KindLegal, LegalStep: LegalJudgment}, "effective"},
		{ActionInput{Kind: KindLegal, LegalStep: LegalFiling, Effective: date.Of(2026, 1, 1)}, "claim"},
		{ActionInput{Kind: KindNote}, "note"},
		{ActionInput{Kind: KindLetter, Outcome: "delivered", At: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)}, "at"},
	}
	for _, b := range bad {
		err := ValidateAction(b.in)
		var re *reclaim.Error
		if reclaim.ErrorCode(err) != reclaim.EINVALID || !woAsErr(err, &re) || re.Fields["field"] != b.field {
			t.Errorf("%+v: %v, want EINVALID on %s", b.in, err, b.field)
		}
	}
}

func TestContactOutcome(t *testing.T) {
	for in, want := range map[string]Outcome{CallPromiseToPay: "answered", CallRefusal: "answered", CallAnswered: "answered",
		CallWrongParty: "failed", CallNoAnswer: "no_answer", CallBusy: "busy", CallInvalidNumber: "invalid_number"} {
		if got := ContactOutcome(KindCall, in); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
	if ContactOutcome(KindVisit, "visited") != "visited" {
		t.Error("visit outcome changed")
	}
}

func TestSuppression(t *testing.T) {
	if v := Suppression(DebtorState{}); len(v) != 0 {
		t.Fatalf("clean state suppressed: %v", v)
	}
	v := Suppression(DebtorState{DoNotContact: true, Deceased: true, Bankrupt: true})
	if len(v) != 3 || v[0].Rule != "DNC" || v[1].Rule != "DECEASED" || v[2].Rule != "BANKRUPT" {
		t.Fatalf("%v", v)
	}
}

func woAsErr(err error, re **reclaim.Error) bool {
	e, ok := err.(*reclaim.Error)
	*re = e
	return ok
}

func TestContactLimitationEvent(t *testing.T) {
	on := date.Of(2026, 3, 2)
	for _, tt := range []struct {
		kind, outcome, proof string
		want                 LimitationKind
	}{
		{"letter", "delivered", "EMS1", LimDemand},
		{"sms", "delivered", "gw-1", LimDemand},
		{"email", "delivered", "msg-1", LimDemand},
		{"letter", "delivered", "", ""},
		{"letter", "failed", "EMS1", ""},
		{"call", "promise_to_pay", "rec-1", LimAcknowledgement},
		{"call", "promise_to_pay", "", ""},
		{"call", "answered", "rec-1", ""},
		{"visit", "visited", "rec-1", ""},
	} {
		got := ContactLimitationEvent(tt.kind, tt.outcome, tt.proof, on)
		if (got == nil) != (tt.want == "") || (got != nil && (got.Kind != tt.want || got.On != on || !got.Delivered)) {
			t.Errorf("%s/%s/%q: %+v, want %q", tt.kind, tt.outcome, tt.proof, got, tt.want)
		}
	}
	// A contact without a local date interrupts nothing (it has no day to restart the period from).
	if got := ContactLimitationEvent("letter", "delivered", "EMS1", date.Date{}); got != nil {
		t.Errorf("zero date: %+v, want nil", got)
	}
}

// TestCheckHappened: a date after latest is refused naming the field and the rule; latest
// itself, earlier dates and the zero date pass.
func TestCheckHappened(t *testing.T) {
	latest := date.Of(2026, 12, 8)
	for _, ok := range []date.Date{{}, latest, latest.AddDays(-400), date.Of(1990, 1, 1)} {
		if err := CheckHappened("at", ok, latest); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []date.Date{latest.AddDays(1), date.Of(2199, 1, 2), date.Of(9999, 12, 31)} {
		err := CheckHappened("delivered_on", bad, latest)
		var e *reclaim.Error
		if !errors.As(err, &e) || e.Code != reclaim.EINVALID || e.Fields["field"] != "delivered_on" || e.Fields["rule"] != RuleNotFuture || e.Fields["value"] != bad.String() {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
