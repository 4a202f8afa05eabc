package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"reclaim"
	"reclaim/textnorm"
)

const userSelect = `SELECT id, username, display_name, role, password_hash, disabled, created_at FROM users`

func scanUser(row rowScanner) (reclaim.User, error) {
	var u reclaim.User
	var role string
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &role, &u.PasswordHash, boolScan{&u.Disabled}, instantScan{&u.CreatedAt})
	u.Role = reclaim.Role(role)
	return u, err
}

func validUser(u reclaim.User) error {
	fields := map[string]string{}
	if strings.TrimSpace(u.Username) == "" || len(u.Username) > 64 {
		fields["username"] = "1-64 characters"
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
	if len(fields) > 0 {
		return &reclaim.Error{Code: reclaim.EINVALID, Message: "invalid account", Fields: fields}
	}
	return nil
}

// CreateUser stores a new account; ECONFLICT when the username is taken.
func (d *DB) CreateUser(ctx context.Context, u reclaim.User) (reclaim.User, error) {
	if err := validUser(u); err != nil {
		return u, err
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Username
	}
	u.CreatedAt = d.nowUTC()
	err := d.WriteTx(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO users (username, display_name, role, password_hash, disabled, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, u.Username, u.DisplayName, string(u.Role), u.PasswordHash, u.Disabled,
			d.instant(u.CreatedAt)).Scan(&u.ID)
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

// UserByUsername returns the account with this username, or ENOTFOUND.
func (d *DB) UserByUsername(ctx context.Context, username string) (reclaim.User, error) {
	return d.oneUser(ctx, `username = ?`, username)
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

// UpdateUser saves the display name, role, password hash and disabled flag of an account.
func (d *DB) UpdateUser(ctx context.Context, u reclaim.User) (reclaim.User, error) {
	if err := validUser(u); err != nil {
		return u, err
	}
	var n int64
	err := d.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET display_name = ?, role = ?, password_hash = ?, disabled = ? WHERE id = ?`,
			u.DisplayName, string(u.Role), u.PasswordHash, u.Disabled, u.ID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return u, dbError(err, "updating a user")
	}
	if n == 0 {
		return u, reclaim.Errorf(reclaim.ENOTFOUND, "user %d not found", u.ID)
	}
	return d.UserByID(ctx, u.ID)
}

// CreateToken stores the SHA-256 of a new API token for a user.
func (d *DB) CreateToken(ctx context.Context, userID int64, name string, tokenHash []byte) (int64, error) {
	var id int64
	err := d.WriteTx(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, revoked, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			userID, name, tokenHash, false, d.instant(d.nowUTC())).Scan(&id)
	})
	return id, dbError(err, "creating a token")
}

// UserByToken returns the owner of an unrevoked token with this SHA-256, or ENOTFOUND.
func (d *DB) UserByToken(ctx context.Context, tokenHash []byte) (reclaim.User, error) {
	u, err := scanUser(d.r.QueryRowContext(ctx, d.rebind(`SELECT u.id, u.username, u.display_name, u.role, u.password_hash, u.disabled, u.created_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND t.revoked = ?`), tokenHash, false))
	if err == sql.ErrNoRows {
		return u, reclaim.Errorf(reclaim.ENOTFOUND, "unknown token")
	}
	return u, dbError(err, "reading a token")
}

// Find implements scs.Store: the data of an unexpired session.
func (d *DB) Find(token string) ([]byte, bool, error) {
	var data []byte
	var exp time.Time
	err := d.r.QueryRow(d.rebind(`SELECT data, expiry FROM sessions WHERE token = ?`), token).Scan(&data, instantScan{&exp})
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
// user touches its session row, often many at once, and an upsert needs no more isolation.
func (d *DB) Commit(token string, data []byte, expiry time.Time) error {
	ctx := context.Background()
	if _, err := d.w.ExecContext(ctx, d.rebind(`INSERT INTO sessions (token, data, expiry) VALUES (?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`), token, data, d.instant(expiry)); err != nil {
		return dbError(err, "saving a session")
	}
	if len(token) > 0 && token[0]%16 == 0 { // about one commit in sixteen sweeps
		if _, err := d.w.ExecContext(ctx, d.rebind(`DELETE FROM sessions WHERE expiry < ?`), d.instant(d.nowUTC())); err != nil {
			return dbError(err, "sweeping sessions")
		}
	}
	return nil
}

// Delete implements scs.Store.
func (d *DB) Delete(token string) error {
	_, err := d.w.ExecContext(context.Background(), d.rebind(`DELETE FROM sessions WHERE token = ?`), token)
	return dbError(err, "deleting a session")
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.r.PingContext(ctx); err != nil {
		return reclaim.WrapError(reclaim.EUNAVAILABLE, err, "database unavailable")
	}
	return nil
}
