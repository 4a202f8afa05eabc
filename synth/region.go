package synth

import (
	"math/rand/v2"
	"strings"

	"reclaim/region"
)

// sampleRegion draws a borrower's registered region: a county-level code under a prefecture
// drawn by population (East China weighted by eastBias), with the province's and the
// prefecture's display names for addresses and courts.
func sampleRegion(r *rand.Rand, eastBias float64) (county, province, prefecture string) {
	d := region.Sample(r, eastBias)
	county, ok := region.CountyCode(r, d.Code)
	if !ok {
		county = d.Code
	}
	p, _ := region.Province(d.Code)
	name := d.Name
	switch {
	case strings.HasSuffix(name, "市辖区"), strings.HasSuffix(name, "市县"):
		name = p.Name
	case strings.Contains(name, "直辖县级"):
		name = p.Name
	}
	return county, p.Name, name
}
