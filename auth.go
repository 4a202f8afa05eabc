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
	// RoleCollectionManager runs the collection floor: boards portfolios, assigns cases, places
	// them with agencies and recalls them, reads the compliance report.
	RoleCollectionManager Role = "collection_manager"
	// RoleAgency is a user of an external collection agency: it sees only the cases placed
	// with its agency and reports its contacts.
	RoleAgency Role = "agency"
	// RoleLegal is legal staff: records legal steps (filing, judgment, enforcement).
	RoleLegal Role = "legal"
	// RoleCreditCommittee is a member of the credit committee: the checker of settlements beyond
	// a collection manager's limits (workout.DefaultApprovalPolicy: above 60% discount or 500,000
	// yuan waived). It reads cases (masked) and the manager's dashboard; it works no case.
	RoleCreditCommittee Role = "credit_committee"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleAnalyst, RoleCollector, RoleBidder, RoleInvestor, RoleTrustee, RoleAuditor,
	RoleCollectionManager, RoleAgency, RoleLegal, RoleCreditCommittee}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Permission names one thing a route lets a caller do.
type Permission string

// Permissions. Every API route requires exactly one (or none, for public routes).
const (
	PermPortfolioRead   Permission = "portfolio.read"
	PermTapeImport      Permission = "tape.import"
	PermTapeExportMask  Permission = "tape.export_masked"
	PermUserManage      Permission = "user.manage"
	PermAuditRead       Permission = "audit.read"
	PermSignedIn        Permission = "session" // any signed-in user
	PermEventsSubscribe Permission = "events.subscribe"
	PermLedgerRead      Permission = "ledger.read"     // a pool's ledger: entries, tiles, proofs, reports
	PermCollectionPost  Permission = "collection.post" // post collections to a pool (logged)
	PermLedgerManage    Permission = "ledger.manage"   // publish checkpoints, close reporting periods
	PermValuationRead   Permission = "valuation.read"  // portfolio valuations, prices and the model registry
	PermModelManage     Permission = "model.manage"    // activate recovery-model versions
	// Workout (issue 12). Case-level scope comes on top: collectors see only the cases assigned
	// to them, agency users only the cases placed with their agency (workout.CanSee).
	PermPortfolioBoard   Permission = "portfolio.board"   // record an acquisition and board a portfolio
	PermCaseRead         Permission = "case.read"         // list cases and read a case page (masked)
	PermCaseWork         Permission = "case.work"         // record contacts and actions on a case
	PermCasePersonal     Permission = "case.personal"     // reveal the personal data of a debtor in my cases, with a purpose (audited; workout.MayReadPersonal)
	PermCaseAssign       Permission = "case.assign"       // assign cases, place them with agencies and recall them
	PermLegalAct         Permission = "legal.act"         // record legal steps
	PermAgencyReport     Permission = "agency.report"     // report an agency's contacts (API or file)
	PermComplianceReport Permission = "compliance.report" // the compliance report per day, agent and agency
	PermCampaignRun      Permission = "campaign.run"      // start bulk contact campaigns (SMS, letter, email)
	PermPaymentRead      Permission = "payment.read"      // payments, statement imports and the unmatched queue
	PermPaymentPost      Permission = "payment.post"      // post payments, upload statements, record bounces
	PermPaymentMatch     Permission = "payment.match"     // match a queued payment to a case by hand
	PermAuctionRead      Permission = "auction.read"      // marketplace auctions (a bidder: its organisation's registrations only)
	PermAuctionBid       Permission = "auction.bid"       // act for one's organisation: register, NDA, deposit, bid
	PermAuctionManage    Permission = "auction.manage"    // list auctions, record court auctions, confirm payment, settle
	PermOrgManage        Permission = "org.manage"        // qualify bidding organisations, link users, credit deposits
	PermDealRead         Permission = "deal.read"         // live ABS deals: reports, monitoring, loan-level data (investors: their deals only)
	PermDealManage       Permission = "deal.manage"       // open and amend deals, close payment dates, costs, investors and holdings
	PermWorkoutDashboard Permission = "workout.dashboard" // performance against the price paid and the manager's dashboard
)

