package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"reclaim"
	"reclaim/textnorm"
)

const userSelect = `SELECT id, username, display_name, role, password_hash, disabled, created_at, must_change_password, credential_epoch FROM users`

const userColumnsU = `u.id, u.username, u.display_name, u.role, u.password_hash, u.disabled, u.created_at, u.must_change_password, u.credential_epoch`

func scanUser(row rowScanner) (reclaim.User, error) {
	var u reclaim.User
	var role string
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &role, &u.PasswordHash, boolScan{&u.Disabled}, instantScan{&u.CreatedAt},
		boolScan{&u.MustChangePassword}, &u.CredentialEpoch)
	u.Role = reclaim.Role(role)
	return u, err
}

// ValidUsername reports whether name is an acceptable account name: 2 to 64 ASCII letters,
// digits, '.', '_' or '-'. ASCII only, so that "unique regardless of case" (the lower(username)
// index) means the same on both engines, and no look-alike letters from other scripts.
func ValidUsername(name string) bool {
	if len(name) < 2 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validUser(u reclaim.User) error {
	fields := map[string]string{}
	if !ValidUsername(u.Username) {
		fields["username"] = "2-64 letters, digits, . _ -"
	}
	if err := textnorm.Check(u.Username); err != nil {
		fields["username"] = err.Error()
	}
	if err := textnorm.Check(u.DisplayName); err != nil {
		fields["display_name"] = err.Error()
	}
	if !u.Role.Valid() {
		fields["role"] = "unknown role " + string(u.Role)
	}
	if u.PasswordHash == "" {
		fields["password"] = "required"
	}
	if len(u.DisplayName) > 200 || !cleanText(u.DisplayName) {
		fields["display_name"] = "at most 200 bytes of text (no NUL, valid UTF-8)"
	}
	if len(fields) > 0 {
		return &reclaim.Error{Code: reclaim.EINVALID, Message: "invalid account", Fields: fields}
	}
	return nil
}

// cleanText reports whether s is storable text on both engines: valid UTF-8 without NUL
// (PostgreSQL refuses both; SQLite would store them).
func cleanText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// accountEvent writes one account audit row inside tx.
func (d *DB) accountEvent(ctx context.Context, tx *Tx, at time.Time, action string, u reclaim.User, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO account_events (at, actor, action, user_id, username, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		d.instant(at), reclaim.Actor(ctx), action, u.ID, u.Username, string(b))
	return err
}

// CreateUser stores a new account and records account.created (actor: reclaim.Actor(ctx)) in the
// same transaction; ECONFLICT when the username is taken in any letter case.
func (d *DB) CreateUser(ctx context.Context, u reclaim.User) (reclaim.User, error) {
	if err := validUser(u); err != nil {
		return u, err
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Username
	}
	u.CreatedAt = d.nowUTC()
	u.CredentialEpoch = 1
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var taken int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE lower(username) = lower(?)`, u.Username).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return reclaim.Errorf(reclaim.ECONFLICT, "the username %q is taken", u.Username)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO users (username, display_name, role, password_hash, disabled, created_at, must_change_password, credential_epoch)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, u.Username, u.DisplayName, string(u.Role), u.PasswordHash, u.Disabled,
			d.instant(u.CreatedAt), u.MustChangePassword, u.CredentialEpoch).Scan(&u.ID); err != nil {
			return err
		}
		return d.accountEvent(ctx, tx, u.CreatedAt, reclaim.AccountCreated, u, map[string]any{"role": u.Role,
			"display_name": u.DisplayName, "disabled": u.Disabled, "temporary_password": u.MustChangePassword})
	})
	if isUniqueViolation(err) || reclaim.ErrorCode(err) == reclaim.ECONFLICT {
		return u, reclaim.Errorf(reclaim.ECONFLICT, "the username %q is taken", u.Username)
	}
	return u, dbError(err, "creating a user")
}

func (d *DB) oneUser(ctx context.Context, where string, arg any) (reclaim.User, error) {
	u, err := scanUser(d.r.QueryRowContext(ctx, d.rebind(userSelect+` WHERE `+where), arg))
	if err == sql.ErrNoRows {
		return u, reclaim.Errorf(reclaim.ENOTFOUND, "user not found")
	}
	return u, dbError(err, "reading a user")
}

// UserByID returns the account with this id, or ENOTFOUND.
func (d *DB) UserByID(ctx context.Context, id int64) (reclaim.User, error) {
	return d.oneUser(ctx, `id = ?`, id)
}

// UserByUsername returns the account with this username in any letter case, or ENOTFOUND.
func (d *DB) UserByUsername(ctx context.Context, username string) (reclaim.User, error) {
	if !ValidUsername(username) { // cannot exist; also keeps odd bytes away from the engines
		return reclaim.User{}, reclaim.Errorf(reclaim.ENOTFOUND, "user not found")
	}
	return d.oneUser(ctx, `lower(username) = lower(?)`, username)
}

// ListUsers returns every account by username.
func (d *DB) ListUsers(ctx context.Context) ([]reclaim.User, error) {
	rows, err := d.r.QueryContext(ctx, userSelect+` ORDER BY username`)
	if err != nil {
		return nil, dbError(err, "listing users")
	}
	defer rows.Close()
	var out []reclaim.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, dbError(err, "listing users")
		}
		out = append(out, u)
	}
	return out, dbError(rows.Err(), "listing users")
}

// UpdateUser saves the display name, role, password hash, must-change flag and disabled flag of
// an account, and records each change as an account event in the same transaction (actor:
// reclaim.Actor(ctx)). A new password hash, a new role, disabling or enabling advance the
// credential epoch (every session of the user ends) and revoke the user's API tokens. A new hash
// with MustChangePassword set is recorded as account.password_set (temporary), without as
// account.password_changed.
func (d *DB) UpdateUser(ctx context.Context, u reclaim.User) (reclaim.User, error) {
	if err := validUser(u); err != nil {
		return u, err
	}
	defer d.tokens.invalidate() // after the commit: no lookup that began before it caches the old answer
	err := d.WriteTx(ctx, func(tx *Tx) error {
		old, err := scanUser(tx.QueryRow(ctx, userSelect+` WHERE id = ?`, u.ID))
		if err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "user %d not found", u.ID)
		}
		if err != nil {
			return err
		}
		if old.Username != u.Username {
			return reclaim.Errorf(reclaim.EINVALID, "a username cannot be changed")
		}
		at := d.nowUTC()
		type change struct {
			action string
			detail map[string]any
		}
		var changes []change
		revoke := "" // why the tokens end, when they do
		if old.DisplayName != u.DisplayName {
			changes = append(changes, change{reclaim.AccountRenamed, map[string]any{"from": old.DisplayName, "to": u.DisplayName}})
		}
		if old.Role != u.Role {
			changes = append(changes, change{reclaim.AccountRoleChanged, map[string]any{"from": old.Role, "to": u.Role}})
			revoke = "role changed"
		}
		if old.PasswordHash != u.PasswordHash {
			if u.MustChangePassword {
				changes = append(changes, change{reclaim.AccountPasswordSet, map[string]any{"temporary": true}})
				revoke = "password reset"
			} else {
				changes = append(changes, change{reclaim.AccountPasswordChanged, map[string]any{"temporary": false}})
				revoke = "password changed"
			}
		} else if old.MustChangePassword != u.MustChangePassword {
			changes = append(changes, change{reclaim.AccountPasswordExpired, map[string]any{"must_change_password": u.MustChangePassword}})
		}
		if old.Disabled != u.Disabled {
			if u.Disabled {
				changes = append(changes, change{reclaim.AccountDisabled, nil})
				revoke = "account disabled"
			} else {
				changes = append(changes, change{reclaim.AccountEnabled, nil})
				if revoke == "" {
					revoke = "account enabled" // nothing should be live; make sure of it
				}
			}
		}
		epoch := old.CredentialEpoch
		if revoke != "" {
			epoch++
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET display_name = ?, role = ?, password_hash = ?, disabled = ?, must_change_password = ?,
			credential_epoch = ? WHERE id = ?`, u.DisplayName, string(u.Role), u.PasswordHash, u.Disabled, u.MustChangePassword, epoch, u.ID); err != nil {
			return err
		}
		if err := bumpAuthEpoch(ctx, tx); err != nil { // the cached user is this row: other nodes drop it
			return err
		}
		if revoke != "" {
			if err := d.revokeAll(ctx, tx, at, old, revoke); err != nil {
				return err
			}
		}
		for _, c := range changes {
			if err := d.accountEvent(ctx, tx, at, c.action, old, c.detail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return u, dbError(err, "updating a user")
	}
	return d.UserByID(ctx, u.ID)
}

// revokeAll revokes every live token of u, recording each.
func (d *DB) revokeAll(ctx context.Context, tx *Tx, at time.Time, u reclaim.User, reason string) error {
	rows, err := tx.Query(ctx, `SELECT id, name FROM api_tokens WHERE user_id = ? AND revoked = ? ORDER BY id`, u.ID, false)
	if err != nil {
		return err
	}
	type tok struct {
		id   int64
		name string
	}
	var live []tok
	for rows.Next() {
		var t tok
		if err := rows.Scan(&t.id, &t.name); err != nil {
			rows.Close()
			return err
		}
		live = append(live, t)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, t := range live {
		if _, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked = ?, revoked_at = ?, revoked_reason = ? WHERE id = ?`,
			true, d.instant(at), reason, t.id); err != nil {
			return err
		}
		if err := d.accountEvent(ctx, tx, at, reclaim.AccountTokenRevoked, u, map[string]any{"token_id": t.id, "name": t.name, "reason": reason}); err != nil {
			return err
		}
	}
	return nil
}

// CreateToken stores the SHA-256 of a new API token for a user and records account.token_created.
func (d *DB) CreateToken(ctx context.Context, userID int64, name string, tokenHash []byte) (int64, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 || !cleanText(name) {
		return 0, &reclaim.Error{Code: reclaim.EINVALID, Message: "invalid token name", Fields: map[string]string{"name": "1-100 bytes"}}
	}
	if len(tokenHash) != sha256.Size {
		return 0, reclaim.Errorf(reclaim.EINVALID, "a token hash is a SHA-256")
	}
	var id int64
	err := d.WriteTx(ctx, func(tx *Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, userSelect+` WHERE id = ?`, userID))
		if err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "user %d not found", userID)
		}
		if err != nil {
			return err
		}
		at := d.nowUTC()
		if err := tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, revoked, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			userID, name, tokenHash, false, d.instant(at)).Scan(&id); err != nil {
			return err
		}
		return d.accountEvent(ctx, tx, at, reclaim.AccountTokenCreated, u, map[string]any{"token_id": id, "name": name})
	})
	return id, dbError(err, "creating a token")
}

// UserByToken returns the owner of an unrevoked token with this SHA-256, or ENOTFOUND. A
// token verified within Options.TokenCacheTTL is answered from memory; revoking a token or
// changing a user through this handle empties that cache at once, and through another handle
// (another node, the CLI) within tokenEpochEvery (auth_epoch).
func (d *DB) UserByToken(ctx context.Context, tokenHash []byte) (reclaim.User, error) {
	var h [32]byte
	cacheable := d.tokens != nil && len(tokenHash) == len(h)
	var gen uint64
	if cacheable {
		d.tokens.checkEpoch(ctx, d.authEpoch)
		copy(h[:], tokenHash)
		var u reclaim.User
		var ok bool
		if u, ok, gen = d.tokens.get(h); ok {
			return u, nil
		}
	}
	u, err := scanUser(d.hotRow(ctx, `SELECT `+userColumnsU+`
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND t.revoked = ?`, tokenHash, false))
	if err == sql.ErrNoRows {
		return u, reclaim.Errorf(reclaim.ENOTFOUND, "unknown token")
	}
	if err == nil && cacheable && !u.Disabled {
		d.tokens.put(h, u, gen)
	}
	return u, dbError(err, "reading a token")
}

// authEpoch reads the API-token change counter (migration 00031).
func (d *DB) authEpoch(ctx context.Context) (int64, error) {
	var n int64
	err := d.hotRow(ctx, `SELECT n FROM auth_epoch WHERE id = 1`).Scan(&n)
	return n, err
}

// bumpAuthEpoch adds one to the API-token change counter in tx: every node's token cache is
// emptied within tokenEpochEvery of the commit.
func bumpAuthEpoch(ctx context.Context, tx *Tx) error {
	_, err := tx.Exec(ctx, `UPDATE auth_epoch SET n = n + 1 WHERE id = 1`)
	return err
}

const tokenSelect = `SELECT id, user_id, name, created_at, revoked, revoked_at, revoked_reason FROM api_tokens`

func scanToken(row rowScanner) (reclaim.APIToken, error) {
	var t reclaim.APIToken
	var at time.Time
	err := row.Scan(&t.ID, &t.UserID, &t.Name, instantScan{&t.CreatedAt}, boolScan{&t.Revoked}, instantScan{&at}, textScan{&t.RevokedReason})
	if !at.IsZero() {
		t.RevokedAt = &at
	}
	return t, err
}

// ListTokens lists a user's API tokens, newest first, revoked ones included; ENOTFOUND for an
// unknown user.
func (d *DB) ListTokens(ctx context.Context, userID int64) ([]reclaim.APIToken, error) {
	if _, err := d.UserByID(ctx, userID); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, d.rebind(tokenSelect+` WHERE user_id = ? ORDER BY id DESC`), userID)
	if err != nil {
		return nil, dbError(err, "listing tokens")
	}
	defer rows.Close()
	out := []reclaim.APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, dbError(err, "listing tokens")
		}
		out = append(out, t)
	}
	return out, dbError(rows.Err(), "listing tokens")
}

// RevokeToken revokes a token and records account.token_revoked. With userID > 0 the token must
// belong to that user (ENOTFOUND otherwise); userID 0 accepts any owner (the CLI). Revoking a
// revoked token changes nothing and records nothing.
func (d *DB) RevokeToken(ctx context.Context, userID, tokenID int64, reason string) (reclaim.APIToken, error) {
	reason = strings.TrimSpace(reason)
	if !cleanText(reason) || len(reason) > 200 {
		return reclaim.APIToken{}, &reclaim.Error{Code: reclaim.EINVALID, Message: "invalid reason",
			Fields: map[string]string{"reason": "at most 200 bytes of text"}}
	}
	if reason == "" {
		reason = "revoked"
	}
	var t reclaim.APIToken
	defer d.tokens.invalidate() // after the commit: no lookup that began before it caches the old answer
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var err error
		t, err = scanToken(tx.QueryRow(ctx, tokenSelect+` WHERE id = ?`, tokenID))
		if err == sql.ErrNoRows || err == nil && userID > 0 && t.UserID != userID {
			return reclaim.Errorf(reclaim.ENOTFOUND, "token %d not found", tokenID)
		}
		if err != nil || t.Revoked {
			return err
		}
		u, err := scanUser(tx.QueryRow(ctx, userSelect+` WHERE id = ?`, t.UserID))
		if err != nil {
			return err
		}
		at := d.nowUTC()
		if _, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked = ?, revoked_at = ?, revoked_reason = ? WHERE id = ?`,
			true, d.instant(at), reason, t.ID); err != nil {
			return err
		}
		if err := bumpAuthEpoch(ctx, tx); err != nil {
			return err
		}
		t.Revoked, t.RevokedAt, t.RevokedReason = true, &at, reason
		return d.accountEvent(ctx, tx, at, reclaim.AccountTokenRevoked, u, map[string]any{"token_id": t.ID, "name": t.Name, "reason": reason})
	})
	return t, dbError(err, "revoking a token")
}

