package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/abs"
	"reclaim/abs/dealservice"
	"reclaim/abs/live"
	"reclaim/date"
	"reclaim/httpapi"
	"reclaim/money"
	"reclaim/valuation/service"
)

// addABSLiveCmds adds the live-deal subcommands to `reclaim abs`: report, pool and deal.
func addABSLiveCmds(g *globals, c *cobra.Command) {
	c.AddCommand(newABSReportCmd(g), newABSPoolCmd(g), newABSDealCmd(g))
}

// withDeals opens the database and a deal backend (with the ledger service, for the origin and
// the signing key, when lf is given).
func (g *globals) withDeals(lf *ledgerFlags, fn func(cmd *cobra.Command, args []string, b *dealservice.Service, a *app) error) func(*cobra.Command, []string) error {
	return g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
		val := service.New(a.db, service.Options{Logger: g.log})
		if lf != nil {
			s, err := newLedgerService(g, a, *lf, nil, g.log)
			if err != nil {
				return err
			}
			b := dealservice.New(a.db, val, s.Origin(), s.VerifierKey(), nil)
			if err := fn(cmd, args, b, a); err != nil {
				return err
			}
			return s.SequenceAndPublish(cmd.Context())
		}
		return fn(cmd, args, dealservice.New(a.db, val, "reclaim.local/ledger", "", nil), a)
	})
}

func newABSReportCmd(g *globals) *cobra.Command {
	var periodArg string
	var csvOut, htmlOut bool
	c := &cobra.Command{
		Use:   "report DEAL --period P [--json|--csv|--html]",
		Short: "The trustee/servicer report of a live deal's payment date",
		Long: `Prints the report of payment date P of the live deal DEAL (its pool id): every field of
../shared/design/abs.md "Reports per period" (docs/abs-live.md lists them). A closed report is
printed exactly as stored (its SHA-256 is on the pool's log); a period not closed yet is computed
now from the log and marked as a preview. --json prints the JSON document, --csv the
section,row,field,value table, --html the printable page with its charts.`,
		Args: cobra.ExactArgs(1),
		RunE: g.withDeals(nil, func(cmd *cobra.Command, args []string, b *dealservice.Service, a *app) error {
			if csvOut && htmlOut || (csvOut || htmlOut) && g.jsonOut {
				return usagef("choose one of --json, --csv and --html")
			}
			ctx := cmd.Context()
			period, err := periodOf(ctx, b, args[0], periodArg)
			if err != nil {
				return err
			}
			doc, err := b.ReportDoc(ctx, args[0], period)
			preview := false
			if reclaim.ErrorCode(err) == reclaim.ENOTFOUND {
				if _, derr := b.DB().GetDeal(ctx, args[0]); derr != nil {
					return derr
				}
				rep, perr := b.PreviewReport(ctx, args[0], period)
				if perr != nil {
					return perr
				}
				if doc, err = rep.Encode(); err != nil {
					return err
				}
				preview = true
				fmt.Fprintf(g.stderr, "period %d of %s is not closed: this is a preview computed from the log now\n", period, args[0])
			} else if err != nil {
				return err
			}
			if g.jsonOut {
				_, err := g.stdout.Write(append(doc, '\n'))
				return err
			}
			var rep live.Report
			if err := json.Unmarshal(doc, &rep); err != nil {
				return err
			}
			switch {
			case csvOut:
				return rep.WriteCSV(g.stdout)
			case htmlOut:
				return rep.WriteHTML(g.stdout)
			}
			return writeReportText(g.stdout, &rep, preview, live.Hash(doc))
		}),
	}
	c.Flags().StringVar(&periodArg, "period", "", "payment date: its number (1 is the first) or its date YYYY-MM-DD")
	c.Flags().BoolVar(&csvOut, "csv", false, "print the report as CSV")
	c.Flags().BoolVar(&htmlOut, "html", false, "print the report as a printable HTML page")
	return c
}

