package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"reclaim/date"
	"reclaim/ingest"
	"reclaim/money"
	"reclaim/synth"
)

func newDemoCmd(g *globals) *cobra.Command {
	var loans int
	var seed uint64
	var fresh bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Generate, import and show a realistic demo portfolio set",
		Long: `Creates the data directory, generates a realistic set of packages from several sellers
(about --loans loans in all, with 36-month repayment histories; tapes in the formats sellers send:
English and Chinese headers, UTF-8 and GBK, CSV and XLSX, yuan and 万元), imports them, and shows
the portfolios. Run it again with --fresh to start over.`,
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
			a, err := g.openApp(ctx)
			if err != nil {
				return err
			}
			defer a.Close()
			existing, err := a.db.ListPortfolios(ctx)
			if err != nil {
				return err
			}
			if len(existing) == 0 {
				cut := date.Of(2025, 6, 30)
				for i, cfg := range synth.Portfolios(seed, loans, cut) {
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
					rep, err := ingest.Run(ctx, a.db.IngestStore(), a.keys, tp, ingest.Options{
						SellerName: cfg.Seller, Name: cfg.PortfolioRef, HistoryPath: hp, Actor: "demo",
						Progress: func(rows, _, _ int64) { bar.set(rows) },
					})
					bar.done()
					if err != nil {
						if rep != nil {
							printReport(g.stderr, rep, 10)
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
			fmt.Fprintf(g.stdout, "Next: bin/reclaim --data-dir %s portfolio header %d\n", g.dataDir, ps[0].ID)
			fmt.Fprintf(g.stdout, "      bin/reclaim --data-dir %s tape export %d --recipient bidder-1 --out masked.csv\n", g.dataDir, ps[0].ID)
			return nil
		},
	}
	c.Flags().IntVar(&loans, "loans", 100000, "loans in all, across the packages")
	c.Flags().Uint64Var(&seed, "seed", 2025, "random seed")
	c.Flags().BoolVar(&fresh, "fresh", false, "delete the data directory first")
	return c
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
