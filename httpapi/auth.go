package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"reclaim"
	"reclaim/auth"
)

const sessionUserKey = "uid"

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
	if !u.Role.Can(perm) {
		s.writeHuma(ctx, &ErrorBody{Status: http.StatusForbidden, Code: reclaim.EFORBIDDEN,
			Message: "your role (" + string(u.Role) + ") does not have permission to do this (" + string(perm) + ")"})
		return
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
// session cookie. It returns nil for anonymous, unknown, revoked or disabled callers.
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
	if u.Disabled {
		return nil, nil
	}
	return &u, nil
}

// rateLimiter allows n attempts per window per key (client address), in fixed windows.
type rateLimiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	now    func() time.Time
	seen   map[string]*window
}

type window struct {
	start time.Time
	count int
}

func newRateLimiter(n int, w time.Duration, now func() time.Time) *rateLimiter {
	return &rateLimiter{n: n, window: w, now: now, seen: map[string]*window{}}
}

// allow records an attempt for key and reports whether it is within the limit, and if not, how
// long until the window resets.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.seen) > 10000 { // forget old windows
		for k, w := range l.seen {
			if now.Sub(w.start) > l.window {
				delete(l.seen, k)
			}
		}
	}
	w := l.seen[key]
	if w == nil || now.Sub(w.start) >= l.window {
		w = &window{start: now}
		l.seen[key] = w
	}
	w.count++
	if w.count > l.n {
		return false, w.start.Add(l.window).Sub(now)
	}
	return true, 0
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
			ip := remoteFrom(ctx)
			if ok, wait := s.limiter.allow(ip); !ok {
				return nil, &ErrorBody{Status: http.StatusTooManyRequests, Code: "rate_limited",
					Message: "too many sign-in attempts; try again in " + wait.Round(time.Second).String()}
			}
			u, err := s.store.UserByUsername(ctx, strings.TrimSpace(in.Body.Username))
			bad := &ErrorBody{Status: http.StatusUnauthorized, Code: reclaim.EUNAUTHORIZED, Message: "wrong username or password"}
			if reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
				auth.Verify(in.Body.Password, dummyHash()) // same work as a real check: no user enumeration by timing
				return nil, bad
			}
			if err != nil {
				return nil, err
			}
			if err := auth.Verify(in.Body.Password, u.PasswordHash); err != nil || u.Disabled {
				if err != nil && !errors.Is(err, auth.ErrMismatch) {
					s.log.ErrorContext(ctx, "password hash unusable", "user", u.Username, "err", err)
				}
				return nil, bad
			}
			if err := s.sessions.RenewToken(ctx); err != nil {
				return nil, err
			}
			s.sessions.Put(ctx, sessionUserKey, u.ID)
			s.log.InfoContext(ctx, "signed in", "user", u.Username)
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
}

// dummyHash is verified when a username does not exist, so both paths cost the same.
var dummyHash = sync.OnceValue(func() string {
	h, _ := auth.Hash("reclaim-dummy-password")
	return h
})

type remoteKey struct{}

func remoteFrom(ctx context.Context) string {
	if s, ok := ctx.Value(remoteKey{}).(string); ok {
		return s
	}
	return "unknown"
}
