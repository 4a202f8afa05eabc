package gbdt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// FormatVersion is the model file format this build writes and reads.
//
// A model file is one header line followed by a JSON body:
//
//	RECLAIM-GBDT <version> <body length in bytes> <SHA-256 of the body, hex>\n
//	{"objective": ..., "features": [...], "params": {...}, "base_score": ..., "trees": [...], ...}
//
// Floats that JSON cannot carry (±Inf, NaN) are written as the strings "+Inf", "-Inf", "NaN".
const FormatVersion = 2

// oldestReadable is the oldest format version this build still reads: version 1 files predate
// Params.CatSupport and read as CatSupport 0, which is how they were trained.
const oldestReadable = 1

// fileMagic starts every model file.
const fileMagic = "RECLAIM-GBDT"

// maxBodyBytes bounds the body a header may announce.
const maxBodyBytes = 1 << 31

// jfloat is a float64 that survives JSON, non-finite values included.
type jfloat float64

// MarshalJSON writes finite values as numbers and the rest as strings.
func (f jfloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *jfloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = jfloat(math.NaN())
		return nil
	case `"+Inf"`:
		*f = jfloat(math.Inf(1))
		return nil
	case `"-Inf"`:
		*f = jfloat(math.Inf(-1))
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("bad number %.40q", b)
	}
	*f = jfloat(v)
	return nil
}

