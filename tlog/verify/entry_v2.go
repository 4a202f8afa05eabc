package verify

// Entry schema version 2: what a live ABS deal's period report needs on the log.
//
// Version 2 adds to version 1 (whose entries stay valid and keep "v":1):
//
//   - loan.boarded written with "v":2 carries three more keys after "commitment": "product"
//     (the tape's product type), "region" (the GB/T 2260 six-digit region code) and "grade" (the
//     five-category grade), each possibly empty, so that a report's collections by region and
//     grade can be recomputed from the log;
//   - six deal entry types, always "v":2: deal.amended (the deal document's hash changes),
//     deal.cost (a disposal cost or a claim waiver from servicing), deal.payment (one line of a
//     payment date's distribution), deal.trigger (one trigger test), deal.collections (servicer-reported pool cash) and deal.report (the period
//     report's checkpoint: its figures and the SHA-256 of the full report document).
//
// Any other version-1 type may be written with "v":2 (Header.V = 2); its keys are unchanged.

// EntryVersion2 is the "v" of the version-2 entries.
const EntryVersion2 = 2

// The version-2 entry types.
const (
	TypeDealAmended = "deal.amended"
	TypeDealCost    = "deal.cost"
	TypeDealPayment = "deal.payment"
	TypeDealTrigger = "deal.trigger"
	TypeDealReport  = "deal.report"
	// TypeDealCollections is pool cash reported by the servicer without a loan (an imported
	// servicer file's date,amount row), for pools whose collections are not posted per loan.
	TypeDealCollections = "deal.collections"
)

// Deal cost kinds: the allowed values of DealCost.Kind.
const (
	CostDisposal = "cost"   // a disposal cost paid out of collections (legal, agency, court fees)
	CostWaiver   = "waiver" // part of a loan's claim forgiven in a settlement: no cash moves
)

// Trigger test moments: the allowed values of DealTrigger.When.
const (
	WhenBefore    = "before"
	WhenAfter     = "after"
	WhenWaterfall = "waterfall"
)

// Product types, five-category grades (package tape's enumerations) and yes/no flags.
var (
	products   = []string{"credit_card", "consumer_loan", "business_loan", "auto_loan", "mortgage"}
	grades     = []string{"substandard", "doubtful", "loss"}
	costKinds  = []string{CostDisposal, CostWaiver}
	whens      = []string{WhenBefore, WhenAfter, WhenWaterfall}
	yesNo      = []string{"no", "yes"}
	v2OnlyType = map[string]bool{TypeDealAmended: true, TypeDealCost: true, TypeDealPayment: true, TypeDealTrigger: true, TypeDealReport: true, TypeDealCollections: true}
)

// Version-2 field rules.
const (
	ruleProduct  rule = iota + 100 // one of products, or empty
	ruleRegion                     // six digits, or empty
	ruleGrade                      // one of grades, or empty
	ruleCostKind                   // one of costKinds
	ruleChannelOrEmpty
	ruleWhen   // one of whens
	ruleYesNo  // "yes" or "no"
	ruleLoanOr // a loan reference, or empty
)

// DealAmended (type "deal.amended", v2) records an amendment of the deal document: DealHash is
// the hex SHA-256 of the amended document's canonical form (abs.Document.Hash), PreviousHash the
// hash it replaces (the pool.opened waterfall_hash or the previous amendment's), Reason says why.
type DealAmended struct {
	Header
	DealHash     string
	PreviousHash string
	Reason       string
}

// DealCost (type "deal.cost", v2) is a cost or a waiver from servicing, dated by its effective
// date. Kind "cost": Amount was paid out of collections (legal, agency, court fees) through
// Channel (a collection channel, or empty); the deal's net collections of the period that holds
// the date are gross collections minus costs. Kind "waiver": Amount of loan Loan's claim was
// forgiven (a settlement); no cash moves, the pool's claim falls. Memo is free text (at most 200
// characters).
type DealCost struct {
	Header
	Kind    string
	Loan    string
	Channel string
	Amount  Amount
	Memo    string
}

// DealPayment (type "deal.payment", v2) is one line of the distribution on payment date
// PaymentDate (period Period, from 1): Amount moved From a source (the pool, an account, the
// issuance, the originator) To a destination (an account, "fee:NAME", "tranche:T:interest",
// "tranche:T:principal", "tranche:T:residual"), with the waterfall step's Memo. The lines of a
// period are logged in the waterfall's order before its deal.report.
type DealPayment struct {
	Header
	Period      int64
	PaymentDate string
	From        string
	To          string
	Amount      Amount
	Memo        string
}

// DealTrigger (type "deal.trigger", v2) is one test of a trigger on payment date PaymentDate:
// the metric and threshold as the engine wrote them, whether it was hit this time and whether it
// is in force afterwards ("yes" or "no").
type DealTrigger struct {
	Header
	Period      int64
	PaymentDate string
	Trigger     string
	When        string
	Metric      string
	Threshold   string
	Hit         string
	InForce     string
}