// ListAccountEvents returns account events matching the filter, newest first.
func (d *DB) ListAccountEvents(ctx context.Context, f reclaim.AccountEventFilter) ([]reclaim.AccountEvent, error) {
	if !cleanText(f.Actor) || !cleanText(f.Username) {
		return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "filters must be text (valid UTF-8, no NUL)"}
	}
	q := `SELECT id, at, actor, action, user_id, username, detail FROM account_events WHERE 1 = 1`
	var args []any
	if f.Actor != "" {
		q += ` AND actor = ?`
		args = append(args, f.Actor)
	}
	if f.Username != "" {
		q += ` AND lower(username) = lower(?)`
		args = append(args, f.Username)
	}
	q, args = d.auditWindow(q, args, f.Since, f.Until, f.Limit)
	rows, err := d.r.QueryContext(ctx, d.rebind(q), args...)
	if err != nil {
		return nil, dbError(err, "listing account events")
	}
	defer rows.Close()
	out := []reclaim.AccountEvent{}
	for rows.Next() {
		var e reclaim.AccountEvent
		if err := rows.Scan(&e.ID, instantScan{&e.At}, &e.Actor, &e.Action, &e.UserID, &e.Username, &e.Detail); err != nil {
			return nil, dbError(err, "listing account events")
		}
		out = append(out, e)
	}
	return out, dbError(rows.Err(), "listing account events")
}

