package gbdt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// smallModel is a quick model over mixedData with categorical and missing values.
func smallModel(t testing.TB, trees int) (*Model, *Dataset) {
	d := mixedData(21, 600)
	p := DefaultParams()
	p.Trees, p.MaxDepth, p.Seed = trees, 3, 7
	m := mustTrain(t, p, d, nil)
	m.Info.Labels = map[string]string{"dataset": "mixed", "note": "测试"}
	m.Info.Metrics["auc"] = 0.75
	return m, d
}

// signed builds a model file with a valid header for any body.
func signed(body []byte, version int) []byte {
	sum := sha256.Sum256(body)
	return append([]byte(fmt.Sprintf("%s %d %d %s\n", fileMagic, version, len(body), hex.EncodeToString(sum[:]))), body...)
}

// bodyOf splits a model file into its body.
func bodyOf(t testing.TB, file []byte) []byte {
	i := bytes.IndexByte(file, '\n')
	if i < 0 {
		t.Fatal("no header line")
	}
	return file[i+1:]
}

func TestRoundTrip(t *testing.T) {
	m, d := smallModel(t, 20)
	m.Info.Metrics["nan_metric"] = math.NaN()
	file := modelBytes(t, m)
	if !bytes.HasPrefix(file, []byte(fmt.Sprintf("RECLAIM-GBDT %d ", FormatVersion))) {
		t.Fatalf("header %q", file[:40])
	}
	got, err := ReadModel(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, modelBytes(t, got)) {
		t.Fatalf("re-written file differs")
	}
	if !reflect.DeepEqual(got.Features(), m.Features()) || got.Objective() != m.Objective() || got.NumTrees() != m.NumTrees() ||
		got.BestIteration() != m.BestIteration() || got.Params() != m.Params() || !reflect.DeepEqual(got.Info.Labels, m.Info.Labels) {
		t.Fatalf("model attributes differ after the round trip")
	}
	if !math.IsNaN(got.Info.Metrics["nan_metric"]) || got.Info.Metrics["auc"] != 0.75 {
		t.Fatalf("metrics %v", got.Info.Metrics)
	}
	a, b := predictAll(t, m, d), predictAll(t, got, d)
	x := make([]float64, len(d.Features))
	for i := range a {
		if a[i] != b[i] || m.PredictRaw(d.Row(i, x)) != got.PredictRaw(x) {
			t.Fatalf("row %d: %v before, %v after", i, a[i], b[i])
		}
	}
	if !reflect.DeepEqual(m.FeatureImportance(), got.FeatureImportance()) {
		t.Fatalf("importance differs")
	}
	// ReadModel stops at the end of the model.
	r := bytes.NewReader(append(append([]byte(nil), file...), "trailing"...))
	if _, err := ReadModel(r); err != nil || r.Len() != len("trailing") {
		t.Fatalf("read with trailing data: err %v, %d bytes left", err, r.Len())
	}
}

func TestReadModelErrors(t *testing.T) {
	m, _ := smallModel(t, 5)
	file := modelBytes(t, m)
	body := bodyOf(t, file)
	other := bytes.Replace(file, []byte(fmt.Sprintf("RECLAIM-GBDT %d ", FormatVersion)), []byte("RECLAIM-GBDT 9 "), 1)
	corrupt := append([]byte(nil), file...)
	corrupt[len(corrupt)-10] ^= 0x20
	var fm map[string]any
	if err := json.Unmarshal(body, &fm); err != nil {
		t.Fatal(err)
	}
	fm["features"] = fm["features"].([]any)[:2] // trees use features 2..4
	fewer, _ := json.Marshal(fm)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "empty"},
		{"garbage", []byte("\x00\x01garbage garbage\n{}"), "not a Reclaim GBDT model file"},
		{"other format", []byte("PK\x03\x04 zip file"), "not a Reclaim GBDT model file"},
		{"version", other, "format version 9; this build reads versions 1 to 2"},
		{"corrupt", corrupt, "checksum mismatch"},
		{"truncated body", file[:len(file)-100], "truncated"},
		{"truncated header", file[:20], "truncated"},
		{"bad length", []byte("RECLAIM-GBDT 1 -5 abcd\n"), "body length"},
		{"bad checksum", []byte("RECLAIM-GBDT 1 2 zz\n{}"), "checksum"},
		{"no trees field", signed([]byte(`{"objective":"binary:logistic"}`), 1), "parameters"},
		{"fewer features", signed(fewer, 1), "feature"},
		{"not json", signed([]byte(`{"objective":`), 1), "decoding"},
		{"two bodies", signed(append(append([]byte(nil), body...), " {}"...), 1), "data after the model"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadModel(bytes.NewReader(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadModel = %v; want an error containing %q", err, tc.want)
			}
		})
	}
	// Every truncation fails cleanly.
	for cut := 0; cut < len(file); cut += 1 + cut/7 {
		if _, err := ReadModel(bytes.NewReader(file[:cut])); err == nil {
			t.Fatalf("truncated at %d of %d bytes: no error", cut, len(file))
		}
	}
}