type fileModel struct {
	Objective     Objective         `json:"objective"`
	Features      []Feature         `json:"features"`
	Params        Params            `json:"params"`
	BaseScore     jfloat            `json:"base_score"`
	BestIteration int               `json:"best_iteration"`
	Trees         []fileTree        `json:"trees"`
	Metrics       map[string]jfloat `json:"metrics,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// fileTree is a tree in columns; categorical splits list their nodes and code sets apart.
type fileTree struct {
	Feature     []int32    `json:"feature"`
	Threshold   []jfloat   `json:"threshold"`
	Left        []int32    `json:"left"`
	Right       []int32    `json:"right"`
	DefaultLeft []bool     `json:"default_left"`
	Value       []jfloat   `json:"value"`
	Cover       []jfloat   `json:"cover"`
	Gain        []jfloat   `json:"gain"`
	CatNodes    []int32    `json:"cat_nodes,omitempty"`
	CatSets     [][]uint32 `json:"cat_sets,omitempty"`
}

func jfloats(v []float64) []jfloat {
	out := make([]jfloat, len(v))
	for i, x := range v {
		out[i] = jfloat(x)
	}
	return out
}

// WriteTo writes the model file (see FormatVersion) to w and returns the bytes written.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	fm := fileModel{
		Objective: m.objective, Features: m.features, Params: m.params, BaseScore: jfloat(m.base),
		BestIteration: m.best, Labels: m.Info.Labels,
	}
	if len(m.Info.Metrics) > 0 {
		fm.Metrics = make(map[string]jfloat, len(m.Info.Metrics))
		for k, v := range m.Info.Metrics {
			fm.Metrics[k] = jfloat(v)
		}
	}
	fm.Trees = make([]fileTree, len(m.trees))
	for i := range m.trees {
		t := &m.trees[i]
		ft := fileTree{
			Feature: t.feature, Threshold: jfloats(t.threshold), Left: t.left, Right: t.right,
			DefaultLeft: t.defaultLeft, Value: jfloats(t.value), Cover: jfloats(t.cover), Gain: jfloats(t.gain),
		}
		for n, s := range t.cats {
			if s != nil {
				ft.CatNodes = append(ft.CatNodes, int32(n))
				ft.CatSets = append(ft.CatSets, setCodes(s))
			}
		}
		fm.Trees[i] = ft
	}
	body, err := json.Marshal(fm)
	if err != nil {
		return 0, fmt.Errorf("gbdt: encoding the model: %w", err)
	}
	sum := sha256.Sum256(body)
	header := fmt.Sprintf("%s %d %d %s\n", fileMagic, FormatVersion, len(body), hex.EncodeToString(sum[:]))
	n1, err := io.WriteString(w, header)
	if err != nil {
		return int64(n1), err
	}
	n2, err := w.Write(body)
	return int64(n1 + n2), err
}

// ReadModel reads a model file written by WriteTo, reading exactly the file's bytes from r.
// It fails, without panicking, on files of another format version (the error names both
// versions), checksum mismatches, truncated files, garbage and models that are not well formed
// (a tree naming a feature the model does not have, a malformed tree, bad parameters).
func ReadModel(r io.Reader) (*Model, error) {
	line, err := readHeaderLine(r)
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(string(line))
	if len(fields) == 0 || fields[0] != fileMagic {
		return nil, errors.New("gbdt: not a Reclaim GBDT model file (bad magic)")
	}
	if len(fields) < 2 {
		return nil, errors.New("gbdt: model header has no format version")
	}
	version, err := strconv.Atoi(fields[1])
	if err != nil {
		return nil, fmt.Errorf("gbdt: model header has a bad format version %.20q", fields[1])
	}
	if version < oldestReadable || version > FormatVersion {
		return nil, fmt.Errorf("gbdt: the model file is format version %d; this build reads versions %d to %d", version, oldestReadable, FormatVersion)
	}
	if len(fields) != 4 {
		return nil, errors.New("gbdt: malformed version-1 model header (want magic, version, length, checksum)")
	}
	size, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil || size < 0 || size > maxBodyBytes {
		return nil, fmt.Errorf("gbdt: model header has a bad body length %.20q", fields[2])
	}
	want, err := hex.DecodeString(fields[3])
	if err != nil || len(want) != sha256.Size {
		return nil, errors.New("gbdt: model header has a malformed SHA-256 checksum")
	}
	var buf bytes.Buffer
	got, err := io.Copy(&buf, io.LimitReader(r, size))
	if err != nil {
		return nil, fmt.Errorf("gbdt: reading the model body: %w", err)
	}
	if got < size {
		return nil, fmt.Errorf("gbdt: model file truncated: the body has %d of %d bytes", got, size)
	}
	body := buf.Bytes()
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], want) {
		return nil, errors.New("gbdt: model file checksum mismatch: the file is corrupted")
	}
	var fm fileModel
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fm); err != nil {
		return nil, fmt.Errorf("gbdt: decoding the model body: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("gbdt: decoding the model body: data after the model")
	}
	return fromFile(&fm)
}

// maxHeaderBytes bounds the header line.
const maxHeaderBytes = 256

// readHeaderLine reads up to and including the first newline, one byte at a time so that r is
// not read past the model.
func readHeaderLine(r io.Reader) ([]byte, error) {
	line := make([]byte, 0, 128)
	var b [1]byte
	for empty := 0; ; {
		n, err := r.Read(b[:])
		if n == 0 && err == nil {
			if empty++; empty > 100 {
				return nil, fmt.Errorf("gbdt: reading the model header: %w", io.ErrNoProgress)
			}
			continue
		}
		empty = 0
		if n == 1 {
			if b[0] == '\n' {
				return line, nil
			}
			line = append(line, b[0])
			if len(line) > maxHeaderBytes || !bytes.HasPrefix([]byte(fileMagic), line) && !bytes.HasPrefix(line, []byte(fileMagic)) {
				return nil, errors.New("gbdt: not a Reclaim GBDT model file (bad magic)")
			}
			continue
		}
		if err == io.EOF {
			if len(line) == 0 {
				return nil, errors.New("gbdt: empty model file")
			}
			return nil, errors.New("gbdt: model file truncated in its header line")
		}
		if err != nil {
			return nil, fmt.Errorf("gbdt: reading the model header: %w", err)
		}
	}
}

// fromFile checks a decoded model and builds it.
func fromFile(fm *fileModel) (*Model, error) {
	if !fm.Objective.Valid() {
		return nil, fmt.Errorf("gbdt: model has unknown objective %q", fm.Objective)
	}
	if fm.Params.Objective != fm.Objective {
		return nil, fmt.Errorf("gbdt: model objective %q differs from its parameters' %q", fm.Objective, fm.Params.Objective)
	}
	if err := fm.Params.Validate(); err != nil {
		return nil, fmt.Errorf("gbdt: model parameters: %w", err)
	}
	F := len(fm.Features)
	if F == 0 {
		return nil, errors.New("gbdt: model has no features")
	}
	names := make(map[string]bool, F)
	for j, f := range fm.Features {
		if f.Name == "" || names[f.Name] {
			return nil, fmt.Errorf("gbdt: model feature %d has an empty or repeated name %q", j, f.Name)
		}
		names[f.Name] = true
		if f.Kind != Numeric && f.Kind != Categorical {
			return nil, fmt.Errorf("gbdt: model feature %q has unknown kind %d", f.Name, f.Kind)
		}
		if f.Monotone < -1 || f.Monotone > 1 || (f.Kind == Categorical && f.Monotone != 0) {
			return nil, fmt.Errorf("gbdt: model feature %q has a bad monotone constraint %d", f.Name, f.Monotone)
		}
	}
	base := float64(fm.BaseScore)
	if math.IsNaN(base) || math.IsInf(base, 0) {
		return nil, errors.New("gbdt: model base score is not finite")
	}
	if fm.BestIteration < 0 || fm.BestIteration > len(fm.Trees) {
		return nil, fmt.Errorf("gbdt: model best iteration %d is out of range", fm.BestIteration)
	}
	m := &Model{features: fm.Features, objective: fm.Objective, params: fm.Params, base: base, best: fm.BestIteration}
	m.params.Threads = 0
	m.Info.Labels = fm.Labels
	if fm.Metrics != nil {
		m.Info.Metrics = make(map[string]float64, len(fm.Metrics))
		for k, v := range fm.Metrics {
			m.Info.Metrics[k] = float64(v)
		}
	}
	m.trees = make([]tree, len(fm.Trees))
	for i := range fm.Trees {
		t, err := treeFromFile(&fm.Trees[i], fm.Features)
		if err != nil {
			return nil, fmt.Errorf("gbdt: model tree %d: %w", i, err)
		}
		m.trees[i] = t
	}
	if err := m.compile(); err != nil {
		return nil, err
	}
	return m, nil
}

// maxFileTreeDepth bounds the depth of a tree read from a file.
const maxFileTreeDepth = 64

func treeFromFile(ft *fileTree, feats []Feature) (tree, error) {
	n := len(ft.Feature)
	if n == 0 {
		return tree{}, errors.New("no nodes")
	}
	if len(ft.Threshold) != n || len(ft.Left) != n || len(ft.Right) != n || len(ft.DefaultLeft) != n ||
		len(ft.Value) != n || len(ft.Cover) != n || len(ft.Gain) != n {
		return tree{}, errors.New("node columns have different lengths")
	}
	if len(ft.CatNodes) != len(ft.CatSets) {
		return tree{}, errors.New("categorical nodes and sets differ in number")
	}
	t := newTree(n)
	copy(t.feature, ft.Feature)
	copy(t.left, ft.Left)
	copy(t.right, ft.Right)
	copy(t.defaultLeft, ft.DefaultLeft)
	for i := range n {
		t.threshold[i] = float64(ft.Threshold[i])
		t.value[i] = float64(ft.Value[i])
		t.cover[i] = float64(ft.Cover[i])
		t.gain[i] = float64(ft.Gain[i])
	}
	for k, node := range ft.CatNodes {
		if node < 0 || int(node) >= n || t.cats[node] != nil {
			return tree{}, fmt.Errorf("categorical node %d is out of range or repeated", node)
		}
		for j, c := range ft.CatSets[k] {
			if c >= 1<<16 || (j > 0 && c <= ft.CatSets[k][j-1]) {
				return tree{}, fmt.Errorf("node %d: category codes must be ascending and below 65536", node)
			}
		}
		t.cats[node] = codeSet(ft.CatSets[k])
	}
	parents := make([]int, n)
	depth := make([]int, n)
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	for i := range n {
		if !finite(t.value[i]) || !finite(t.cover[i]) || t.cover[i] < 0 || !finite(t.gain[i]) || math.IsNaN(t.threshold[i]) {
			return tree{}, fmt.Errorf("node %d: value, cover and gain must be finite, cover >= 0 and the threshold a number", i)
		}
		f := t.feature[i]
		if f < 0 {
			if f != -1 || t.left[i] != -1 || t.right[i] != -1 || t.cats[i] != nil {
				return tree{}, fmt.Errorf("node %d: a leaf has feature -1, no children and no category set", i)
			}
			continue
		}
		if int(f) >= len(feats) {
			return tree{}, fmt.Errorf("node %d: feature %d does not exist; the model has %d features", i, f, len(feats))
		}
		if feats[f].Kind == Categorical {
			if t.cats[i] == nil {
				return tree{}, fmt.Errorf("node %d: split on categorical feature %q has no category set", i, feats[f].Name)
			}
		} else if t.cats[i] != nil {
			return tree{}, fmt.Errorf("node %d: split on numeric feature %q has a category set", i, feats[f].Name)
		}
		l, r := int(t.left[i]), int(t.right[i])
		if l <= i || r <= i || l >= n || r >= n || l == r {
			return tree{}, fmt.Errorf("node %d: children must be distinct nodes after it", i)
		}
		parents[l]++
		parents[r]++
		depth[l], depth[r] = depth[i]+1, depth[i]+1
		if depth[l] > maxFileTreeDepth {
			return tree{}, fmt.Errorf("deeper than %d", maxFileTreeDepth)
		}
	}
	for i := 1; i < n; i++ {
		if parents[i] != 1 {
			return tree{}, fmt.Errorf("node %d has %d parents; every node but the root has one", i, parents[i])
		}
	}
	return t, nil
}
