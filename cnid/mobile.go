package cnid

import (
	"math/rand/v2"
	"strconv"
)

// mobilePrefixes are three-digit network prefixes in real use on the mainland (China Mobile,
// China Unicom, China Telecom, China Broadnet and MVNOs). 154 was never issued; the 14x and 172
// data-only and IoT ranges are left out because they do not take calls.
var mobilePrefixes = func() []string {
	var p []int
	for i := 130; i <= 139; i++ {
		p = append(p, i)
	}
	for i := 150; i <= 159; i++ {
		if i != 154 {
			p = append(p, i)
		}
	}
	p = append(p, 166, 170, 171, 173, 175, 176, 177, 178)
	for i := 180; i <= 189; i++ {
		p = append(p, i)
	}
	p = append(p, 190, 191, 192, 193, 195, 196, 197, 198, 199)
	out := make([]string, len(p))
	for i, v := range p {
		out[i] = strconv.Itoa(v)
	}
	return out
}()

// MobilePrefixes returns the three-digit prefixes GenerateMobile draws from, in ascending order.
// The slice is a copy.
func MobilePrefixes() []string { return append([]string(nil), mobilePrefixes...) }

// GenerateMobile returns a realistic 11-digit mainland mobile number: a prefix drawn uniformly from
// MobilePrefixes and 8 uniform random digits. The same generator state gives the same number.
func GenerateMobile(r *rand.Rand) string {
	b := make([]byte, 0, 11)
	b = append(b, mobilePrefixes[r.IntN(len(mobilePrefixes))]...)
	for i := 0; i < 8; i++ {
		b = append(b, byte('0'+r.IntN(10)))
	}
	return string(b)
}