// TestReadModelRejectsBadTrees edits one field of a valid body at a time.
func TestReadModelRejectsBadTrees(t *testing.T) {
	m, _ := smallModel(t, 3)
	body := bodyOf(t, modelBytes(t, m))
	edits := map[string]func(tr map[string]any){
		"cycle":         func(tr map[string]any) { tr["left"].([]any)[0] = 0.0 },
		"child range":   func(tr map[string]any) { tr["right"].([]any)[0] = 999.0 },
		"feature range": func(tr map[string]any) { tr["feature"].([]any)[0] = 40.0 },
		"short column":  func(tr map[string]any) { tr["value"] = tr["value"].([]any)[1:] },
		"nan threshold": func(tr map[string]any) { tr["threshold"].([]any)[0] = "NaN" },
		"inf value":     func(tr map[string]any) { tr["value"].([]any)[len(tr["value"].([]any))-1] = "+Inf" },
		"shared child": func(tr map[string]any) {
			l := tr["left"].([]any)
			tr["right"].([]any)[1] = l[2]
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			var fm map[string]any
			if err := json.Unmarshal(body, &fm); err != nil {
				t.Fatal(err)
			}
			edit(fm["trees"].([]any)[0].(map[string]any))
			b, _ := json.Marshal(fm)
			if _, err := ReadModel(bytes.NewReader(signed(b, 1))); err == nil || !strings.Contains(err.Error(), "tree 0") {
				t.Fatalf("ReadModel = %v; want an error about tree 0", err)
			}
		})
	}
}

// FuzzReadModel: the parser never panics, and whatever it accepts predicts, explains and
// re-writes without panicking and reads back the same. Each input is tried as a whole file and
// as a body under a valid header, so that mutations reach the body parser past the checksum.
func FuzzReadModel(f *testing.F) {
	m, _ := smallModel(f, 3)
	file := modelBytes(f, m)
	body := bodyOf(f, file)
	f.Add(file)
	f.Add(file[:len(file)/2])
	f.Add(bytes.Replace(file, []byte("RECLAIM-GBDT 1"), []byte("RECLAIM-GBDT 9"), 1))
	f.Add(body)
	f.Add(signed(bytes.Replace(body, []byte(`"feature":[`), []byte(`"feature":[7,`), 1), 1))
	f.Add(signed([]byte(`{"objective":"reg:squarederror","features":[{"name":"a"}],"params":{"objective":"reg:squarederror","trees":1,"max_depth":1,"learning_rate":0.1},"base_score":0,"trees":[{"feature":[0,-1,-1],"threshold":["+Inf",0,0],"left":[1,-1,-1],"right":[2,-1,-1],"default_left":[true,false,false],"value":[0,1,2],"cover":[2,1,1],"gain":[1,0,0]}]}`), 1))
	f.Add([]byte("RECLAIM-GBDT 1 0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, file := range [][]byte{data, signed(data, FormatVersion)} {
			if m, err := ReadModel(bytes.NewReader(file)); err == nil {
				exercise(t, m)
			}
		}
	})
}

// exercise uses every read path of a model read from a file.
func exercise(t *testing.T, m *Model) {
	F := len(m.Features())
	x := make([]float64, F)
	phi := make([]float64, F+1)
	for _, v := range []float64{0, math.NaN(), 1e9, -3, 2.5} {
		for j := range x {
			x[j] = v
		}
		raw := m.PredictRaw(x)
		if err := m.Contributions(x, phi); err != nil {
			t.Fatal(err)
		}
		d := NewDataset(m.Features(), 1)
		for j := range x {
			d.Columns[j][0] = x[j]
		}
		out := make([]float64, 1)
		if err := m.PredictDatasetRaw(d, out); err != nil {
			t.Fatal(err)
		}
		if out[0] != raw && !(math.IsNaN(raw) && math.IsNaN(out[0])) {
			t.Fatalf("batch %v, single %v", out[0], raw)
		}
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadModel(&b); err != nil {
		t.Fatalf("re-read: %v", err)
	}
}
