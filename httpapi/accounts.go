package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"reclaim"
	"reclaim/auth"
)

// streamSet tracks the open event streams of each user, so that an account change made through
// this server (password reset, role change, disable, token revoked) ends them at once instead of
// at the next periodic re-check.
type streamSet struct {
	mu     sync.Mutex
	byUser map[int64]map[chan struct{}]struct{}
}

func newStreamSet() *streamSet { return &streamSet{byUser: map[int64]map[chan struct{}]struct{}{}} }

// add registers a stream of user id; the channel receives a value when the user's credentials
// change. The returned func unregisters it.
func (ss *streamSet) add(id int64) (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	ss.mu.Lock()
	if ss.byUser[id] == nil {
		ss.byUser[id] = map[chan struct{}]struct{}{}
	}
	ss.byUser[id][c] = struct{}{}
	ss.mu.Unlock()
	return c, func() {
		ss.mu.Lock()
		delete(ss.byUser[id], c)
		if len(ss.byUser[id]) == 0 {
			delete(ss.byUser, id)
		}
		ss.mu.Unlock()
	}
}

// kick asks every stream of user id to re-check its credentials now.
func (ss *streamSet) kick(id int64) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for c := range ss.byUser[id] {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// weakPassword turns a policy refusal into a field error.
func weakPassword(field string, err error) error {
	return &reclaim.Error{Code: reclaim.EINVALID, Message: "the password does not meet the password policy: " + err.Error(),
		Fields: map[string]string{field: err.Error()}}
}

// PasswordChange is a user changing their own password.
type PasswordChange struct {
	Body struct {
		CurrentPassword string `json:"current_password" minLength:"1" maxLength:"1024"`
		NewPassword     string `json:"new_password" minLength:"1" maxLength:"1024" doc:"at least 12 characters; not common, not the user name"`
	}
}

// TokensPath names a user's tokens.
type TokensPath struct {
	ID int64 `path:"id" minimum:"1" doc:"user id"`
}

// TokenRevoke revokes one token of a user.
type TokenRevoke struct {
	ID     int64  `path:"id" minimum:"1" doc:"user id"`
	Token  int64  `path:"token" minimum:"1" doc:"token id"`
	Reason string `query:"reason" maxLength:"200" doc:"why; recorded in the account audit log"`
}

type tokensOut struct{ Body []reclaim.APIToken }
type tokenOut struct{ Body reclaim.APIToken }

// AccountAuditInput filters the account audit log.
type AccountAuditInput struct {
	Actor    string    `query:"actor" maxLength:"100" doc:"who made the change: user:alice, cli:root, system"`
	Username string    `query:"username" maxLength:"64" doc:"the account changed"`
	From     time.Time `query:"from" doc:"RFC 3339, inclusive"`
	To       time.Time `query:"to" doc:"RFC 3339, exclusive"`
	Limit    int       `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

type accountEventsOut struct{ Body []reclaim.AccountEvent }

func (s *Server) accountRoutes() {
	register(s, reclaim.PermSignedIn, huma.Operation{OperationID: "change-password", Method: http.MethodPost, Path: "/api/v1/auth/password",
		Summary: "Change your own password", Tags: []string{"auth"}, Errors: []int{400, 429},
		Description: "Needs the current password. Ends every other session and revokes the user's API tokens; this session " +
			"continues. The one route (with me and logout) open to a user whose password was set by an administrator."},
		func(ctx context.Context, in *PasswordChange) (*MeOutput, error) {
			me := reclaim.UserFrom(ctx)
			key := pairKey("password-change:"+me.Username, remoteFrom(ctx))
			if ok, wait := s.guard.begin(key); !ok {
				return nil, tooManyAttempts(wait)
			}
			u, err := s.store.UserByID(ctx, me.ID)
			if err != nil {
				s.guard.end(key, attemptAborted) // not a guess
				return nil, err
			}
			if err := auth.Verify(in.Body.CurrentPassword, u.PasswordHash); err != nil {
				s.guard.end(key, attemptFailed)
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "the current password is wrong",
					Fields: map[string]string{"current_password": "wrong password"}}
			}
			s.guard.end(key, attemptPassed)
			if in.Body.NewPassword == in.Body.CurrentPassword {
				return nil, &reclaim.Error{Code: reclaim.EINVALID, Message: "choose a new password",
					Fields: map[string]string{"new_password": "same as the current password"}}
			}
			if err := auth.CheckPassword(in.Body.NewPassword, u.Username); err != nil {
				return nil, weakPassword("new_password", err)
			}
			if u.PasswordHash, err = auth.Hash(in.Body.NewPassword); err != nil {
				return nil, err
			}
			u.MustChangePassword = false
			if u, err = s.store.UpdateUser(ctx, u); err != nil {
				return nil, err
			}
			s.streams.kick(u.ID)
			if s.sessions.GetInt64(ctx, sessionUserKey) == u.ID { // a session (not a token): keep it, on the new epoch
				if err := s.startSession(ctx, u); err != nil {
					return nil, err
				}
			}
			return &MeOutput{Body: MeBody{User: u, Permissions: u.Role.Permissions()}}, nil
		})
	tags := []string{"users"}
	register(s, reclaim.PermUserManage, huma.Operation{OperationID: "list-user-tokens", Method: http.MethodGet,
		Path: "/api/v1/users/{id}/tokens", Summary: "A user's API tokens (never the tokens themselves)", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *TokensPath) (*tokensOut, error) {
			ts, err := s.store.ListTokens(ctx, in.ID)
			return &tokensOut{Body: ts}, err
		})
	register(s, reclaim.PermUserManage, huma.Operation{OperationID: "revoke-user-token", Method: http.MethodDelete,
		Path: "/api/v1/users/{id}/tokens/{token}", Summary: "Revoke an API token (audited)", Tags: tags, Errors: []int{404}},
		func(ctx context.Context, in *TokenRevoke) (*tokenOut, error) {
			reason := in.Reason
			if reason == "" {
				reason = "revoked by " + reclaim.Actor(ctx)
			}
			t, err := s.store.RevokeToken(ctx, in.ID, in.Token, reason)
			if err == nil {
				s.streams.kick(in.ID)
			}
			return &tokenOut{Body: t}, err
		})
	register(s, reclaim.PermAuditRead, huma.Operation{OperationID: "list-account-events", Method: http.MethodGet,
		Path: "/api/v1/audit/accounts", Summary: "Who changed which account, how and when", Tags: []string{"audit"},
		Description: "Account creation, role changes, password sets and changes, disabling and enabling, API tokens created and revoked."},
		func(ctx context.Context, in *AccountAuditInput) (*accountEventsOut, error) {
			evs, err := s.store.ListAccountEvents(ctx, reclaim.AccountEventFilter{Actor: in.Actor, Username: in.Username,
				Since: in.From, Until: in.To, Limit: in.Limit})
			if evs == nil {
				evs = []reclaim.AccountEvent{}
			}
			return &accountEventsOut{Body: evs}, err
		})
}
