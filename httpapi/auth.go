package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"reclaim"
	"reclaim/auth"
)

const (
	sessionUserKey  = "uid"
	sessionEpochKey = "epoch" // the user's credential epoch at sign-in
)

// CodePasswordChangeRequired is the error code of every route a user with a temporary password
// calls before changing it (403).
const CodePasswordChangeRequired = "password_change_required"

// beforePasswordChange are the operations a user with a temporary password may call.
var beforePasswordChange = map[string]bool{"me": true, "logout": true, "change-password": true}

func passwordChangeRequired() *ErrorBody {
	return &ErrorBody{Status: http.StatusForbidden, Code: CodePasswordChangeRequired,
		Message: "your password was set by an administrator: change it before doing anything else (POST /api/v1/auth/password)"}
}

// register adds an operation with the permission it requires. Every API route goes through here,
// so that the permission table and the OpenAPI document cannot drift apart.
func register[I, O any](s *Server, perm reclaim.Permission, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata["permission"] = perm
	if perm != "" {
		op.Security = []map[string][]string{{"session": {}}, {"token": {}}}
		op.Errors = append(op.Errors, http.StatusUnauthorized, http.StatusForbidden)
		if op.Description != "" {
			op.Description += "\n\n"
		}
		op.Description += "Requires permission `" + string(perm) + "`."
	}
	s.perms[op.OperationID] = perm
	if op.MaxBodyBytes > s.cfg.MaxBodyBytes {
		s.bigBodies = append(s.bigBodies, bodyLimit{method: op.Method, segs: strings.Split(strings.Trim(op.Path, "/"), "/"), limit: op.MaxBodyBytes})
	}
	huma.Register(s.api, op, func(ctx context.Context, in *I) (*O, error) {
		if err := checkInput(in); err != nil { // text at the edge (edge.go)
			return nil, apiError(err)
		}
		out, err := h(ctx, in)
		if err != nil {
			be := apiError(err)
			if be.Status >= 500 {
				s.log.ErrorContext(ctx, "request failed", "op", op.OperationID, "err", err)
			}
			var he huma.HeadersError
			if errors.As(err, &he) {
				return nil, huma.ErrorWithHeaders(be, he.GetHeaders())
			}
			return nil, be
		}
		return out, nil
	})
}

// authorize resolves the caller (API token or session cookie) and checks the operation's
// permission against the role table. Public operations pass through.
func (s *Server) authorize(ctx huma.Context, next func(huma.Context)) {
	perm, _ := ctx.Operation().Metadata["permission"].(reclaim.Permission)
	u, err := s.caller(ctx)
	if err != nil {
		huma.WriteErr(s.api, ctx, http.StatusInternalServerError, "internal error")
		return
	}
	if u != nil {
		ctx = huma.WithContext(ctx, reclaim.WithUser(ctx.Context(), u))
	}
	if perm == "" {
		next(ctx)
		return
	}
	if u == nil {
		s.writeHuma(ctx, &ErrorBody{Status: http.StatusUnauthorized, Code: reclaim.EUNAUTHORIZED, Message: "sign in first"})
		return
	}
	if u.MustChangePassword && !beforePasswordChange[ctx.Operation().OperationID] {
		s.writeHuma(ctx, passwordChangeRequired())
		return
	}
	if !u.Role.Can(perm) {
		s.writeHuma(ctx, &ErrorBody{Status: http.StatusForbidden, Code: reclaim.EFORBIDDEN,
			Message: "your role (" + string(u.Role) + ") does not have permission to do this (" + string(perm) + ")"})
		return
	}
	if pool := ctx.Param("pool"); pool != "" { // investors see only the deals they hold (deals.go)
		if err := s.poolVisible(ctx.Context(), u, pool); err != nil {
			s.writeHuma(ctx, apiError(err))
			return
		}
	}
	next(ctx)
}

func (s *Server) writeHuma(ctx huma.Context, b *ErrorBody) {
	ctx.SetHeader("Content-Type", "application/json")
	ctx.SetStatus(b.Status)
	json.NewEncoder(ctx.BodyWriter()).Encode(b)
}

// writeError writes an error body on a plain handler.
func writeError(w http.ResponseWriter, b *ErrorBody) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(b.Status)
	json.NewEncoder(w).Encode(b)
}

// caller returns the signed-in user of the request, or nil.
func (s *Server) caller(ctx huma.Context) (*reclaim.User, error) {
	r, _ := humago.Unwrap(ctx)
	return s.userOf(r)
}

