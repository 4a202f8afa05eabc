package synth

import (
	"fmt"

	"reclaim/date"
	"reclaim/money"
)

// packageSpec is one package of the demo market.
type packageSpec struct {
	seller  string
	ref     string
	profile Profile
	share   float64
}

// demoPackages are fictional sellers and their packages; no name refers to a real institution.
var demoPackages = []packageSpec{
	{"澜泽银行股份有限公司信用卡中心", "LZB-CC-%d-01", BankCards, 0.25},
	{"青屿市商业银行股份有限公司", "QYCB-MIX-%d-01", BankMixed, 0.25},
	{"禾悦消费金融有限公司", "HYCF-%d-03", ConsumerFinance, 0.15},
	{"星桥消费金融股份有限公司", "XQCF-%d-07", ConsumerFinance, 0.15},
	{"澜泽银行股份有限公司", "LZB-HX-%d-02", Aged, 0.20},
}

// Portfolios returns a realistic set of packages from several fictional sellers (a joint-stock
// bank's card package, a city commercial bank's mixed package, two consumer-finance packages and
// an aged written-off package) whose Loans add up to total, all with the given cut-off, each with
// its own seed derived from seed. Packages that would get no loan are left out, so a small total
// yields fewer packages; total <= 0 yields none.
func Portfolios(seed uint64, total int, cutOff date.Date) []Config {
	if total <= 0 {
		return nil
	}
	// Largest-remainder split of total by the shares.
	counts := make([]int, len(demoPackages))
	rem := make([]float64, len(demoPackages))
	left := total
	for i, p := range demoPackages {
		x := p.share * float64(total)
		counts[i] = int(x)
		rem[i] = x - float64(counts[i])
		left -= counts[i]
	}
	for ; left > 0; left-- {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		counts[best]++
		rem[best] = -1
	}
	var out []Config
	for i, p := range demoPackages {
		if counts[i] == 0 {
			continue
		}
		out = append(out, Config{
			Seed:         splitmix64(seed ^ uint64(i+1)*0x9e3779b97f4a7c15),
			Loans:        counts[i],
			PortfolioRef: fmt.Sprintf(p.ref, cutOff.Year()),
			Seller:       p.seller,
			CutOff:       cutOff,
			Profile:      p.profile,
			Currency:     money.CNY,
		})
	}
	return out
}
