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
	"reclaim/abs/dealservice"
	"reclaim/events"
	"reclaim/httpapi"
	"reclaim/ingest"
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
	// trustedProxies are CIDRs of reverse proxies whose X-Forwarded-For is believed.
	trustedProxies []string
	// demoServicing posts live collections to the demo pool while serving.
	demoServicing bool
	// demoWitness runs the demo's local witness in-process (see useDemoWitness).
	demoWitness bool
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
	c.Flags().StringArrayVar(&f.trustedProxies, "trusted-proxy", nil,
		"CIDR or address of a reverse proxy whose X-Forwarded-For names the client (repeat for several); without it the header is ignored")
	c.Flags().BoolVar(&f.demoWitness, "demo-witness", false, "run the local witness that 'reclaim demo' sets up (key in the data directory) in-process and require its cosignature")
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
	proxies, err := httpapi.ParseTrustedProxies(f.trustedProxies)
	if err != nil {
		return usagef("--trusted-proxy: %v", err)
	}
	var fanout events.Fanout
	if a.db.Dialect() == sqldb.Postgres {
		fanout = a.db.Fanout(log)
	}
	broker := events.New(events.Options{Fanout: fanout})
	uploadDir := g.dataDir + "/uploads"
	if err := os.MkdirAll(uploadDir, 0o700); err != nil {
		return err
	}
	if f.demoWitness {
		dw, err := useDemoWitness(g, a, &f.ledger)
		if err != nil {
			return fmt.Errorf("demo witness: %w", err)
		}
		if dw != nil {
			defer dw.Close()
		}
	}
	ledger, err := newLedgerService(g, a, f.ledger, broker, log)
	if err != nil {
		return err
	}
	bk, err := g.blindKey(ctx, a.db)
	if err != nil {
		return err
	}
	mkt := newMarket(a, broker, log)
	defer mkt.Close()
	val := service.New(a.db, service.Options{Logger: log, ReadStored: true, WriteStored: true})
	deals := dealservice.New(a.db, val, ledger.Origin(), ledger.VerifierKey(), nil) // live ABS deals (docs/abs-live.md)
	wk := newWorkoutService(a.db, bk, broker, log)
	srv, err := httpapi.New(httpapi.Config{Logger: log, Version: Version, SecureCookies: f.secure, Web: web.Dist(),
		MaxUploadBytes: f.maxMB << 20, UploadDir: uploadDir, TrustedProxies: proxies, Ledger: ledger, Valuation: val,
		Collectors: append(ledger.Collectors(), marketCollectors(mkt)...), Workout: wk, Performance: wk,
		Payments: sqldb.PaymentDesk{DB: a.db, Blind: sqldb.BlindLookup(bk)}, Market: mkt, Deals: deals},
		sqldb.KeyedDB{DB: a.db, Keys: a.keys}, ingest.WithBlindIndex(a.keys, blindTerms(bk)), broker)
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
	ledgerDone.Add(1)
	go func() { // bulk campaigns: sent when due, resumed after a restart (docs/workout-api.md)
		defer ledgerDone.Done()
		host, _ := os.Hostname()
		wk.RunCampaignLoop(lctx, fmt.Sprintf("%s:%d", host, os.Getpid()), 5*time.Second, func(err error) {
			log.Warn("campaign runner", "err", err)
		})
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

func joinRoles() string {
	var s []string
	for _, r := range reclaim.Roles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}
