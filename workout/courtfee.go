package workout

import (
	"math/big"

	"reclaim"
	"reclaim/money"
)

// CourtFeeBand is one band of the property-case schedule: the rate, in basis points (1/10,000),
// that applies to the part of the claim up to UpTo yuan (0: no upper bound).
type CourtFeeBand struct {
	UpTo int64 // yuan; 0 for the last, open band
	BP   int64 // basis points
}

// CourtFeeBase is the flat fee for the first 10,000 yuan (50 yuan), and CourtFeeBaseUpTo that
// first band's upper bound in yuan.
const (
	CourtFeeBase     = 50
	CourtFeeBaseUpTo = 10_000
)

// CourtFeeBands is the statutory schedule of case-acceptance fees for property claims
// (诉讼费用交纳办法, art. 13(1)) above the first 10,000 yuan: 2.5% of the part up to 100,000,
// 2% to 200,000, 1.5% to 500,000, 1% to 1 million, 0.9% to 2 million, 0.8% to 5 million, 0.7% to
// 10 million, 0.6% to 20 million and 0.5% above. It is the one copy of the schedule: the
// valuation's expected legal cost reads it too.
var CourtFeeBands = [...]CourtFeeBand{
	{100_000, 250}, {200_000, 200}, {500_000, 150}, {1_000_000, 100}, {2_000_000, 90},
	{5_000_000, 80}, {10_000_000, 70}, {20_000_000, 60}, {0, 50},
}

// CourtFee returns the statutory case-acceptance fee for a property claim, exactly in minor
// units: 50 yuan up to 10,000, then each band's rate on the part of the claim in the band,
// rounded once, half up, to the fen; with simplified set the fee is halved (simplified
// procedure, art. 16), again rounded half up. A 50,000-yuan claim costs 1,050 yuan (525 under
// the simplified procedure). A claim of 0 or less costs 0. The currency must have 2 minor digits
// (CNY); anything else is EINVALID.
func CourtFee(claim money.Amount, simplified bool) (money.Amount, error) {
	c := claim.Currency()
	if c.Digits() != 2 {
		return money.Amount{}, reclaim.Errorf(reclaim.EINVALID, "court fee: currency %q is not a yuan-like currency with 2 minor digits", c)
	}
	if claim.Sign() <= 0 {
		return money.Zero(c), nil
	}
	// Work in fen x 10,000 (basis points), exactly.
	fen := big.NewInt(claim.Minor())
	acc := big.NewInt(CourtFeeBase * 100 * 10_000)
	lo := big.NewInt(CourtFeeBaseUpTo * 100)
	for _, b := range CourtFeeBands {
		if fen.Cmp(lo) <= 0 {
			break
		}
		hi := new(big.Int).Set(fen)
		if b.UpTo > 0 {
			if up := big.NewInt(b.UpTo * 100); up.Cmp(hi) < 0 {
				hi = up
			}
		}
		part := new(big.Int).Sub(hi, lo)
		acc.Add(acc, part.Mul(part, big.NewInt(b.BP)))
		if b.UpTo == 0 {
			break
		}
		lo = big.NewInt(b.UpTo * 100)
	}
	den := int64(10_000)
	if simplified {
		den *= 2
	}
	// Half up: (acc + den/2) / den.
	q := new(big.Int).Add(acc, big.NewInt(den/2))
	q.Quo(q, big.NewInt(den))
	if !q.IsInt64() {
		return money.Amount{}, reclaim.Errorf(reclaim.EINVALID, "court fee: claim %s too large", claim)
	}
	return money.New(q.Int64(), c), nil
}