// DealReport (type "deal.report", v2) is the checkpoint of a payment date's trustee/servicer
// report. Collections is the gross of the loan.collection entries dated in
// [CollectionStart, CollectionEnd]; CostsApplied the deal.cost (kind cost) amounts set against
// them: the costs dated in the window plus those carried in from the previous report, at most
// Collections; CostsCarried = carried in + costs of the window - CostsApplied (carried to the
// next report); Net = Collections - CostsApplied, which is the amount of the period's pool line
// (deal.payment from "pool"). Payments and Triggers count the period's deal.payment and
// deal.trigger entries and Distributed sums the payments' amounts. DealHash is the deal
// document in force; ReportHash the SHA-256 of the full report document (JSON).
type DealReport struct {
	Header
	Period          int64
	PaymentDate     string
	CollectionStart string
	CollectionEnd   string
	DealHash        string
	Collections     Amount
	CostsApplied    Amount
	CostsCarried    Amount
	Net             Amount
	Payments        int64
	Triggers        int64
	Distributed     Amount
	ReportHash      string
}

// DealCollections (type "deal.collections", v2) is Amount of pool cash collected on its
// effective date as a servicer reported it without a loan breakdown: row Line of the servicer
// file whose SHA-256 is FileHash. A deal's gross collections of a window are its loan.collection
// and deal.collections amounts dated in it.
type DealCollections struct {
	Header
	Amount   Amount
	Line     int64
	FileHash string
}

// Type returns TypeDealCollections.
func (DealCollections) Type() string { return TypeDealCollections }

// Validate checks the entry; see Entry.
func (e DealCollections) Validate() error { return validate(&e) }

// Encode returns the canonical encoding (always "v":2); see Entry.
func (e DealCollections) Encode() ([]byte, error) { return encode(&e) }

func (e *DealCollections) fields() []field {
	return []field{fPos("amount", &e.Amount), fInt("line", &e.Line), fStr("file_hash", ruleHex, &e.FileHash)}
}

func (e *DealCollections) check() error { return nil }

// Type returns TypeDealAmended.
func (DealAmended) Type() string { return TypeDealAmended }

// Type returns TypeDealCost.
func (DealCost) Type() string { return TypeDealCost }

// Type returns TypeDealPayment.
func (DealPayment) Type() string { return TypeDealPayment }

// Type returns TypeDealTrigger.
func (DealTrigger) Type() string { return TypeDealTrigger }

// Type returns TypeDealReport.
func (DealReport) Type() string { return TypeDealReport }

// Validate checks the entry; see Entry.
func (e DealAmended) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e DealCost) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e DealPayment) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e DealTrigger) Validate() error { return validate(&e) }

// Validate checks the entry; see Entry.
func (e DealReport) Validate() error { return validate(&e) }

// Encode returns the canonical encoding (always "v":2); see Entry.
func (e DealAmended) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding (always "v":2); see Entry.
func (e DealCost) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding (always "v":2); see Entry.
func (e DealPayment) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding (always "v":2); see Entry.
func (e DealTrigger) Encode() ([]byte, error) { return encode(&e) }

// Encode returns the canonical encoding (always "v":2); see Entry.
func (e DealReport) Encode() ([]byte, error) { return encode(&e) }

func (e *DealAmended) fields() []field {
	return []field{fStr("deal_hash", ruleHex, &e.DealHash), fStr("previous_hash", ruleHex, &e.PreviousHash),
		fStr("reason", ruleText, &e.Reason)}
}

func (e *DealCost) fields() []field {
	return []field{fStr("kind", ruleCostKind, &e.Kind), fStr("loan", ruleLoanOr, &e.Loan),
		fStr("channel", ruleChannelOrEmpty, &e.Channel), fPos("amount", &e.Amount), fStr("memo", ruleText, &e.Memo)}
}

func (e *DealPayment) fields() []field {
	return []field{fInt("period", &e.Period), fStr("payment_date", ruleDate, &e.PaymentDate), fStr("from", ruleName, &e.From),
		fStr("to", ruleName, &e.To), fAmt("amount", &e.Amount), fStr("memo", ruleText, &e.Memo)}
}

func (e *DealTrigger) fields() []field {
	return []field{fInt("period", &e.Period), fStr("payment_date", ruleDate, &e.PaymentDate), fStr("trigger", ruleName, &e.Trigger),
		fStr("when", ruleWhen, &e.When), fStr("metric", ruleText, &e.Metric), fStr("threshold", ruleText, &e.Threshold),
		fStr("hit", ruleYesNo, &e.Hit), fStr("in_force", ruleYesNo, &e.InForce)}
}