// periodOf reads a --period value: a payment date's number (1 is the first) or the date itself.
func periodOf(ctx context.Context, b *dealservice.Service, pool, v string) (int, error) {
	if v == "" {
		return 0, usagef("--period is required (1 for the first payment date, or its date)")
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 1 {
			return 0, usagef("--period %d: payment dates count from 1", n)
		}
		return n, nil
	}
	d, err := date.ParseStrict(v)
	if err != nil {
		return 0, usagef("--period %q is neither a payment date number nor a date YYYY-MM-DD", v)
	}
	rec, err := b.DB().GetDeal(ctx, pool)
	if err != nil {
		return 0, err
	}
	deal, err := abs.Load(rec.Doc, abs.Options{})
	if err != nil {
		return 0, err
	}
	for i, p := range deal.PaymentDates() {
		if p == d {
			return i + 1, nil
		}
	}
	return 0, reclaim.Errorf(reclaim.EINVALID, "%s is not a payment date of deal %s", d, pool)
}

// writeReportText prints a report's main tables for people.
func writeReportText(w io.Writer, r *live.Report, preview bool, hash string) error {
	state := "closed"
	if preview {
		state = "PREVIEW (not closed)"
	}
	fmt.Fprintf(w, "Deal %s, pool %s, period %d, payment date %s (%s)\n", r.Deal, r.Pool, r.Period, r.PaymentDate, state)
	fmt.Fprintf(w, "Collection period %s to %s, status %s, deal hash %s\nReport SHA-256 %s; ledger entry %d (%s)\n\n",
		r.CollectionStart, r.CollectionEnd, r.Status, r.DealHash, hash, r.Ledger.ReportIndex, r.Ledger.ReportEvent)
	var rows [][]string
	for _, t := range r.Tranches {
		rows = append(rows, []string{t.Name, t.Opening.String(), t.InterestDue.String(), t.InterestPaid.String(), t.InterestShortfall.String(),
			t.PrincipalPaid.String(), t.ResidualPaid.String(), t.Closing.String(), t.Factor, t.CreditEnhancement})
	}
	table(w, []string{"tranche", "opening", "int due", "int paid", "shortfall", "principal", "residual", "closing", "factor", "CE"}, rows)
	p := r.PoolCash
	fmt.Fprintf(w, "\nPool: claim %s -> %s; collections gross %s, costs %s, net %s (costs carried %s); waivers %s; removed %s\n",
		p.OpeningClaim, p.ClosingClaim, p.Gross, p.Costs, p.Net, p.CostsCarried, p.Waivers, p.Removed)
	rc := r.Recoveries
	fmt.Fprintf(w, "Recoveries vs forecast: period %s / %s (%s), cumulative %s / %s (%s)\n\n", rc.Period, rc.PeriodForecast, rc.PeriodRatio,
		rc.Cumulative, rc.CumulativeFcst, rc.CumulativeRatio)
	rows = nil
	for _, l := range r.Distribution {
		rows = append(rows, []string{l.From, l.To, l.Amount.String(), l.Memo})
	}
	table(w, []string{"from", "to", "amount", "step"}, rows)
	rows = nil
	for _, t := range r.Triggers {
		st := "not hit"
		if t.InForce {
			st = "IN FORCE"
		}
		rows = append(rows, []string{t.Trigger, t.When, t.Metric, t.Threshold, st})
	}
	fmt.Fprintln(w)
	table(w, []string{"trigger", "when", "metric", "threshold", "status"}, rows)
	return nil
}

// criteriaFlags are the pool-selection flags.
type criteriaFlags struct {
	c                 live.Criteria
	asOf, model, file string
}

