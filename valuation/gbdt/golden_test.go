package gbdt

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden is the golden file's content: a tiny model's predictions on fixed rows.
type golden struct {
	Rows        [][]jfloat `json:"rows"`
	Margins     []jfloat   `json:"margins"`
	Predictions []jfloat   `json:"predictions"`
}

// TestGoldenPredictions pins a tiny model's predictions so that a change to training or scoring
// shows up as a diff. Run with -update to accept new values.
func TestGoldenPredictions(t *testing.T) {
	d := mixedData(41, 500)
	p := DefaultParams()
	p.Trees, p.MaxDepth, p.Subsample, p.ColSample, p.Seed = 10, 3, 0.9, 0.8, 3
	m := mustTrain(t, p, d, nil)
	test := mixedData(42, 20)
	test.Columns[2][0] = 17 // an unseen category
	var got golden
	x := make([]float64, len(test.Features))
	for i := range test.Rows() {
		test.Row(i, x)
		got.Rows = append(got.Rows, jfloats(x))
		got.Margins = append(got.Margins, jfloat(m.PredictRaw(x)))
		got.Predictions = append(got.Predictions, jfloat(m.Predict(x)))
	}
	path := filepath.Join("testdata", "golden_predictions.json")
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenPredictions -update to create it)", err)
	}
	var want golden
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Margins) != len(got.Margins) {
		t.Fatalf("golden file has %d rows; want %d", len(want.Margins), len(got.Margins))
	}
	// A relative tolerance lets platforms that fuse multiply-adds differ in the last bits.
	for i := range got.Margins {
		for _, pair := range [][2]jfloat{{got.Margins[i], want.Margins[i]}, {got.Predictions[i], want.Predictions[i]}} {
			a, b := float64(pair[0]), float64(pair[1])
			if math.Abs(a-b) > 1e-9*math.Max(1, math.Abs(b)) {
				t.Errorf("row %d: got %v, golden %v", i, a, b)
			}
		}
	}
}
