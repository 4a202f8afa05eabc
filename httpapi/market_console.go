package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/auction"
	"reclaim/market"
	"reclaim/money"
)

// ListingCheck is the answer of the listing dry run: the rules a listing breaks under its pack
// (none: it may be listed, subject to the checks that need the database: the portfolio exists
// and was not bought by the AMC, a re-listing follows a failure) and the pack's numbers, so that
// the seller's wizard can show the bounds before anything is stored.
type ListingCheck struct {
	Valid      bool                `json:"valid"`
	Violations []auction.Violation `json:"violations"`
	Pack       PackInfo            `json:"pack"`
}

// PackInfo is a rule pack's numbers as the console shows them (docs/auction.md lists them).
type PackInfo struct {
	Name                string   `json:"name"`
	Prefix              string   `json:"prefix"`
	ExtensionSeconds    int64    `json:"extension_seconds" doc:"anti-sniping window E: a bid with end - t <= E moves the end to t + E"`
	MinStartPct         int64    `json:"min_start_pct" doc:"lowest start price in percent of the appraisal (0: no appraisal needed)"`
	DepositMinPct       int64    `json:"deposit_min_pct"`
	DepositMaxPct       int64    `json:"deposit_max_pct"`
	NoticeDays          int      `json:"notice_days" doc:"least days from notice to start for the listing's asset kind"`
	MinDurationSeconds  int64    `json:"min_duration_seconds"`
	Formats             []string `json:"formats"`
	MinStartPrice       *string  `json:"min_start_price,omitempty" doc:"the lowest start price for the appraisal given (yuan)"`
	DepositMin          *string  `json:"deposit_min,omitempty" doc:"the deposit bounds for the start price given (yuan)"`
	DepositMax          *string  `json:"deposit_max,omitempty"`
	ReserveIsStartPrice bool     `json:"reserve_is_start_price" doc:"the judicial pack: the reserve is the starting price (JA-1)"`
}

// marketConsoleRoutes adds what the console's listing wizard needs beside the marketplace API:
// a dry run of the pack's listing checks.
func (s *Server) marketConsoleRoutes() {
	if s.cfg.Market == nil {
		return
	}
	register(s, reclaim.PermAuctionManage, huma.Operation{OperationID: "check-auction-listing", Method: http.MethodPost, Path: "/api/v1/market/listing-check",
		Summary: "Check a listing against its rule pack without storing it (the wizard's pre-flight); the pack's bounds come back too",
		Tags:    []string{"market"}, Errors: []int{400}},
		func(_ context.Context, in *struct{ Body market.ListingSpec }) (*body[ListingCheck], error) {
			c, err := CheckListing(in.Body)
			return out(c, err)
		})
}

// CheckListing runs the engine's listing checks (auction.Listing.Check) on a seller's spec,
// as a first-stage listing. An unknown pack or asset kind is an EINVALID error naming the field.
func CheckListing(s market.ListingSpec) (ListingCheck, error) {
	pack, ok := auction.Packs(s.Pack)
	if !ok {
		return ListingCheck{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("pack %q is not judicial, yindeng or marketplace", s.Pack), Fields: map[string]string{"pack": "unknown"}}
	}
	kind := auction.AssetKind(s.Kind)
	if !kind.Valid() {
		return ListingCheck{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("kind %q is not movable, real_estate, property_right or npl_package", s.Kind), Fields: map[string]string{"kind": "unknown"}}
	}
	l := auction.Listing{Pack: pack, Format: auction.Format(s.Format), Kind: kind, Appraisal: s.Appraisal, StartPrice: s.StartPrice,
		Increment: s.Increment, Deposit: s.Deposit, Reserve: s.Reserve, ReservePublic: s.ReservePublic,
		NoticeAt: s.NoticeAt.UTC(), Start: s.Start.UTC(), End: s.End.UTC(), Stage: auction.First, Dutch: s.Dutch.Schedule()}
	for _, r := range s.Rounds {
		l.Rounds = append(l.Rounds, r.UTC())
	}
	amounts := []money.Amount{l.Appraisal, l.StartPrice, l.Increment, l.Deposit, l.Reserve}
	if s.Dutch != nil {
		amounts = append(amounts, s.Dutch.Step, s.Dutch.Floor)
	}
	for _, a := range amounts {
		if !a.IsAbsent() && (a.Currency() != money.CNY || a.Sign() < 0 || a.Cmp(auction.MaxAmount) > 0) {
			return ListingCheck{}, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("amount %s is out of range (0 to one trillion yuan)", a), Fields: map[string]string{"amount": "out of range"}}
		}
	}
	vs := l.Check()
	if vs == nil {
		vs = []auction.Violation{}
	}
	info := PackInfo{Name: pack.Name, Prefix: pack.Prefix, ExtensionSeconds: int64(pack.Extension.Seconds()), MinStartPct: pack.MinStartPct,
		DepositMinPct: pack.DepositMinPct, DepositMaxPct: pack.DepositMaxPct, MinDurationSeconds: int64(pack.MinDuration.Seconds()),
		ReserveIsStartPrice: pack.Name == auction.Judicial.Name}
	info.NoticeDays = pack.NoticeDaysOther
	if kind == auction.Movable {
		info.NoticeDays = pack.NoticeDaysMovable
	}
	for _, f := range pack.Formats {
		info.Formats = append(info.Formats, string(f))
	}
	// The bounds are the engine's: a minimum rounded up and a maximum rounded down to the fen,
	// so that the wizard never offers an amount the check then refuses.
	str := func(a money.Amount) *string {
		v := a.String()
		return &v
	}
	if pack.MinStartPct > 0 && !s.Appraisal.IsAbsent() && s.Appraisal.Sign() > 0 {
		info.MinStartPrice = str(auction.PctCeil(s.Appraisal, pack.MinStartPct))
	}
	if !s.StartPrice.IsAbsent() && s.StartPrice.Sign() > 0 {
		info.DepositMin = str(auction.PctCeil(s.StartPrice, pack.DepositMinPct))
		info.DepositMax = str(auction.PctFloor(s.StartPrice, pack.DepositMaxPct))
	}
	return ListingCheck{Valid: len(vs) == 0, Violations: vs, Pack: info}, nil
}