// PermSettlementApprove lets a user decide (approve or reject) settlement offers above their
// maker's limits, as the checker of maker-checker; the approval policy decides which offers.
const PermSettlementApprove Permission = "settlement.approve"

// RolePermissions is the one table that decides who may do what. Roles not listed for a
// permission are refused with EFORBIDDEN.
var RolePermissions = map[Permission][]Role{
	PermSignedIn:        Roles,
	PermEventsSubscribe: Roles,
	PermPortfolioRead:   {RoleAdmin, RoleAnalyst, RoleCollector, RoleAuditor},
	PermTapeImport:      {RoleAdmin, RoleAnalyst},
	PermTapeExportMask:  {RoleAdmin, RoleAnalyst},
	PermUserManage:      {RoleAdmin},
	PermAuditRead:       {RoleAdmin, RoleAuditor},
	PermLedgerRead:      {RoleAdmin, RoleAnalyst, RoleInvestor, RoleTrustee, RoleAuditor},
	PermCollectionPost:  {RoleAdmin, RoleCollector},
	PermLedgerManage:    {RoleAdmin, RoleTrustee},
	PermValuationRead:   {RoleAdmin, RoleAnalyst, RoleAuditor},
	PermModelManage:     {RoleAdmin, RoleAnalyst},

	PermPortfolioBoard:   {RoleAdmin, RoleCollectionManager},
	PermCaseRead:         {RoleAdmin, RoleCollectionManager, RoleCollector, RoleAgency, RoleLegal, RoleAuditor, RoleCreditCommittee},
	PermCaseWork:         {RoleCollectionManager, RoleCollector, RoleAgency, RoleLegal},
	PermCasePersonal:     {RoleCollector, RoleAgency, RoleLegal},
	PermCaseAssign:       {RoleAdmin, RoleCollectionManager},
	PermLegalAct:         {RoleCollectionManager, RoleLegal},
	PermAgencyReport:     {RoleAgency, RoleCollectionManager},
	PermComplianceReport: {RoleAdmin, RoleCollectionManager, RoleAuditor},
	PermCampaignRun:      {RoleCollectionManager},
	PermPaymentRead:      {RoleAdmin, RoleCollectionManager, RoleCollector, RoleAuditor},
	PermPaymentPost:      {RoleAdmin, RoleCollectionManager, RoleCollector},
	PermPaymentMatch:     {RoleAdmin, RoleCollectionManager, RoleCollector},
	PermAuctionRead:      {RoleAdmin, RoleAnalyst, RoleBidder, RoleAuditor},
	PermAuctionBid:       {RoleBidder},
	PermAuctionManage:    {RoleAdmin, RoleAnalyst},
	PermOrgManage:        {RoleAdmin},
	PermDealRead:         {RoleAdmin, RoleAnalyst, RoleInvestor, RoleTrustee, RoleAuditor},
	PermDealManage:       {RoleAdmin, RoleAnalyst, RoleTrustee},
	PermWorkoutDashboard: {RoleAdmin, RoleCollectionManager, RoleAuditor, RoleCreditCommittee},

	PermSettlementApprove: {RoleCollectionManager, RoleCreditCommittee},
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
	// MustChangePassword is set when someone other than the user chose the password (an admin
	// through the API, an operator through the CLI): until the user changes it, every route but
	// change-password, me and logout answers 403 password_change_required.
	MustChangePassword bool `json:"must_change_password"`
	// PasswordHash is the argon2id hash in PHC form; never serialised.
	PasswordHash string `json:"-"`
	// CredentialEpoch counts the changes that end a user's sessions (password, role, disable,
	// enable); a session is valid only while it carries the current epoch. Never serialised.
	CredentialEpoch int64 `json:"-"`
}

