package workout

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"

	"reclaim"
)

// Champion/challenger: cases are split between the champion strategy and a challenger by a
// deterministic random draw (a hash of the seed and the case id), and the lift is the difference
// in mean net collections per case with a confidence interval.

// ChallengerArm reports whether case caseID goes to the challenger, which gets the share (in
// [0, 1]) of cases. The draw depends only on seed and caseID: the same case is in the same arm in
// every run with the same seed, whatever other cases there are.
func ChallengerArm(seed uint64, caseID string, share float64) bool {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(caseID))
	x := h.Sum64() // FNV's high bits mix poorly for similar ids: finish with splitmix64's mixer
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	u := float64(x>>11) / (1 << 53)
	return u < share
}

// Lift is the measured difference challenger - champion in mean net collections per case.
type Lift struct {
	Method       string  `json:"method"` // "paired-normal", "normal" (Welch) or "bootstrap"
	Confidence   float64 `json:"confidence"`
	N1           int     `json:"champion_cases"`
	N2           int     `json:"challenger_cases"`
	Mean1        float64 `json:"champion_mean"`
	Mean2        float64 `json:"challenger_mean"`
	Diff         float64 `json:"diff"` // Mean2 - Mean1
	SE           float64 `json:"se"`
	Lo           float64 `json:"lo"`
	Hi           float64 `json:"hi"`
	RelativeDiff float64 `json:"relative_diff"` // Diff / Mean1 (NaN when Mean1 is 0)
	RelativeLo   float64 `json:"relative_lo"`
	RelativeHi   float64 `json:"relative_hi"`
}

func zFor(conf float64) float64 { return math.Sqrt2 * math.Erfinv(conf) }

func meanVar(x []float64) (m, v float64) {
	for _, a := range x {
		m += a
	}
	m /= float64(len(x))
	for _, a := range x {
		v += (a - m) * (a - m)
	}
	if len(x) > 1 {
		v /= float64(len(x) - 1)
	}
	return m, v
}

func checkLift(a, b []float64, conf float64) error {
	if len(a) < 2 || len(b) < 2 {
		return reclaim.Errorf(reclaim.EINVALID, "lift: each arm needs at least 2 cases (champion %d, challenger %d)", len(a), len(b))
	}
	if !(conf > 0 && conf < 1) {
		return reclaim.Errorf(reclaim.EINVALID, "lift: confidence %v is outside (0, 1)", conf)
	}
	return nil
}

func (l *Lift) relative() {
	l.RelativeDiff, l.RelativeLo, l.RelativeHi = math.NaN(), math.NaN(), math.NaN()
	if l.Mean1 != 0 {
		l.RelativeDiff, l.RelativeLo, l.RelativeHi = l.Diff/l.Mean1, l.Lo/l.Mean1, l.Hi/l.Mean1
	}
}

// LiftNormal is the lift of two independent arms with the normal approximation of the difference
// of means (Welch's standard error): Diff ± z·SE.
func LiftNormal(champion, challenger []float64, conf float64) (Lift, error) {
	if err := checkLift(champion, challenger, conf); err != nil {
		return Lift{}, err
	}
	m1, v1 := meanVar(champion)
	m2, v2 := meanVar(challenger)
	l := Lift{Method: "normal", Confidence: conf, N1: len(champion), N2: len(challenger), Mean1: m1, Mean2: m2, Diff: m2 - m1,
		SE: math.Sqrt(v1/float64(len(champion)) + v2/float64(len(challenger)))}
	z := zFor(conf)
	l.Lo, l.Hi = l.Diff-z*l.SE, l.Diff+z*l.SE
	l.relative()
	return l, nil
}

// LiftPaired is the lift when both strategies worked the same cases (champion[i] and
// challenger[i] are case i under each): the normal approximation of the mean paired difference.
// The arms must have the same length.
func LiftPaired(champion, challenger []float64, conf float64) (Lift, error) {
	if err := checkLift(champion, challenger, conf); err != nil {
		return Lift{}, err
	}
	if len(champion) != len(challenger) {
		return Lift{}, reclaim.Errorf(reclaim.EINVALID, "paired lift: the arms differ in length (%d, %d)", len(champion), len(challenger))
	}
	d := make([]float64, len(champion))
	for i := range d {
		d[i] = challenger[i] - champion[i]
	}
	md, vd := meanVar(d)
	m1, _ := meanVar(champion)
	m2, _ := meanVar(challenger)
	l := Lift{Method: "paired-normal", Confidence: conf, N1: len(champion), N2: len(challenger), Mean1: m1, Mean2: m2, Diff: md,
		SE: math.Sqrt(vd / float64(len(d)))}
	z := zFor(conf)
	l.Lo, l.Hi = l.Diff-z*l.SE, l.Diff+z*l.SE
	l.relative()
	return l, nil
}

// LiftBootstrap is the lift of two independent arms with a percentile bootstrap interval of the
// difference of means over resamples (>= 100) drawn with a PCG stream seeded by seed.
func LiftBootstrap(champion, challenger []float64, conf float64, resamples int, seed uint64) (Lift, error) {
	if err := checkLift(champion, challenger, conf); err != nil {
		return Lift{}, err
	}
	if resamples < 100 {
		return Lift{}, reclaim.Errorf(reclaim.EINVALID, "bootstrap: at least 100 resamples, got %d", resamples)
	}
	r := rand.New(rand.NewPCG(seed, 0xb007))
	m1, _ := meanVar(champion)
	m2, _ := meanVar(challenger)
	ds := make([]float64, resamples)
	for k := range ds {
		var s1, s2 float64
		for range champion {
			s1 += champion[r.IntN(len(champion))]
		}
		for range challenger {
			s2 += challenger[r.IntN(len(challenger))]
		}
		ds[k] = s2/float64(len(challenger)) - s1/float64(len(champion))
	}
	sortFloats(ds)
	_, vd := meanVar(ds)
	a := (1 - conf) / 2
	l := Lift{Method: "bootstrap", Confidence: conf, N1: len(champion), N2: len(challenger), Mean1: m1, Mean2: m2, Diff: m2 - m1,
		SE: math.Sqrt(vd), Lo: quantileSorted(ds, a), Hi: quantileSorted(ds, 1-a)}
	l.relative()
	return l, nil
}

func sortFloats(x []float64) { slices.Sort(x) }

func quantileSorted(x []float64, q float64) float64 {
	pos := q * float64(len(x)-1)
	i := int(math.Floor(pos))
	if i >= len(x)-1 {
		return x[len(x)-1]
	}
	f := pos - float64(i)
	return x[i]*(1-f) + x[i+1]*f
}