// userOf resolves the caller of a plain request: an API token (Authorization: Bearer) or the
// session cookie. It returns nil for anonymous, unknown, revoked or disabled callers, and for a
// session signed in before the user's credential epoch last advanced (password reset, role
// change, disable or enable): such a session never works again.
func (s *Server) userOf(r *http.Request) (*reclaim.User, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || !strings.HasPrefix(tok, auth.TokenPrefix) {
			return nil, nil
		}
		u, err := s.store.UserByToken(ctx, auth.TokenHash(strings.TrimSpace(tok)))
		if reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if u.Disabled {
			return nil, nil
		}
		return &u, nil
	}
	id := s.sessions.GetInt64(ctx, sessionUserKey)
	if id == 0 {
		return nil, nil
	}
	u, err := s.store.UserByID(ctx, id)
	if reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled || s.sessions.GetInt64(ctx, sessionEpochKey) != u.CredentialEpoch {
		return nil, nil
	}
	return &u, nil
}

// Auth operations.

// LoginInput is the sign-in form.
type LoginInput struct {
	Body struct {
		Username string `json:"username" minLength:"1" maxLength:"100"`
		Password string `json:"password" minLength:"1" maxLength:"1024"`
	}
}

// MeBody describes the signed-in user and what they may do.
type MeBody struct {
	User        reclaim.User         `json:"user"`
	Permissions []reclaim.Permission `json:"permissions"`
}

// MeOutput wraps MeBody.
type MeOutput struct{ Body MeBody }

func (s *Server) authRoutes() {
	register(s, "", huma.Operation{OperationID: "login", Method: http.MethodPost, Path: "/api/v1/auth/login",
		Summary: "Sign in", Tags: []string{"auth"}, Errors: []int{400, 401, 429}},
		func(ctx context.Context, in *LoginInput) (*MeOutput, error) {
			key := pairKey(in.Body.Username, remoteFrom(ctx))
			if ok, wait := s.guard.begin(key); !ok {
				return nil, tooManyAttempts(wait)
			}
			result := attemptAborted
			defer func() {
				if lock := s.guard.end(key, result); lock > 0 {
					s.log.WarnContext(ctx, "sign-in backoff", "remote", remoteFrom(ctx), "for", lock)
				}
			}()
			u, err := s.store.UserByUsername(ctx, strings.TrimSpace(in.Body.Username))
			bad := &ErrorBody{Status: http.StatusUnauthorized, Code: reclaim.EUNAUTHORIZED, Message: "wrong username or password"}
			if reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
				auth.Verify(in.Body.Password, dummyHash()) // same work as a real check: no user enumeration by timing
				result = attemptFailed
				return nil, bad
			}
			if err != nil {
				return nil, err
			}
			if err := auth.Verify(in.Body.Password, u.PasswordHash); err != nil || u.Disabled {
				if err != nil && !errors.Is(err, auth.ErrMismatch) {
					s.log.ErrorContext(ctx, "password hash unusable", "user", u.Username, "err", err)
				}
				result = attemptFailed
				return nil, bad
			}
			result = attemptPassed
			if err := s.startSession(ctx, u); err != nil {
				return nil, err
			}
			s.log.InfoContext(ctx, "signed in", "user", u.Username, "must_change_password", u.MustChangePassword)
			return &MeOutput{Body: MeBody{User: u, Permissions: u.Role.Permissions()}}, nil
		})
	register(s, reclaim.PermSignedIn, huma.Operation{OperationID: "logout", Method: http.MethodPost, Path: "/api/v1/auth/logout",
		Summary: "Sign out", Tags: []string{"auth"}, DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			return nil, s.sessions.Destroy(ctx)
		})
	register(s, reclaim.PermSignedIn, huma.Operation{OperationID: "me", Method: http.MethodGet, Path: "/api/v1/auth/me",
		Summary: "The signed-in user and their permissions", Tags: []string{"auth"}},
		func(ctx context.Context, _ *struct{}) (*MeOutput, error) {
			u := reclaim.UserFrom(ctx)
			return &MeOutput{Body: MeBody{User: *u, Permissions: u.Role.Permissions()}}, nil
		})
	s.accountRoutes()
}

// startSession gives the request a fresh session token (no fixation) bound to u and its current
// credential epoch.
func (s *Server) startSession(ctx context.Context, u reclaim.User) error {
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessionUserKey, u.ID)
	s.sessions.Put(ctx, sessionEpochKey, u.CredentialEpoch)
	return nil
}

// tooManyAttempts is the 429 of a locked (account, address) pair, with Retry-After.
func tooManyAttempts(wait time.Duration) error {
	secs := int64((wait + time.Second - 1) / time.Second)
	return huma.ErrorWithHeaders(&ErrorBody{Status: http.StatusTooManyRequests, Code: "rate_limited",
		Message: "too many failed attempts for this account from your address; try again in " + (time.Duration(secs) * time.Second).String()},
		http.Header{"Retry-After": {strconv.FormatInt(secs, 10)}})
}

// dummyHash is verified when a username does not exist, so both paths cost the same.
var dummyHash = sync.OnceValue(func() string {
	h, _ := auth.Hash("reclaim-dummy-password")
	return h
})

// remoteFrom returns the client's address of the request (observe's reqInfo), or "unknown".
func remoteFrom(ctx context.Context) string {
	if info := infoOf(ctx); info != nil {
		return info.remote
	}
	return "unknown"
}