// sessionKey is what the sessions table stores for a session token: its SHA-256 in hex. A copy of
// the table (a backup, a read-only replica, a leaked dump) therefore holds no usable cookie.
func sessionKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Find implements scs.Store: the data of an unexpired session.
func (d *DB) Find(token string) ([]byte, bool, error) {
	var data []byte
	var exp time.Time
	err := d.r.QueryRow(d.rebind(`SELECT data, expiry FROM sessions WHERE token = ?`), sessionKey(token)).Scan(&data, instantScan{&exp})
	if err == sql.ErrNoRows {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, dbError(err, "reading a session")
	}
	if !exp.After(d.now()) {
		return nil, false, nil
	}
	return data, true, nil
}

// Commit implements scs.Store: save a session (and now and then sweep expired ones). It runs as
// single autocommit statements, not a serializable transaction: every request of a signed-in
// user touches its session row, often many at once, and an upsert needs no more isolation. Only
// the SHA-256 of the token is stored.
func (d *DB) Commit(token string, data []byte, expiry time.Time) error {
	ctx := context.Background()
	key := sessionKey(token)
	if _, err := d.w.ExecContext(ctx, d.rebind(`INSERT INTO sessions (token, data, expiry) VALUES (?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`), key, data, d.instant(expiry)); err != nil {
		return dbError(err, "saving a session")
	}
	if key[0] == '0' { // about one commit in sixteen sweeps
		if _, err := d.w.ExecContext(ctx, d.rebind(`DELETE FROM sessions WHERE expiry < ?`), d.instant(d.nowUTC())); err != nil {
			return dbError(err, "sweeping sessions")
		}
	}
	return nil
}

// Delete implements scs.Store.
func (d *DB) Delete(token string) error {
	_, err := d.w.ExecContext(context.Background(), d.rebind(`DELETE FROM sessions WHERE token = ?`), sessionKey(token))
	return dbError(err, "deleting a session")
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.r.PingContext(ctx); err != nil {
		return reclaim.WrapError(reclaim.EUNAVAILABLE, err, "database unavailable")
	}
	return nil
}
