package gbdt

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestAUC(t *testing.T) {
	tests := []struct {
		name          string
		label, score  []float64
		weight        []float64
		want          float64
		wantNaN       bool
		labelWeighted bool
	}{
		{name: "perfect", label: []float64{0, 0, 1, 1}, score: []float64{0.1, 0.2, 0.8, 0.9}, want: 1},
		{name: "reversed", label: []float64{1, 1, 0, 0}, score: []float64{0.1, 0.2, 0.8, 0.9}, want: 0},
		{name: "all tied", label: []float64{0, 1, 0, 1}, score: []float64{0.5, 0.5, 0.5, 0.5}, want: 0.5},
		// Pairs (pos, neg): (0.35: 0.1 yes, 0.4 no), (0.8: both yes) -> 3/4.
		{name: "sklearn example", label: []float64{0, 0, 1, 1}, score: []float64{0.1, 0.4, 0.35, 0.8}, want: 0.75},
		// Weight 3 on the misordered negative: pairs weighted 1*1, 1*3 for pos 0.35 (1 good), pos 0.8 both good.
		{name: "weighted", label: []float64{0, 0, 1, 1}, score: []float64{0.1, 0.4, 0.35, 0.8}, weight: []float64{1, 3, 1, 1}, want: (1 + 4) / 8.0},
		{name: "one class", label: []float64{1, 1}, score: []float64{0.1, 0.2}, wantNaN: true},
		{name: "length", label: []float64{1, 0}, score: []float64{0.1}, wantNaN: true},
		{name: "nan score", label: []float64{1, 0}, score: []float64{math.NaN(), 0.1}, wantNaN: true},
	}
	for _, tc := range tests {
		got := AUC(tc.label, tc.score, tc.weight)
		if tc.wantNaN != math.IsNaN(got) || (!tc.wantNaN && !near(got, tc.want, 1e-12)) {
			t.Errorf("%s: AUC = %v; want %v", tc.name, got, tc.want)
		}
	}
}

func TestRegressionMetrics(t *testing.T) {
	y := []float64{1, 2, 3, 4}
	p := []float64{1, 3, 2, 6}
	if got := MAE(y, p, nil); got != 1 {
		t.Errorf("MAE = %v", got)
	}
	if got := RMSE(y, p, nil); !near(got, math.Sqrt(6.0/4), 1e-12) {
		t.Errorf("RMSE = %v", got)
	}
	if got := MAE(y, p, []float64{0, 0, 0, 1}); got != 2 {
		t.Errorf("weighted MAE = %v", got)
	}
	if got := LogLoss([]float64{1, 0}, []float64{0.8, 0.4}, nil); !near(got, -(math.Log(0.8)+math.Log(0.6))/2, 1e-12) {
		t.Errorf("LogLoss = %v", got)
	}
	if got := LogLoss([]float64{1}, []float64{0}, nil); math.IsInf(got, 0) || got < 30 {
		t.Errorf("LogLoss of a certain miss = %v; want large and finite", got)
	}
	if !math.IsNaN(RMSE(y, p[:2], nil)) || !math.IsNaN(MAE(nil, nil, nil)) || !math.IsNaN(LogLoss(y, p, []float64{0, 0, 0, 0})) {
		t.Errorf("bad inputs did not give NaN")
	}
}

func TestSpearman(t *testing.T) {
	if got := Spearman([]float64{1, 2, 3, 4}, []float64{10, 20, 30, 1000}); !near(got, 1, 1e-12) {
		t.Errorf("monotone: %v", got)
	}
	if got := Spearman([]float64{1, 2, 3}, []float64{3, 2, 1}); !near(got, -1, 1e-12) {
		t.Errorf("reversed: %v", got)
	}
	// Ties get average ranks: a = (1, 2.5, 2.5, 4), b = (1, 2, 3, 4); r = 0.9486832980505138.
	if got := Spearman([]float64{1, 2, 2, 3}, []float64{1, 2, 3, 4}); !near(got, 0.9486832980505138, 1e-12) {
		t.Errorf("ties: %v", got)
	}
	if !math.IsNaN(Spearman([]float64{1, 1}, []float64{1, 2})) || !math.IsNaN(Spearman([]float64{1}, []float64{1})) {
		t.Errorf("degenerate input did not give NaN")
	}
}

func TestCalibration(t *testing.T) {
	var y, p []float64
	for i := range 100 {
		p = append(p, float64(i)/100)
		y = append(y, float64(i%2))
	}
	bins := Calibration(y, p, 10)
	if len(bins) != 10 {
		t.Fatalf("%d bins", len(bins))
	}
	for k, b := range bins {
		if b.Count != 10 || !near(b.Lo, float64(10*k)/100, 1e-12) || !near(b.Hi, float64(10*k+9)/100, 1e-12) ||
			!near(b.MeanPredicted, (float64(10*k)+4.5)/100, 1e-12) || b.Observed != 0.5 {
			t.Errorf("bin %d: %+v", k, b)
		}
	}
	if got := Calibration(y[:3], p[:3], 10); len(got) != 3 {
		t.Errorf("3 rows in 10 bins: %d bins", len(got))
	}
	if Calibration(y, p[:5], 10) != nil || Calibration(y, p, 0) != nil {
		t.Errorf("bad input did not give nil")
	}
}
