package synth

import "reclaim"

// products in the order of profileParams.mix.
var products = [5]reclaim.ProductType{reclaim.CreditCard, reclaim.ConsumerLoan, reclaim.BusinessLoan, reclaim.AutoLoan, reclaim.MortgageLoan}

// productParams are per-product balance and pricing distributions.
type productParams struct {
	median, sigma float64 // principal outstanding, lognormal, yuan
	maxPrincipal  float64
	rate          float64 // annual (penalty) interest accruing after default
	terms         []int   // instalment terms in months; nil for revolving credit
}

var productTable = map[reclaim.ProductType]productParams{
	reclaim.CreditCard:   {median: 22_000, sigma: 0.85, maxPrincipal: 500_000, rate: 0.18},
	reclaim.ConsumerLoan: {median: 38_000, sigma: 0.85, maxPrincipal: 800_000, rate: 0.12, terms: []int{12, 24, 36}},
	reclaim.BusinessLoan: {median: 140_000, sigma: 0.8, maxPrincipal: 3_000_000, rate: 0.09, terms: []int{12, 24, 36}},
	reclaim.AutoLoan:     {median: 75_000, sigma: 0.55, maxPrincipal: 600_000, rate: 0.08, terms: []int{36, 48, 60}},
	reclaim.MortgageLoan: {median: 380_000, sigma: 0.6, maxPrincipal: 5_000_000, rate: 0.06, terms: []int{120, 240, 360}},
}

// profileParams are the distributions a Profile fixes.
type profileParams struct {
	mix [5]float64 // product weights in the order of products

	// Days past due: minDPD + lognormal(median, sigma), capped at maxDPD.
	minDPD, maxDPD int
	dpdMedian      float64
	dpdSigma       float64

	balanceScale float64 // multiplies every product's median balance
	rateScale    float64 // multiplies every product's interest rate
	feeShare     float64 // typical fees as a share of principal after one year

	terms []int // instalment terms overriding the product's (consumer finance: short loans)

	ageMean, ageSD float64
	eastBias       float64 // passed to region.Sample

	writeOffLogit float64 // added to the write-off logit; allWrittenOff forces it
	allWrittenOff bool
	sueLogit      float64 // added to the litigation logit
	agencyBase    float64 // mean agency placements at zero DPD
	complaint     float64 // base share of borrowers who complained
	neverPaid     float64 // share of loans without any payment (first-payment default)
}

var profileTable = map[Profile]profileParams{
	BankCards: {
		mix:    [5]float64{1, 0, 0, 0, 0},
		minDPD: 91, maxDPD: 3650, dpdMedian: 420, dpdSigma: 0.75,
		balanceScale: 1, rateScale: 1, feeShare: 0.04,
		ageMean: 41, ageSD: 8.5, eastBias: 0.3,
		writeOffLogit: 0, sueLogit: -0.6, agencyBase: 0.8, complaint: 0.03, neverPaid: 0.005,
	},
	ConsumerFinance: {
		mix:    [5]float64{0, 1, 0, 0, 0},
		minDPD: 90, maxDPD: 900, dpdMedian: 17, dpdSigma: 0.95,
		balanceScale: 0.16, rateScale: 2, feeShare: 0.05, terms: []int{6, 12, 12, 24},
		ageMean: 34, ageSD: 7.5, eastBias: 0.25,
		writeOffLogit: -1.5, sueLogit: -2.5, agencyBase: 1.2, complaint: 0.05, neverPaid: 0.02,
	},
	BankMixed: {
		mix:    [5]float64{0.29, 0.55, 0.15, 0.007, 0.003},
		minDPD: 91, maxDPD: 3650, dpdMedian: 330, dpdSigma: 0.9,
		balanceScale: 1, rateScale: 1, feeShare: 0.02,
		ageMean: 42, ageSD: 8.5, eastBias: 0.3,
		writeOffLogit: -0.3, sueLogit: 0, agencyBase: 0.6, complaint: 0.025, neverPaid: 0.01,
	},
	Aged: {
		mix:    [5]float64{0.45, 0.45, 0.09, 0.01, 0},
		minDPD: 1096, maxDPD: 5475, dpdMedian: 640, dpdSigma: 0.75,
		balanceScale: 0.9, rateScale: 1, feeShare: 0.03,
		ageMean: 45, ageSD: 8.5, eastBias: 0.3,
		allWrittenOff: true, sueLogit: 1.4, agencyBase: 1.0, complaint: 0.02, neverPaid: 0.01,
	},
}

// ProductMix returns the profile's target product shares (credit_card, consumer_loan,
// business_loan, auto_loan, mortgage), summing to 1.
func (p Profile) ProductMix() map[reclaim.ProductType]float64 {
	pp := profileTable[p]
	t := 0.0
	for _, w := range pp.mix {
		t += w
	}
	out := make(map[reclaim.ProductType]float64, len(products))
	for i, w := range pp.mix {
		out[products[i]] = w / t
	}
	return out
}