func (f *criteriaFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.Int64SliceVar(&f.c.Portfolios, "portfolios", nil, "portfolio ids to select from (default: every portfolio)")
	fl.StringSliceVar(&f.c.Products, "products", nil, "product types (credit_card, consumer_loan, ...)")
	fl.IntVar(&f.c.MinDPD, "min-dpd", 0, "least days past due")
	fl.IntVar(&f.c.MaxDPD, "max-dpd", 0, "most days past due (0: no bound)")
	fl.StringSliceVar(&f.c.Regions, "regions", nil, "GB/T 2260 region code prefixes (44: a province, 4403: a prefecture)")
	fl.StringVar(&f.c.MinClaim, "min-claim", "", "least total claim (yuan)")
	fl.StringVar(&f.c.MaxClaim, "max-claim", "", "most total claim (yuan)")
	fl.StringSliceVar(&f.c.LegalStatuses, "legal-statuses", nil, "legal statuses (not_sued, in_litigation, judgment, ...)")
	fl.IntVar(&f.c.MinLimitationDays, "min-limitation-days", 0, "least days from --as-of to the limitation expiry")
	fl.IntVar(&f.c.Limit, "limit", 0, "most loans (0: no limit)")
	fl.StringVar(&f.asOf, "as-of", "", "date the limitation headroom is measured from (default today)")
	fl.StringVar(&f.model, "model", "", "recovery model for the forecast (NAME or NAME@VERSION; default the active one)")
}

func (f *criteriaFlags) date(b *dealservice.Service) (date.Date, error) {
	if f.asOf == "" {
		return b.Today(), nil
	}
	d, err := date.ParseStrict(f.asOf)
	if err != nil {
		return d, usagef("--as-of: %v", err)
	}
	return d, nil
}

func newABSPoolCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "pool", Short: "Select owned loans into a deal pool (preview: disclosure tables and forecast)"}
	var cf criteriaFlags
	var dealFile string
	sel := &cobra.Command{
		Use:   "select [criteria flags] [--deal DEAL.yaml]",
		Short: "Preview a pool selection: the pool header, stratification tables and the valuation's forecast",
		Args:  cobra.NoArgs,
		RunE: g.withDeals(nil, func(cmd *cobra.Command, args []string, b *dealservice.Service, a *app) error {
			asOf, err := cf.date(b)
			if err != nil {
				return err
			}
			var doc []byte
			if dealFile != "" {
				if doc, err = os.ReadFile(dealFile); err != nil {
					return reclaim.WrapError(reclaim.EINVALID, err, "cannot read the deal document")
				}
				if _, err := abs.Load(doc, abs.Options{}); err != nil {
					return g.printProblems(dealFile, err)
				}
			}
			s, err := b.Select(cmd.Context(), cf.c, asOf, cf.model, doc)
			if err != nil {
				return err
			}
			if g.jsonOut {
				return writeJSON(g.stdout, s)
			}
			h := s.Disclosure.Header
			fmt.Fprintf(g.stdout, "%d loans, %d borrowers; claim %s (principal %s, interest %s, fees %s); WA DPD %.0f\n", h.Loans, h.Borrowers,
				h.Claim, h.Principal, h.Interest, h.Fees, h.WADaysPastDue)
			fmt.Fprintf(g.stdout, "forecast recoveries %s = %s of the claim, over %d months\n", s.Disclosure.ForecastRecoveries, s.Disclosure.ForecastRate,
				len(s.Disclosure.Forecast))
			for _, p := range s.Disclosure.Portfolios {
				fmt.Fprintf(g.stdout, "  portfolio %d: %d loans, claim %s\n", p.Portfolio, p.Loans, p.Claim)
			}
			if s.ForecastNote != "" {
				fmt.Fprintln(g.stdout, s.ForecastNote)
			}
			if z := s.Disclosure.Sizing; z != nil {
				typical := "inside"
				if !z.Typical {
					typical = "OUTSIDE"
				}
				fmt.Fprintf(g.stdout, "sizing: issue %s = %s of the claim (typical %s); senior = %s of forecast recoveries (typical %s): %s the typical ranges\n",
					z.Issue, z.IssueOfClaim, z.IssueTypicalRange, z.SeniorOfForecast, z.SeniorTypicalRange, typical)
			}
			for _, t := range []struct {
				name string
				rows any
			}{{"grade", h.ByFiveCategory}, {"product", h.ByProduct}, {"province", h.ByProvince}, {"DPD bucket", h.ByDPDBucket}, {"legal status", h.ByLegalStatus}} {
				b, _ := json.Marshal(t.rows)
				fmt.Fprintf(g.stdout, "by %s: %s\n", t.name, b)
			}
			return nil
		}),
	}
	cf.register(sel)
	sel.Flags().StringVar(&dealFile, "deal", "", "a deal document to size against the selection")
	c.AddCommand(sel)
	return c
}