func (e *DealReport) fields() []field {
	return []field{fInt("period", &e.Period), fStr("payment_date", ruleDate, &e.PaymentDate),
		fStr("collection_start", ruleDate, &e.CollectionStart), fStr("collection_end", ruleDate, &e.CollectionEnd),
		fStr("deal_hash", ruleHex, &e.DealHash), fAmt("collections", &e.Collections), fAmt("costs_applied", &e.CostsApplied),
		fAmt("costs_carried", &e.CostsCarried), fAmt("net", &e.Net), fInt("payments", &e.Payments), fInt("triggers", &e.Triggers),
		fAmt("distributed", &e.Distributed), fStr("report_hash", ruleHex, &e.ReportHash)}
}

func (e *DealAmended) check() error {
	if e.DealHash == e.PreviousHash {
		return entryErr("deal_hash", "equals previous_hash")
	}
	return nil
}

func (e *DealCost) check() error {
	if e.Kind == CostWaiver && e.Loan == "" {
		return entryErr("loan", "a waiver names its loan")
	}
	return nil
}

func (e *DealPayment) check() error {
	if e.Period < 1 {
		return entryErr("period", "must be at least 1")
	}
	return nil
}

func (e *DealTrigger) check() error {
	if e.Period < 1 {
		return entryErr("period", "must be at least 1")
	}
	return nil
}

func (e *DealReport) check() error {
	if e.Period < 1 {
		return entryErr("period", "must be at least 1")
	}
	if e.CollectionEnd < e.CollectionStart {
		return entryErr("collection_end", "%s is before collection_start %s", e.CollectionEnd, e.CollectionStart)
	}
	if e.CostsApplied > e.Collections || e.Collections-e.CostsApplied != e.Net {
		return entryErr("net", "%s is not collections %s - costs_applied %s", e.Net, e.Collections, e.CostsApplied)
	}
	return nil
}

// versionOf returns the version b is encoded in.
func versionOf(b body) int64 {
	if v2OnlyType[b.Type()] || b.header().V == EntryVersion2 {
		return EntryVersion2
	}
	return EntryVersion
}

// entryVersion reads and checks the "v" member of a decoded object of type typ.
func entryVersion(members []member, typ string) (int64, error) {
	for _, m := range members {
		if m.key != "v" {
			continue
		}
		if m.kind != kindInt {
			return 0, entryErr("v", "want the integer %d or %d, got %s", EntryVersion, EntryVersion2, m.kind)
		}
		if m.n != EntryVersion && m.n != EntryVersion2 {
			return 0, entryErr("v", "unsupported version %d (this verifier reads versions %d and %d)", m.n, EntryVersion, EntryVersion2)
		}
		if m.n == EntryVersion && v2OnlyType[typ] {
			return 0, entryErr("v", "type %s is written in version %d, not %d", typ, EntryVersion2, m.n)
		}
		return m.n, nil
	}
	return 0, entryErr("v", "missing")
}

// newBodyV2 returns a zero version-2 entry of type t, or nil for an unknown type.
func newBodyV2(t string) body {
	switch t {
	case TypeDealAmended:
		return &DealAmended{}
	case TypeDealCost:
		return &DealCost{}
	case TypeDealPayment:
		return &DealPayment{}
	case TypeDealTrigger:
		return &DealTrigger{}
	case TypeDealReport:
		return &DealReport{}
	case TypeDealCollections:
		return &DealCollections{}
	}
	return nil
}

// valueV2 returns the Entry value held by a version-2 pointer b.
func valueV2(b body) Entry {
	switch e := b.(type) {
	case *DealAmended:
		e.V = EntryVersion2
		return *e
	case *DealCost:
		e.V = EntryVersion2
		return *e
	case *DealPayment:
		e.V = EntryVersion2
		return *e
	case *DealTrigger:
		e.V = EntryVersion2
		return *e
	case *DealReport:
		e.V = EntryVersion2
		return *e
	case *DealCollections:
		e.V = EntryVersion2
		return *e
	}
	return nil
}

// checkStringV2 checks the version-2 string rules.
func checkStringV2(key string, r rule, s string) error {
	enum := func(list []string, empty bool) error {
		if (empty && s == "") || oneOf(s, list) {
			return nil
		}
		if empty {
			return entryErr(key, "%q is not empty or one of %v", s, list)
		}
		return entryErr(key, "%q is not one of %v", s, list)
	}
	switch r {
	case ruleProduct:
		return enum(products, true)
	case ruleGrade:
		return enum(grades, true)
	case ruleCostKind:
		return enum(costKinds, false)
	case ruleChannelOrEmpty:
		return enum(channels, true)
	case ruleWhen:
		return enum(whens, false)
	case ruleYesNo:
		return enum(yesNo, false)
	case ruleRegion:
		if s == "" {
			return nil
		}
		if len(s) != 6 {
			return entryErr(key, "%q is not a six-digit region code", s)
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return entryErr(key, "%q is not a six-digit region code", s)
			}
		}
	case ruleLoanOr:
		if s == "" {
			return nil
		}
		return checkID(key, s, 64, "_-")
	}
	return nil
}

// YesNo returns "yes" for true and "no" for false: the DealTrigger flags.
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
