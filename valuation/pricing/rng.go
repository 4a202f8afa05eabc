package pricing

import (
	"math"
	"math/bits"
)

// xrng is xoshiro256++ (Blackman and Vigna), a small fast generator with 256 bits of state, used
// by the Monte Carlo so that its hot loop can keep the state in registers. Each path gets its own
// stream, seeded through SplitMix64 from (seed, path).
type xrng struct{ s0, s1, s2, s3 uint64 }

func splitmix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newXrng returns the generator of stream (seed, stream).
func newXrng(seed, stream uint64) xrng {
	x := seed
	a := splitmix(&x)
	y := stream ^ 0x5851f42d4c957f2d
	b := splitmix(&y)
	x = a ^ bits.RotateLeft64(b, 29)
	var r xrng
	r.s0, r.s1, r.s2, r.s3 = splitmix(&x), splitmix(&x), splitmix(&x), splitmix(&x)
	return r
}

func (r *xrng) next() uint64 {
	s0, s1, s2, s3 := r.s0, r.s1, r.s2, r.s3
	out := bits.RotateLeft64(s0+s3, 23) + s0
	t := s1 << 17
	s2 ^= s0
	s3 ^= s1
	s1 ^= s2
	s0 ^= s3
	s2 ^= t
	s3 = bits.RotateLeft64(s3, 45)
	r.s0, r.s1, r.s2, r.s3 = s0, s1, s2, s3
	return out
}

// float64 returns a uniform number in [0, 1) with 53 random bits.
func (r *xrng) float64() float64 { return float64(r.next()>>11) * 0x1p-53 }

// Ziggurat tables for the standard normal (Marsaglia and Tsang, 2000), 128 layers. A 64-bit draw
// gives a signed 32-bit j (high half) and a layer l (low 7 bits); x = j·zigW[l] is accepted at once
// when |j| < zigK[l], about 98.8% of the time.
const (
	zigR = 3.442619855899      // start of the tail
	zigV = 9.91256303526217e-3 // area of each layer
	zigM = 2147483648.0        // 2^31
)

var (
	zigK [128]uint32
	zigW [128]float64
	zigF [128]float64
)

func init() {
	dn, tn := zigR, zigR
	q := zigV / math.Exp(-0.5*dn*dn)
	zigK[0] = uint32(dn / q * zigM)
	zigK[1] = 0
	zigW[0] = q / zigM
	zigW[127] = dn / zigM
	zigF[0] = 1
	zigF[127] = math.Exp(-0.5 * dn * dn)
	for i := 126; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(zigV/dn+math.Exp(-0.5*dn*dn)))
		zigK[i+1] = uint32(dn / tn * zigM)
		tn = dn
		zigF[i] = math.Exp(-0.5 * dn * dn)
		zigW[i] = dn / zigM
	}
}

// zigFast splits a 64-bit draw into the ziggurat's j and layer and reports whether the fast path
// accepts it; x is then the normal deviate.
func zigFast(u uint64) (x float64, j int32, l uint64, ok bool) {
	j = int32(u >> 32)
	l = u & 127
	a := uint32(j)
	if j < 0 {
		a = uint32(-j)
	}
	return float64(j) * zigW[l], j, l, a < zigK[l]
}

// zigSlow finishes a draw that the fast path rejected: the tail for layer 0, the wedge test for
// the others, and fresh draws until one is accepted.
func (r *xrng) zigSlow(j int32, l uint64) float64 {
	for {
		x := float64(j) * zigW[l]
		if l == 0 {
			for {
				x = -math.Log(1-r.float64()) / zigR
				y := -math.Log(1 - r.float64())
				if y+y >= x*x {
					break
				}
			}
			if j > 0 {
				return zigR + x
			}
			return -zigR - x
		}
		if zigF[l]+r.float64()*(zigF[l-1]-zigF[l]) < math.Exp(-0.5*x*x) {
			return x
		}
		var ok bool
		x, j, l, ok = zigFast(r.next())
		if ok {
			return x
		}
	}
}

// norm returns a standard normal deviate.
func (r *xrng) norm() float64 {
	x, j, l, ok := zigFast(r.next())
	if ok {
		return x
	}
	return r.zigSlow(j, l)
}