func newABSDealCmd(g *globals) *cobra.Command {
	var lf ledgerFlags
	c := &cobra.Command{Use: "deal", Short: "Live deals: open, amend, costs, servicer files, close payment dates, monitor, investors"}
	var cf criteriaFlags
	var pool, name, eff string
	var docForecast bool
	create := &cobra.Command{
		Use:   "create DEAL.yaml --pool ID [criteria flags] [--effective D]",
		Short: "Open a deal: select its pool, inline the valuation's forecast, fix the document by its hash on the pool's log",
		Args:  cobra.ExactArgs(1),
		RunE: g.withDeals(&lf, func(cmd *cobra.Command, args []string, b *dealservice.Service, a *app) error {
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return reclaim.WrapError(reclaim.EINVALID, err, "cannot read the deal document")
			}
			if _, err := abs.Load(doc, abs.Options{}); err != nil {
				return g.printProblems(args[0], err)
			}
			asOf, err := cf.date(b)
			if err != nil {
				return err
			}
			e := b.Today()
			if eff != "" {
				if e, err = date.ParseStrict(eff); err != nil {
					return usagef("--effective: %v", err)
				}
			}
			d, err := b.Create(cmd.Context(), httpapi.DealCreate{Pool: pool, Name: name, Document: doc, Criteria: cf.c, AsOf: asOf, Effective: e,
				Model: cf.model, UseDocForecast: docForecast, Actor: "cli"})
			if err != nil {
				return err
			}
			if g.jsonOut {
				return writeJSON(g.stdout, d)
			}
			fmt.Fprintf(g.stdout, "deal %s opened (origin %s); deal hash %s\n", d.Pool, d.Origin, d.Hash)
			return nil
		}),
	}
	cf.register(create)
	create.Flags().StringVar(&pool, "pool", "", "pool (deal) id (required)")
	create.Flags().StringVar(&name, "name", "", "display name (default the document's)")
	create.Flags().StringVar(&eff, "effective", "", "boarding date (default today)")
	create.Flags().BoolVar(&docForecast, "use-document-forecast", false, "keep the document's own forecast instead of the valuation's")
	create.MarkFlagRequired("pool")

	list := &cobra.Command{
		Use: "list", Short: "List the deals", Args: cobra.NoArgs,
		RunE: g.withDeals(nil, func(cmd *cobra.Command, args []string, b *dealservice.Service, a *app) error {
			ds, err := b.Deals(cmd.Context())
			if err != nil {
				return err
			}
			if g.jsonOut {
				return writeJSON(g.stdout, ds)
			}
			var rows [][]string
			for _, d := range ds {
				rows = append(rows, []string{d.Pool, d.Name, d.Hash[:16], d.CreatedAt.Format(time.DateOnly)})
			}
			table(g.stdout, []string{"pool", "name", "hash", "created"}, rows)
			return nil
		}),
	}

	var reason string
	amend := &cobra.Command{
		Use: "amend DEAL NEW.yaml --reason TEXT", Short: "Amend the deal document (deal.amended on the log)", Args: cobra.ExactArgs(2),
		RunE: g.withDeals(&lf, func(cmd *cobra.Command, args []string, b *dealservice.Service, a *app) error {
			doc, err := os.ReadFile(args[1])
			if err != nil {
				return reclaim.WrapError(reclaim.EINVALID, err, "cannot read the deal document")
			}
			d, err := b.Amend(cmd.Context(), args[0], doc, reason, b.Today())
			if err != nil {
				return g.printProblems(args[1], err)
			}
			fmt.Fprintf(g.stdout, "deal %s amended: hash %s (opened with %s)\n", d.Pool, d.Hash, d.OpenedHash)
			return nil
		}),
	}
	amend.Flags().StringVar(&reason, "reason", "", "why (logged, at most 200 characters)")
	amend.MarkFlagRequired("reason")

	var kind, loan, channel, amount, when, memo string
	cost := &cobra.Command{
		Use: "cost DEAL --kind cost|waiver --amount YUAN --date D [--loan REF] [--channel C] [--memo TEXT]", Short: "Record a cost or a waiver (deal.cost)",
		Args: cobra.ExactArgs(1),
		RunE: g.withDeals(&lf, func(cmd *cobra.Command, args []string, b *dealservice.Service, a *app) error {
			amt, err := money.ParseStrict(amount, "CNY")
			if err != nil {
				return usagef("--amount: %v", err)
			}
			d, err := date.ParseStrict(when)
			if err != nil {
				return usagef("--date: %v", err)
			}
			id, err := b.RecordCost(cmd.Context(), httpapi.DealCost{Pool: args[0], Kind: kind, Loan: loan, Channel: channel, Memo: memo, Actor: "cli",
				Amount: amt, Effective: d})
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s recorded (%s)\n", kind, id)
			return nil
		}),
	}
	cost.Flags().StringVar(&kind, "kind", "cost", "cost (paid from collections) or waiver (claim forgiven)")
	cost.Flags().StringVar(&loan, "loan", "", "loan (per-pool reference or PORTFOLIO/LOAN_ID); required for a waiver")
	cost.Flags().StringVar(&channel, "channel", "", "collection channel the cost belongs to")
	cost.Flags().StringVar(&amount, "amount", "", "amount in yuan")
	cost.Flags().StringVar(&when, "date", "", "date YYYY-MM-DD")
	cost.Flags().StringVar(&memo, "memo", "", "memo")

	imp := &cobra.Command{
		Use: "import-collections DEAL FILE.csv", Short: "Import a servicer's collections file (date,loan,amount[,channel][,txn_id]: posted to each loan; or date,amount: pool cash without a loan)",
		Args: cobra.ExactArgs(2),
		RunE: g.withDeals(&lf, func(cmd *cobra.Command, args []string, b *dealservice.Service, a *app) error {
			file, err := os.ReadFile(args[1])
			if err != nil {
				return reclaim.WrapError(reclaim.EINVALID, err, "cannot read the servicer file")
			}
			n, err := b.ImportServicerFile(cmd.Context(), args[0], file)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%d rows logged\n", n)
			return nil
		}),
	}

	var closeArg string
	closeCmd := &cobra.Command{
		Use: "close DEAL --period P", Short: "Close a payment date: the report and its entries on the pool's log", Args: cobra.ExactArgs(1),
		RunE: g.withDeals(&lf, func(cmd *cobra.Command, args []string, b *dealservice.Service, a *app) error {
			period, err := periodOf(cmd.Context(), b, args[0], closeArg)
			if err != nil {
				return err
			}
			doc, err := b.CloseReport(cmd.Context(), args[0], period)
			if err != nil {
				return err
			}
			if g.jsonOut {
				_, err := g.stdout.Write(append(doc, '\n'))
				return err
			}
			fmt.Fprintf(g.stdout, "period %d of %s closed: report SHA-256 %s\n", period, args[0], live.Hash(doc))
			return nil
		}),
	}
	closeCmd.Flags().StringVar(&closeArg, "period", "", "payment date: its number (1 is the first) or its date YYYY-MM-DD (required)")
	closeCmd.MarkFlagRequired("period")

	var asOf string
	monitor := &cobra.Command{
		Use: "monitor DEAL [--as-of D]", Short: "Collections against the forecast, balances, reserve, trigger headroom and alerts", Args: cobra.ExactArgs(1),
		RunE: g.withDeals(nil, func(cmd *cobra.Command, args []string, b *dealservice.Service, a *app) error {
			d := b.Today()
			if asOf != "" {
				var err error
				if d, err = date.ParseStrict(asOf); err != nil {
					return usagef("--as-of: %v", err)
				}
			}
			s, err := b.Monitor(cmd.Context(), args[0], d)
			if err != nil {
				return err
			}
			if g.jsonOut {
				return writeJSON(g.stdout, s)
			}
			fmt.Fprintf(g.stdout, "deal %s as of %s: %d payment dates collected, status %s\n", s.Deal, s.AsOf, s.Period, s.Status)
			for _, t := range s.Tranches {
				fmt.Fprintf(g.stdout, "  tranche %s: %s of %s (%s)\n", t.Name, t.Balance, t.Issued, t.Factor)
			}
			for _, r := range s.Reserves {
				fmt.Fprintf(g.stdout, "  reserve %s: %s\n", r.Account, r.Balance)
			}
			for _, t := range s.Triggers {
				fmt.Fprintf(g.stdout, "  trigger %s (%s): %s %s %s\n", t.Trigger, t.Kind, t.State, t.Headroom, t.Reason)
			}
			for _, al := range s.Alerts {
				fmt.Fprintf(g.stdout, "ALERT %s: %s\n", al.Level, al.Message)
			}
			return nil
		}),
	}
	monitor.Flags().StringVar(&asOf, "as-of", "", "date (default today)")

	var format string
	loans := &cobra.Command{
		Use: "loans DEAL [--format csv|parquet] > FILE", Short: "Loan-level data without personal data", Args: cobra.ExactArgs(1),
		RunE: g.withDeals(nil, func(cmd *cobra.Command, args []string, b *dealservice.Service, a *app) error {
			rows, err := b.Loans(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			switch format {
			case "csv":
				return live.WriteLoansCSV(g.stdout, rows)
			case "parquet":
				var buf bytes.Buffer
				if err := live.WriteLoansParquet(&buf, rows); err != nil {
					return err
				}
				_, err := g.stdout.Write(buf.Bytes())
				return err
			}
			return usagef("--format is csv or parquet")
		}),
	}
	loans.Flags().StringVar(&format, "format", "csv", "csv or parquet")

	var invName, tranche string
	var userID int64
	investor := &cobra.Command{
		Use:   "investor ID [--name N] [--user UID] [--deal DEAL --tranche T --amount YUAN]",
		Short: "Create an investor organisation, add a user to it, or set its holding of a tranche", Args: cobra.ExactArgs(1),
		RunE: g.withDeals(nil, func(cmd *cobra.Command, args []string, b *dealservice.Service, a *app) error {
			ctx := cmd.Context()
			did := false
			if invName != "" {
				if err := b.CreateInvestor(ctx, live.Investor{ID: args[0], Name: invName}); err != nil {
					return err
				}
				did = true
			}
			if userID > 0 {
				if err := b.SetInvestorUser(ctx, args[0], userID); err != nil {
					return err
				}
				did = true
			}
			if pool != "" {
				amt, err := money.ParseStrict(amount, "CNY")
				if err != nil {
					return usagef("--amount: %v", err)
				}
				if err := b.SetHolding(ctx, live.Holding{Investor: args[0], Pool: pool, Tranche: tranche, Amount: amt}); err != nil {
					return err
				}
				did = true
			}
			if !did {
				return usagef("give --name, --user, or --deal with --tranche and --amount")
			}
			hs, err := b.Holdings(ctx, args[0])
			if err != nil {
				return err
			}
			var rows [][]string
			for _, h := range hs {
				rows = append(rows, []string{h.Pool, h.Tranche, h.Amount.String()})
			}
			table(g.stdout, []string{"deal", "tranche", "amount"}, rows)
			return nil
		}),
	}
	investor.Flags().StringVar(&invName, "name", "", "create the organisation with this name")
	investor.Flags().Int64Var(&userID, "user", 0, "make this user id a member")
	investor.Flags().StringVar(&pool, "deal", "", "deal (pool) id of the holding")
	investor.Flags().StringVar(&tranche, "tranche", "", "tranche of the holding")
	investor.Flags().StringVar(&amount, "amount", "", "face amount held (yuan; 0 removes the holding)")

	for _, w := range []*cobra.Command{create, amend, cost, imp, closeCmd} { // they write the log: the ledger's key and origin
		lf.register(w)
	}
	c.AddCommand(create, list, amend, cost, imp, closeCmd, monitor, loans, investor)
	return c
}
