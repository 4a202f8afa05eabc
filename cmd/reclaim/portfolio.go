package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/tape"
)

func newPortfolioCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "portfolio", Short: "List and inspect portfolios"}
	var jsonList bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List portfolios",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			ps, err := a.db.ListPortfolios(cmd.Context())
			if err != nil {
				return err
			}
			if jsonList {
				if ps == nil {
					ps = []reclaim.Portfolio{}
				}
				return writeJSON(g.stdout, ps)
			}
			if len(ps) == 0 {
				fmt.Fprintln(g.stdout, "No portfolios yet. Import a tape with 'reclaim tape import FILE'.")
				return nil
			}
			var rows [][]string
			for _, p := range ps {
				rows = append(rows, []string{strconv.FormatInt(p.ID, 10), p.Name, p.SellerName, p.CutOffDate.String(),
					strconv.FormatInt(p.LoanCount, 10), p.TotalClaim.Grouped(), string(p.Currency), p.ImportedAt.UTC().Format("2006-01-02 15:04")})
			}
			table(g.stdout, []string{"ID", "NAME", "SELLER", "CUT-OFF", "LOANS", "CLAIM", "CCY", "IMPORTED (UTC)"}, rows)
			return nil
		}),
	}
	list.Flags().BoolVar(&jsonList, "json", false, "print JSON")

	var jsonShow bool
	show := &cobra.Command{
		Use:   "show PORTFOLIO",
		Short: "Show a portfolio, its import report and recent events",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := portfolioArg(args[0])
			if err != nil {
				return err
			}
			a, err := g.openApp(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			p, err := a.db.GetPortfolio(cmd.Context(), id)
			if err != nil {
				return err
			}
			events, err := a.db.ListEvents(cmd.Context(), id, 20)
			if err != nil {
				return err
			}
			if jsonShow {
				rep, _ := a.db.PortfolioReportJSON(cmd.Context(), id)
				return writeJSON(g.stdout, struct {
					reclaim.Portfolio
					Report json.RawMessage `json:"import_report,omitempty"`
					Events []reclaim.Event `json:"events"`
				}{p, json.RawMessage(rep), events})
			}
			table(g.stdout, []string{"FIELD", "VALUE"}, [][]string{
				{"id", strconv.FormatInt(p.ID, 10)}, {"name", p.Name}, {"ref", p.Ref}, {"seller", p.SellerName},
				{"cut-off", p.CutOffDate.String()}, {"currency", string(p.Currency)}, {"status", p.Status},
				{"loans", strconv.FormatInt(p.LoanCount, 10)}, {"total claim", p.TotalClaim.Grouped()},
				{"source file", p.SourceFile}, {"sha-256", p.ContentHash}, {"imported", p.ImportedAt.UTC().Format("2006-01-02 15:04:05 UTC")},
			})
			if len(events) > 0 {
				fmt.Fprintln(g.stdout, "\nEvents:")
				var rows [][]string
				for _, e := range events {
					rows = append(rows, []string{e.At.UTC().Format("2006-01-02 15:04:05"), e.Type, e.Actor})
				}
				table(g.stdout, []string{"AT (UTC)", "TYPE", "ACTOR"}, rows)
			}
			return nil
		},
	}
	show.Flags().BoolVar(&jsonShow, "json", false, "print JSON")

	var jsonHeader, zh bool
	header := &cobra.Command{
		Use:   "header PORTFOLIO",
		Short: "Show the pool header and stratification tables",
		Long: `The 银登-style pool header: totals, counts, weighted averages weighted by principal + interest,
per-borrower claims, and the breakdowns by five-category grade, write-off, security, legal status,
product, province and days-past-due bucket (shared/design/tape.md).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := portfolioArg(args[0])
			if err != nil {
				return err
			}
			a, err := g.openApp(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			raw, err := a.db.PortfolioHeaderJSON(cmd.Context(), id)
			if err != nil {
				return err
			}
			var h tape.PoolHeader
			if err := json.Unmarshal(raw, &h); err != nil {
				return reclaim.WrapError(reclaim.EINTERNAL, err, "stored pool header of portfolio %d is unreadable", id)
			}
			if jsonHeader {
				return writeJSON(g.stdout, h)
			}
			printHeader(g.stdout, &h, zh)
			return nil
		},
	}
	header.Flags().BoolVar(&jsonHeader, "json", false, "print JSON")
	header.Flags().BoolVar(&zh, "zh", false, "Chinese labels")
	c.AddCommand(list, show, header)
	return c
}

func portfolioArg(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("PORTFOLIO must be a portfolio id (see 'reclaim portfolio list'), got %q", s)
	}
	return id, nil
}

func printHeaderSummary(w io.Writer, h *tape.PoolHeader) {
	table(w, []string{"POOL", ""}, [][]string{
		{"loans / borrowers", fmt.Sprintf("%d / %d", h.Loans, h.Borrowers)},
		{"principal", h.Principal.Grouped()},
		{"interest", h.Interest.Grouped()},
		{"fees", h.Fees.Grouped()},
		{"total claim", h.Claim.Grouped() + " " + string(h.Currency)},
		{"WA days past due", fmt.Sprintf("%.1f", h.WADaysPastDue)},
		{"WA borrower age", fmt.Sprintf("%.1f", h.WABorrowerAge)},
		{"WA credit line", h.WACreditLine.Grouped()},
		{"largest / average claim per borrower", h.LargestBorrowerClaim.Grouped() + " / " + h.AverageBorrowerClaim.Grouped()},
	})
}

func printHeader(w io.Writer, h *tape.PoolHeader, zh bool) {
	fmt.Fprintf(w, "Portfolio %s, cut-off %s, %s\n\n", h.PortfolioRef, h.CutOffDate, h.Currency)
	printHeaderSummary(w, h)
	for _, t := range []struct {
		title string
		s     []tape.Stratum
	}{
		{"Five-category grade", h.ByFiveCategory}, {"Written off", h.ByWrittenOff}, {"Security", h.BySecurity},
		{"Legal status", h.ByLegalStatus}, {"Product", h.ByProduct}, {"Province", h.ByProvince}, {"Days past due", h.ByDPDBucket},
	} {
		fmt.Fprintf(w, "\n%s\n", t.title)
		var rows [][]string
		for _, s := range t.s {
			label := s.Label
			if zh {
				label = s.LabelZH
			}
			rows = append(rows, []string{label, strconv.FormatInt(s.Loans, 10), fmt.Sprintf("%.1f%%", 100*s.LoanShare),
				s.Principal.Grouped(), s.Claim.Grouped(), fmt.Sprintf("%.1f%%", 100*s.ClaimShare)})
		}
		table(w, []string{"", "LOANS", "%", "PRINCIPAL", "CLAIM", "% CLAIM"}, rows)
	}
}

func newCSV(w io.Writer) *csv.Writer { return csv.NewWriter(w) }

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func newMigrateCmd(g *globals) *cobra.Command {
	var status bool
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations (PostgreSQL needs this once per release; SQLite migrates itself)",
		Long: `Applies the database migrations embedded in this binary. It needs only the database: it never
reads or creates the personal-data key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !strings.HasPrefix(g.resolvedDSN(), "postgres") {
				if err := os.MkdirAll(g.dataDir, 0o700); err != nil {
					return fmt.Errorf("cannot create the data directory %s: %w", g.dataDir, err)
				}
			}
			db, err := sqldb.Open(cmd.Context(), g.resolvedDSN(), sqldb.Options{})
			if err != nil {
				return err
			}
			if !status {
				if err := db.Migrate(cmd.Context()); err != nil {
					db.Close()
					return err
				}
			}
			defer db.Close()
			st, err := db.MigrationStatus(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s: %v\n", db.Dialect(), st)
			return nil
		},
	}
	c.Flags().BoolVar(&status, "status", false, "only show which migrations are applied")
	return c
}
