package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"time"

	"reclaim"
)

// ModelRecord is one registered version of a recovery model (package valuation). Versions of a
// name count from 1; exactly one version of each name is active, the latest saved unless another
// was activated.
type ModelRecord struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Version    int       `json:"version"`
	FeatureSet string    `json:"feature_set"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
	// MetricsJSON is the model's summary as JSON (valuation.ModelSummary), stored beside the file
	// so that listing models does not read their files.
	MetricsJSON json.RawMessage `json:"metrics"`
	// SHA256 is the hex SHA-256 of File and Size its length in bytes.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Active bool   `json:"active"`
	// File is the model file; only GetModel fills it.
	File []byte `json:"-"`
}

// NewModel is a model version to register.
type NewModel struct {
	// Name is the model's name: 1-64 letters, digits, '.', '_' or '-'.
	Name string
	// FeatureSet names the feature set the model reads ("cn-v1").
	FeatureSet string
	// CreatedBy names who trained it ("cli:alice", "demo").
	CreatedBy string
	// MetricsJSON is the model's summary; it must be a JSON object.
	MetricsJSON []byte
	// File is the model file (valuation.RecoveryModel.Save).
	File []byte
}

var modelNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ValidModelName reports whether name is a valid model name.
func ValidModelName(name string) bool { return modelNameRE.MatchString(name) }

const modelColumns = `id, name, version, feature_set, created_at, created_by, metrics_json, sha256, length(file), active`

func scanModel(row rowScanner, m *ModelRecord) error {
	var metrics string
	if err := row.Scan(&m.ID, &m.Name, &m.Version, &m.FeatureSet, instantScan{&m.CreatedAt}, &m.CreatedBy, &metrics, &m.SHA256,
		&m.Size, boolScan{&m.Active}); err != nil {
		return err
	}
	m.MetricsJSON = json.RawMessage(metrics)
	return nil
}

// SaveModel registers a new version of the named model (one more than its latest; 1 for a new
// name), makes it the active version, and returns its record (without the file). The file's
// SHA-256 is computed here. An invalid name, an empty file or summary that is not a JSON object
// is EINVALID.
func (d *DB) SaveModel(ctx context.Context, nm NewModel) (ModelRecord, error) {
	fields := map[string]string{}
	if !ValidModelName(nm.Name) {
		fields["name"] = "1-64 letters, digits, '.', '_' or '-'"
	}
	if nm.FeatureSet == "" {
		fields["feature_set"] = "required"
	}
	if len(nm.File) == 0 {
		fields["file"] = "required"
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(nm.MetricsJSON, &obj) != nil {
		fields["metrics"] = "must be a JSON object"
	}
	if len(fields) > 0 {
		return ModelRecord{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "invalid model", Fields: fields}
	}
	if nm.CreatedBy == "" {
		nm.CreatedBy = "system"
	}
	sum := sha256.Sum256(nm.File)
	rec := ModelRecord{Name: nm.Name, FeatureSet: nm.FeatureSet, CreatedAt: d.nowUTC(), CreatedBy: nm.CreatedBy,
		MetricsJSON: json.RawMessage(nm.MetricsJSON), SHA256: hex.EncodeToString(sum[:]), Size: int64(len(nm.File)), Active: true}
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var latest sql.NullInt64
		if err := tx.QueryRow(ctx, `SELECT MAX(version) FROM models WHERE name = ?`, nm.Name).Scan(&latest); err != nil {
			return err
		}
		rec.Version = int(latest.Int64) + 1
		if _, err := tx.Exec(ctx, `UPDATE models SET active = ? WHERE name = ? AND active = ?`, false, nm.Name, true); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO models (name, version, feature_set, created_at, created_by, metrics_json, file, sha256, active)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, rec.Name, rec.Version, rec.FeatureSet, d.instant(rec.CreatedAt),
			rec.CreatedBy, string(nm.MetricsJSON), nm.File, rec.SHA256, true).Scan(&rec.ID)
	})
	if err != nil {
		return ModelRecord{}, dbError(err, "saving model "+nm.Name)
	}
	return rec, nil
}

// ListModels returns every registered model version without its file, by name and then newest
// version first.
func (d *DB) ListModels(ctx context.Context) ([]ModelRecord, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+modelColumns+` FROM models ORDER BY name, version DESC`)
	if err != nil {
		return nil, dbError(err, "listing models")
	}
	defer rows.Close()
	out := []ModelRecord{}
	for rows.Next() {
		var m ModelRecord
		if err := scanModel(rows, &m); err != nil {
			return nil, dbError(err, "listing models")
		}
		out = append(out, m)
	}
	return out, dbError(rows.Err(), "listing models")
}

// GetModel returns a model version with its file: the given version, or the active one when
// version is 0. ENOTFOUND when there is none; EINTERNAL when the stored file does not match its
// stored SHA-256 (the row is corrupted).
func (d *DB) GetModel(ctx context.Context, name string, version int) (ModelRecord, error) {
	q, args := `SELECT `+modelColumns+`, file FROM models WHERE name = ? AND version = ?`, []any{name, version}
	if version == 0 {
		q, args = `SELECT `+modelColumns+`, file FROM models WHERE name = ? AND active = ?`, []any{name, true}
	}
	var m ModelRecord
	err := d.r.QueryRowContext(ctx, d.rebind(q), args...).Scan(&m.ID, &m.Name, &m.Version, &m.FeatureSet, instantScan{&m.CreatedAt},
		&m.CreatedBy, (*rawText)(&m.MetricsJSON), &m.SHA256, &m.Size, boolScan{&m.Active}, &m.File)
	if err == sql.ErrNoRows {
		if version == 0 {
			return m, reclaim.Errorf(reclaim.ENOTFOUND, "no model named %q", name)
		}
		return m, reclaim.Errorf(reclaim.ENOTFOUND, "model %q has no version %d", name, version)
	}
	if err != nil {
		return m, dbError(err, "reading model "+name)
	}
	if sum := sha256.Sum256(m.File); hex.EncodeToString(sum[:]) != m.SHA256 {
		return m, reclaim.Errorf(reclaim.EINTERNAL, "the stored file of model %s version %d does not match its SHA-256: it is corrupted", name, m.Version)
	}
	return m, nil
}

// ActivateModel makes the given version the active version of its name. ENOTFOUND when it does not
// exist.
func (d *DB) ActivateModel(ctx context.Context, name string, version int) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM models WHERE name = ? AND version = ?`, name, version).Scan(&one); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "model %q has no version %d", name, version)
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE models SET active = ? WHERE name = ? AND active = ?`, false, name, true); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE models SET active = ? WHERE name = ? AND version = ?`, true, name, version)
		return err
	})
	return dbError(err, "activating model "+name)
}

// rawText scans a TEXT column into a json.RawMessage.
type rawText json.RawMessage

// Scan implements sql.Scanner: TEXT or bytes, NULL as empty.
func (r *rawText) Scan(src any) error {
	var s string
	if err := (textScan{&s}).Scan(src); err != nil {
		return err
	}
	*r = rawText(s)
	return nil
}
