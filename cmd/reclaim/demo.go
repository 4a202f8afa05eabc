package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/auth"
	"reclaim/date"
	"reclaim/ingest"
	"reclaim/money"
	"reclaim/synth"
)

func newDemoCmd(g *globals) *cobra.Command {
	var loans int
	var seed uint64
	var fresh, noServe bool
	var sf serveFlags
	c := &cobra.Command{
		Use:   "demo",
		Short: "Generate, import and show a realistic demo portfolio set",
		Long: `Creates the data directory, generates a realistic set of packages from several sellers
(about --loans loans in all, with 36-month repayment histories; tapes in the formats sellers send:
English and Chinese headers, UTF-8 and GBK, CSV and XLSX, yuan and 万元), imports them, and shows
the portfolios, creates a demo account for every role (passwords are printed, and kept in
<data-dir>/demo-accounts.txt with mode 0600), and serves the console. Run it again to serve the
same data; --fresh starts over.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if fresh {
				if err := os.RemoveAll(g.dataDir); err != nil {
					return err
				}
			}
			tapes := filepath.Join(g.dataDir, "tapes")
			if err := os.MkdirAll(tapes, 0o700); err != nil {
				return err
			}
			// The demo migrates a PostgreSQL database itself (production runs 'reclaim migrate').
			a, err := g.openAppChecked(ctx, true)
			if err != nil {
				return err
			}
			defer a.Close()
			// The ledger key, before any work: a missing --ledger-key file is created, as the
			// default one is; an unusable one fails now rather than after the imports.
			sf.ledger.createKey = true
			if _, err := newLedgerService(g, a, sf.ledger, nil, g.log); err != nil {
				return fmt.Errorf("ledger key: %w", err)
			}
			existing, err := a.db.ListPortfolios(ctx)
			if err != nil {
				return err
			}
			sources := synth.Portfolios(seed, loans, date.Of(2025, 6, 30))
			if len(existing) == 0 {
				for i, cfg := range sources {
					opts := demoTapeOptions(i)
					ext := ".csv"
					if opts.Format == "xlsx" {
						ext = ".xlsx"
					}
					tp := filepath.Join(tapes, cfg.PortfolioRef+ext)
					hp := filepath.Join(tapes, cfg.PortfolioRef+"-history.csv")
					fmt.Fprintf(g.stdout, "Generating %s: %d loans from %s (%s, %s headers)\n", cfg.PortfolioRef, cfg.Loans, cfg.Seller, opts.Format, langName(opts.Chinese))
					if _, err := writeSynth(cmd, g, cfg, opts, tp, hp); err != nil {
						return err
					}
					bar := g.newProgress("importing "+cfg.PortfolioRef, int64(cfg.Loans))
					sealer, err := g.sealer(ctx, a)
					if err != nil {
						return err
					}
					rep, err := ingest.Run(ctx, a.db.IngestStore(), sealer, tp, ingest.Options{
						SellerName: cfg.Seller, Name: cfg.PortfolioRef, HistoryPath: hp, Actor: "demo",
						Progress: func(rows, _, _ int64) { bar.set(rows) },
					})
					bar.done()
					if err != nil {
						if rep != nil {
							printReport(g.stderr, rep, 10, g.msgLang())
						}
						return err
					}
					fmt.Fprintf(g.stdout, "  imported as portfolio %d: %d loans, claim %s\n", rep.PortfolioID, rep.Imported, rep.Header.Claim.Grouped())
				}
			}
			ps, err := a.db.ListPortfolios(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout)
			var rows [][]string
			var total int64
			for _, p := range ps {
				total += p.LoanCount
				rows = append(rows, []string{strconv.FormatInt(p.ID, 10), p.Name, p.SellerName, strconv.FormatInt(p.LoanCount, 10), p.TotalClaim.Grouped()})
			}
			table(g.stdout, []string{"ID", "PORTFOLIO", "SELLER", "LOANS", "CLAIM (CNY)"}, rows)
			fmt.Fprintf(g.stdout, "\n%d portfolios, %d loans in %s.\n", len(ps), total, g.resolvedDSN())
			accounts, err := demoAccounts(ctx, g, a)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, "\nDemo accounts (one per role):")
			table(g.stdout, []string{"USERNAME", "ROLE", "PASSWORD"}, accounts)
			// The demo's own witness (its key in the data directory): every checkpoint needs its
			// cosignature, unless --witnesses names other witnesses.
			dw, err := useDemoWitness(g, a, &sf.ledger)
			if err != nil {
				return fmt.Errorf("demo witness: %w", err)
			}
			if dw != nil {
				defer dw.Close()
				fmt.Fprintf(g.stdout, "\nLocal witness %s cosigns every pool checkpoint (quorum %d); its verifier key is in %s.\n",
					demoWitnessName, sf.ledger.quorum, filepath.Join(g.dataDir, demoWitnessVKeyFile))
			}
			if len(ps) > 0 {
				ls, err := newLedgerService(g, a, sf.ledger, nil, g.log)
				if err != nil {
					return err
				}
				if err := demoPool(ctx, g, a, ls, ps[0].ID, sources[0]); err != nil {
					return fmt.Errorf("demo pool: %w", err)
				}
				if err := writeDemoPolicy(ctx, g, a, ls, "http://"+sf.addr); err != nil {
					return err
				}
			}
			if err := demoModel(ctx, g, a); err != nil {
				return fmt.Errorf("demo model: %w", err)
			}
			if err := demoDeals(ctx, g, a, sf.ledger, !noServe); err != nil {
				return fmt.Errorf("demo deals: %w", err)
			}
			if err := demoMarket(ctx, g, a, ps); err != nil {
				return fmt.Errorf("demo market: %w", err)
			}
			if err := demoWorkout(ctx, g, a, ps); err != nil {
				return fmt.Errorf("demo workout: %w", err)
			}
			if err := demoDashboard(ctx, g, a, ps); err != nil { // demo_dashboard.go
				return fmt.Errorf("demo dashboard: %w", err)
			}
			if err := demoSettle(ctx, g, a); err != nil {
				return fmt.Errorf("demo settlements: %w", err)
			}
			if err := demoContactModel(ctx, g, a); err != nil { // demo_dashboard.go
				return fmt.Errorf("demo contact model: %w", err)
			}
			if noServe {
				return nil
			}
			sf.demoServicing = true
			fmt.Fprintln(g.stdout)
			return serve(ctx, g, a, sf, func(url string) {
				fmt.Fprintf(g.stdout, "Reclaim is serving on %s  (sign in with demo-admin; Ctrl-C stops)\n", url)
			})
		},
	}
	c.Flags().IntVar(&loans, "loans", 100000, "loans in all, across the packages")
	c.Flags().Uint64Var(&seed, "seed", 2025, "random seed")
	c.Flags().BoolVar(&fresh, "fresh", false, "delete the data directory first")
	c.Flags().BoolVar(&noServe, "no-serve", false, "prepare the data and accounts, then exit")
	c.Flags().StringVar(&sf.addr, "addr", envOr("RECLAIM_ADDR", "127.0.0.1:8080"), "listen address")
	c.Flags().StringVar(&sf.logLevel, "log-level", "warn", "server log level")
	sf.maxMB = 512
	sf.ledger.register(c)
	c.Flags().Lookup("checkpoint-interval").DefValue = "2s"
	sf.ledger.interval = 2 * time.Second
	return c
}

// demoAccounts makes sure there is a demo account for every role and returns (username, role,
// password) rows. Passwords are generated on the first run and kept in the data directory.
func demoAccounts(ctx context.Context, g *globals, a *app) ([][]string, error) {
	path := filepath.Join(g.dataDir, "demo-accounts.txt")
	known := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if u, pw, ok := strings.Cut(line, " "); ok {
				known[u] = pw
			}
		}
	}
	var rows [][]string
	var file strings.Builder
	for _, r := range reclaim.Roles {
		name := "demo-" + string(r)
		pw, ok := known[name]
		if _, err := a.db.UserByUsername(ctx, name); reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
			// The demo prints these passwords for its user: they are not temporary (the
			// policy still holds: GeneratePassword only returns passwords that pass it).
			pw = auth.GeneratePassword(14, name)
			h, err := auth.Hash(pw)
			if err != nil {
				return nil, err
			}
			if _, err := a.db.CreateUser(reclaim.WithActor(ctx, "demo"), reclaim.User{Username: name, DisplayName: "Demo " + string(r), Role: r, PasswordHash: h}); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		} else if !ok {
			pw = "(set before; see reclaim user)"
		}
		rows = append(rows, []string{name, string(r), pw})
		file.WriteString(name + " " + pw + "\n")
	}
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		return nil, err
	}
	return rows, nil
}

// demoTapeOptions varies the tape format across packages the way real sellers' files vary.
func demoTapeOptions(i int) synth.TapeOptions {
	o := synth.TapeOptions{Format: "csv", Encoding: "utf-8", IncludePersonal: true}
	switch i % 4 {
	case 1:
		o.Chinese, o.Encoding, o.Unit = true, "gbk", money.Wan
	case 2:
		o.Format, o.Encoding, o.Chinese = "xlsx", "", true
	case 3:
		o.Chinese, o.Encoding, o.DateStyle = true, "utf-8-bom", "chinese"
	}
	return o
}

func langName(zh bool) string {
	if zh {
		return "Chinese"
	}
	return "English"
}
