package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/auth"
	"reclaim/events"
	"reclaim/httpapi"
	"reclaim/sqldb"
	"reclaim/valuation/service"
	"reclaim/web"
)

type serveFlags struct {
	addr     string
	secure   bool
	logLevel string
	maxMB    int64
	ledger   ledgerFlags
	// demoServicing posts live collections to the demo pool while serving.
	demoServicing bool
}

func newServeCmd(g *globals) *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API and the web console",
		Long: `Serves the JSON API under /api/v1 (OpenAPI at /api/v1/openapi.json), live events, /healthz,
/readyz, /metrics and the web console on --addr. Stops gracefully on SIGINT or SIGTERM: in-flight
requests and running imports finish first. Create the first account with 'reclaim user add'.`,
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			return serve(cmd.Context(), g, a, f, nil)
		}),
	}
	c.Flags().StringVar(&f.addr, "addr", envOr("RECLAIM_ADDR", "127.0.0.1:8080"), "listen address ($RECLAIM_ADDR)")
	c.Flags().BoolVar(&f.secure, "secure-cookies", false, "mark cookies Secure and send HSTS (set when served over TLS)")
	c.Flags().StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	c.Flags().Int64Var(&f.maxMB, "max-upload-mb", 512, "largest tape upload, in MiB")
	f.ledger.register(c)
	return c
}

// serve runs the server until ctx ends. ready, when set, is called with the URL once listening.
func serve(ctx context.Context, g *globals, a *app, f serveFlags, ready func(url string)) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usagef("--log-level: %v", err)
	}
	log := slog.New(slog.NewJSONHandler(g.stderr, &slog.HandlerOptions{Level: lvl}))
	var fanout events.Fanout
	if a.db.Dialect() == sqldb.Postgres {
		fanout = a.db.Fanout(log)
	}
	broker := events.New(events.Options{Fanout: fanout})
	uploadDir := g.dataDir + "/uploads"
	if err := os.MkdirAll(uploadDir, 0o700); err != nil {
		return err
	}
	ledger, err := newLedgerService(g, a, f.ledger, broker, log)
	if err != nil {
		return err
	}
	srv, err := httpapi.New(httpapi.Config{Logger: log, Version: Version, SecureCookies: f.secure, Web: web.Dist(),
		MaxUploadBytes: f.maxMB << 20, UploadDir: uploadDir, Ledger: ledger, Valuation: service.New(a.db, service.Options{Logger: log}),
		Collectors: ledger.Collectors()},
		sqldb.KeyedDB{DB: a.db, Keys: a.keys}, a.keys, broker)
	if err != nil {
		return err
	}
	lctx, stopLedger := context.WithCancel(ctx)
	var ledgerDone sync.WaitGroup
	ledgerDone.Add(1)
	go func() {
		defer ledgerDone.Done()
		ledger.Run(lctx)
	}()
	if f.demoServicing {
		ledgerDone.Add(1)
		go func() {
			defer ledgerDone.Done()
			demoServicing(lctx, a, ledger, 3*time.Second)
		}()
	}
	defer func() {
		stopLedger()
		ledgerDone.Wait()
	}()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", f.addr, err)
	}
	url := "http://" + ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		url = fmt.Sprintf("http://127.0.0.1:%d", tcp.Port)
	}
	if !web.Built() {
		fmt.Fprintln(g.stderr, "note: the web console is not built into this binary; run 'make build' (or cd web && npm ci && npm run build, then rebuild)")
	}
	log.Info("serving", "url", url, "database", a.db.Dialect())
	if ready != nil {
		ready(url)
	} else {
		fmt.Fprintf(g.stdout, "Reclaim is serving on %s\n", url)
	}
	return srv.Serve(ctx, ln)
}

func newUserCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "Manage accounts"}
	var role, display, password string
	add := &cobra.Command{
		Use:   "add USERNAME --role ROLE",
		Short: "Create an account (prints a generated password unless --password is given)",
		Long: "Creates an account. Roles: " + joinRoles() + ". The first admin is created this way:\n" +
			"  reclaim user add alice --role admin",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := reclaim.Role(role)
			if !r.Valid() {
				return usagef("--role must be one of %s", joinRoles())
			}
			pw := password
			generated := pw == ""
			if generated {
				pw = auth.RandomPassword(16)
			}
			if err := auth.CheckStrength(pw); err != nil {
				return usagef("%v", err)
			}
			a, err := g.openApp(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			h, err := auth.Hash(pw)
			if err != nil {
				return err
			}
			u, err := a.db.CreateUser(cmd.Context(), reclaim.User{Username: args[0], DisplayName: display, Role: r, PasswordHash: h})
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Created %s (%s), id %d\n", u.Username, u.Role, u.ID)
			if generated {
				fmt.Fprintf(g.stdout, "Password: %s\n(shown once; change it after signing in)\n", pw)
			}
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", "", "role: "+joinRoles())
	add.Flags().StringVar(&display, "name", "", "display name")
	add.Flags().StringVar(&password, "password", "", "password (default: generate one); prefer the generated one over a password on the command line")
	var tokenName string
	token := &cobra.Command{
		Use:   "token USERNAME",
		Short: "Create an API token for a machine client (printed once)",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			u, err := a.db.UserByUsername(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			tok, hash, err := auth.NewToken()
			if err != nil {
				return err
			}
			if _, err := a.db.CreateToken(cmd.Context(), u.ID, tokenName, hash); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s\n", tok)
			return nil
		}),
	}
	token.Flags().StringVar(&tokenName, "name", "cli", "a label for the token")
	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			us, err := a.db.ListUsers(cmd.Context())
			if err != nil {
				return err
			}
			var rows [][]string
			for _, u := range us {
				st := "active"
				if u.Disabled {
					st = "disabled"
				}
				rows = append(rows, []string{fmt.Sprint(u.ID), u.Username, u.DisplayName, string(u.Role), st})
			}
			table(g.stdout, []string{"ID", "USERNAME", "NAME", "ROLE", "STATUS"}, rows)
			return nil
		}),
	}
	c.AddCommand(add, token, list)
	return c
}

func joinRoles() string {
	var s []string
	for _, r := range reclaim.Roles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}