// Account-change actions, recorded in the account audit log (AccountEvent.Action).
const (
	AccountCreated         = "account.created"
	AccountRenamed         = "account.renamed"
	AccountRoleChanged     = "account.role_changed"
	AccountPasswordSet     = "account.password_set"     // by an admin or operator: temporary
	AccountPasswordChanged = "account.password_changed" // by the user, or a permanent password
	AccountPasswordExpired = "account.password_expired" // must change at next sign-in (set or cleared)
	AccountDisabled        = "account.disabled"
	AccountEnabled         = "account.enabled"
	AccountTokenCreated    = "account.token_created"
	AccountTokenRevoked    = "account.token_revoked"
)

// AccountEvent is one audited account change: who (Actor) did what (Action) to whom (UserID,
// Username), when, with the details (JSON object: old and new role, token id, ...). The log is
// append-only; it never holds a password or a token.
type AccountEvent struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	UserID   int64     `json:"user_id"`
	Username string    `json:"username"`
	Detail   string    `json:"detail"` // JSON object
}

// AccountEventFilter selects account events; zero fields do not filter.
type AccountEventFilter struct {
	Actor    string    // "user:alice", "cli:root", "system"
	Username string    // the account changed (case-insensitive)
	Since    time.Time // inclusive
	Until    time.Time // exclusive
	Limit    int       // at most this many rows, newest first; <= 0 means 1000
}

// APIToken describes an API token (never the token itself, which is shown once at creation).
type APIToken struct {
	ID            int64      `json:"id"`
	UserID        int64      `json:"user_id"`
	Name          string     `json:"name"`
	CreatedAt     time.Time  `json:"created_at"`
	Revoked       bool       `json:"revoked"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	RevokedReason string     `json:"revoked_reason,omitempty"`
}

// UserService stores accounts and API tokens. Every change is recorded as an AccountEvent in
// the same transaction, with Actor(ctx) as the actor.
type UserService interface {
	CreateUser(ctx context.Context, u User) (User, error)
	UserByID(ctx context.Context, id int64) (User, error)
	// UserByUsername finds an account by name, regardless of case.
	UserByUsername(ctx context.Context, username string) (User, error)
	ListUsers(ctx context.Context) ([]User, error)
	// UpdateUser saves an account. A new password hash, a new role, or disabling or enabling
	// the account advances its credential epoch (ending its sessions) and revokes its tokens.
	UpdateUser(ctx context.Context, u User) (User, error)
	// CreateToken stores the SHA-256 of a new API token for the user and returns its id.
	CreateToken(ctx context.Context, userID int64, name string, tokenHash []byte) (int64, error)
	// UserByToken returns the user owning an unrevoked token with this SHA-256.
	UserByToken(ctx context.Context, tokenHash []byte) (User, error)
	// ListTokens lists a user's tokens, newest first, revoked ones included.
	ListTokens(ctx context.Context, userID int64) ([]APIToken, error)
	// RevokeToken revokes a token (of userID, unless userID is 0); revoking twice is a no-op.
	RevokeToken(ctx context.Context, userID, tokenID int64, reason string) (APIToken, error)
	// ListAccountEvents returns account events matching the filter, newest first.
	ListAccountEvents(ctx context.Context, f AccountEventFilter) ([]AccountEvent, error)
}

type actorKey struct{}

type actorNameKey struct{}

// WithActor returns a context naming a non-user actor for audit records, for example the
// operator of a CLI command ("cli:root"). A signed-in user (WithUser) takes precedence.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorNameKey{}, actor)
}

// WithUser returns a context carrying the signed-in user.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, actorKey{}, u)
}

// UserFrom returns the signed-in user of ctx, or nil.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(actorKey{}).(*User)
	return u
}

// Actor names the user of ctx for audit records ("user:alice"), else the actor set by
// WithActor, else "system".
func Actor(ctx context.Context) string {
	if u := UserFrom(ctx); u != nil {
		return "user:" + u.Username
	}
	if a, ok := ctx.Value(actorNameKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}
