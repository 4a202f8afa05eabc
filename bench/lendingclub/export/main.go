// Command export writes the LendingClub recovery data set as the valuation package sees it, for
// the peer learners of bench/lendingclub/peers.py: the "lendingclub-v1" feature matrix, the
// labels, the 5 fold ids and the static-pool baseline's out-of-fold predictions, as CSV.
//
// Usage (from the repository root):
//
//	go run ./bench/lendingclub/export [-data ../shared/data/lendingclub/chargedoff_dev.csv]
//	    [-mapping mappings/lendingclub.yaml] [-out DIR]
//
// It prints the output directory (a new temporary one unless -out is given), which holds:
//
//	features.csv  one column per feature in FeatureSet order, header = feature names, empty = missing
//	labels.csv    id, fold, ead, recoveries, rate (capped to [0,1]), rate_ge_10, material, segment,
//	              baseline_rate, baseline_material, baseline_high (static pool fitted on the other folds)
//	meta.json     feature set name and fingerprint, each feature's kind and number of levels
//
// The data file is read where it lies and never copied into the repository.
package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"reclaim/valuation"
	"reclaim/valuation/gbdt"
)

func main() {
	data := flag.String("data", "../shared/data/lendingclub/chargedoff_dev.csv", "the LendingClub charged-off file")
	mapping := flag.String("mapping", "mappings/lendingclub.yaml", "the tape mapping of the file")
	out := flag.String("out", "", "output directory (default: a new temporary directory)")
	flag.Parse()
	dir, err := run(*data, *mapping, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "export:", err)
		os.Exit(1)
	}
	fmt.Println(dir)
}

func run(data, mapping, out string) (string, error) {
	fs := valuation.LendingClub()
	t, err := valuation.BuildLendingClub(data, mapping, fs, valuation.TableOptions{Folds: valuation.DefaultFolds})
	if err != nil {
		return "", err
	}
	if out == "" {
		if out, err = os.MkdirTemp("", "reclaim-lendingclub-"); err != nil {
			return "", err
		}
	} else if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	if err := writeFeatures(filepath.Join(out, "features.csv"), t); err != nil {
		return "", err
	}
	if err := writeLabels(filepath.Join(out, "labels.csv"), t); err != nil {
		return "", err
	}
	return out, writeMeta(filepath.Join(out, "meta.json"), t)
}

func num(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func writeCSV(path string, header []string, rows int, row func(i int, rec []string)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(header)
	rec := make([]string, len(header))
	for i := 0; i < rows; i++ {
		row(i, rec)
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeFeatures(path string, t *valuation.Table) error {
	var header []string
	for _, s := range t.FeatureSet.Specs() {
		header = append(header, s.Name)
	}
	return writeCSV(path, header, t.Rows(), func(i int, rec []string) {
		for j, c := range t.Columns {
			rec[j] = num(c[i])
		}
	})
}

func writeLabels(path string, t *valuation.Table) error {
	high, _ := t.Label(valuation.LabelHigh)
	material, _ := t.Label(valuation.LabelMaterial)
	base := t.BaselineOOF(valuation.DefaultMinSegmentLoans)
	header := []string{"id", "fold", "ead", "recoveries", "rate", "rate_ge_10", "material", "segment",
		"baseline_rate", "baseline_material", "baseline_high"}
	return writeCSV(path, header, t.Rows(), func(i int, rec []string) {
		rec[0] = t.IDs[i]
		rec[1] = strconv.Itoa(t.Folds[i])
		rec[2] = num(t.Exposure[i])
		rec[3] = num(t.Recovered[i])
		rec[4] = num(t.Rate[i])
		rec[5] = num(high[i])
		rec[6] = num(material[i])
		rec[7] = t.Segments[i]
		rec[8] = num(base[i].Rate)
		rec[9] = num(base[i].MaterialShare)
		rec[10] = num(base[i].HighShare)
	})
}

type metaFeature struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"` // "numeric" or "categorical"
	Levels int    `json:"levels,omitempty"`
}

func writeMeta(path string, t *valuation.Table) error {
	m := struct {
		FeatureSet  string        `json:"feature_set"`
		Fingerprint string        `json:"fingerprint"`
		Rows        int           `json:"rows"`
		Folds       int           `json:"folds"`
		Features    []metaFeature `json:"features"`
	}{t.FeatureSet.Name(), t.FeatureSet.Fingerprint(), t.Rows(), t.NumFolds, nil}
	for _, s := range t.FeatureSet.Specs() {
		k := "numeric"
		if s.Kind == gbdt.Categorical {
			k = "categorical"
		}
		m.Features = append(m.Features, metaFeature{s.Name, k, len(s.Levels)})
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
