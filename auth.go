package reclaim

import (
	"context"
	"slices"
	"time"
)

// Role is what a user does at the AMC; it decides the user's permissions.
type Role string

// Roles.
const (
	RoleAdmin     Role = "admin"     // manages users; sees everything but personal data
	RoleAnalyst   Role = "analyst"   // loads tapes, studies and prices portfolios
	RoleCollector Role = "collector" // works cases; the one role that reads personal data
	RoleBidder    Role = "bidder"    // buys at auctions; sees only auctions it registered for
	RoleInvestor  Role = "investor"  // holds ABS notes; sees only its deals
	RoleTrustee   Role = "trustee"   // administers deals
	RoleAuditor   Role = "auditor"   // reads the audit log
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleAnalyst, RoleCollector, RoleBidder, RoleInvestor, RoleTrustee, RoleAuditor}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Permission names one thing a route lets a caller do.
type Permission string

// Permissions. Every API route requires exactly one (or none, for public routes).
const (
	PermPortfolioRead   Permission = "portfolio.read"
	PermTapeImport      Permission = "tape.import"
	PermTapeExportMask  Permission = "tape.export_masked"
	PermPersonalRead    Permission = "pii.read"
	PermUserManage      Permission = "user.manage"
	PermAuditRead       Permission = "audit.read"
	PermSignedIn        Permission = "session" // any signed-in user
	PermEventsSubscribe Permission = "events.subscribe"
	PermLedgerRead      Permission = "ledger.read"     // a pool's ledger: entries, tiles, proofs, reports
	PermCollectionPost  Permission = "collection.post" // post collections to a pool (logged)
	PermLedgerManage    Permission = "ledger.manage"   // publish checkpoints, close reporting periods
	PermValuationRead   Permission = "valuation.read"  // portfolio valuations, prices and the model registry
	PermModelManage     Permission = "model.manage"    // activate recovery-model versions
)

// RolePermissions is the one table that decides who may do what. Roles not listed for a
// permission are refused with EFORBIDDEN.
var RolePermissions = map[Permission][]Role{
	PermSignedIn:        Roles,
	PermEventsSubscribe: Roles,
	PermPortfolioRead:   {RoleAdmin, RoleAnalyst, RoleCollector, RoleAuditor},
	PermTapeImport:      {RoleAdmin, RoleAnalyst},
	PermTapeExportMask:  {RoleAdmin, RoleAnalyst},
	PermPersonalRead:    {RoleCollector},
	PermUserManage:      {RoleAdmin},
	PermAuditRead:       {RoleAdmin, RoleAuditor},
	PermLedgerRead:      {RoleAdmin, RoleAnalyst, RoleInvestor, RoleTrustee, RoleAuditor},
	PermCollectionPost:  {RoleAdmin, RoleCollector},
	PermLedgerManage:    {RoleAdmin, RoleTrustee},
	PermValuationRead:   {RoleAdmin, RoleAnalyst, RoleAuditor},
	PermModelManage:     {RoleAdmin, RoleAnalyst},
}

// Can reports whether role r holds permission p.
func (r Role) Can(p Permission) bool { return slices.Contains(RolePermissions[p], r) }

// Permissions lists the permissions role r holds, sorted.
func (r Role) Permissions() []Permission {
	var out []Permission
	for p, roles := range RolePermissions {
		if slices.Contains(roles, r) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// User is an account of the console and API.
type User struct {
	ID          int64     `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Role        Role      `json:"role"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
	// PasswordHash is the argon2id hash in PHC form; never serialised.
	PasswordHash string `json:"-"`
}

// UserService stores accounts and API tokens.
type UserService interface {
	CreateUser(ctx context.Context, u User) (User, error)
	UserByID(ctx context.Context, id int64) (User, error)
	UserByUsername(ctx context.Context, username string) (User, error)
	ListUsers(ctx context.Context) ([]User, error)
	UpdateUser(ctx context.Context, u User) (User, error)
	// CreateToken stores the SHA-256 of a new API token for the user and returns its id.
	CreateToken(ctx context.Context, userID int64, name string, tokenHash []byte) (int64, error)
	// UserByToken returns the user owning an unrevoked token with this SHA-256.
	UserByToken(ctx context.Context, tokenHash []byte) (User, error)
}

type actorKey struct{}

// WithUser returns a context carrying the signed-in user.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, actorKey{}, u)
}

// UserFrom returns the signed-in user of ctx, or nil.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(actorKey{}).(*User)
	return u
}

// Actor names the user of ctx for audit records ("user:alice"), or "system".
func Actor(ctx context.Context) string {
	if u := UserFrom(ctx); u != nil {
		return "user:" + u.Username
	}
	return "system"
}
