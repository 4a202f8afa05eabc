package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/csvsafe"
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

// headerText holds the pool header's words in one language.
type headerText struct {
	title, summary, na, covers                                         string
	loansBorrowers, principal, interest, fees, claim                   string
	waDPD, waAge, waLine, largestAvg, avgLoan                          string
	strataHead                                                         []string
	fiveCat, writtenOff, security, legal, product, province, dpdBucket string
}

var headerEN = headerText{
	title: "Portfolio %s, cut-off %s, %s", summary: "POOL", na: "n/a", covers: "(covers %.0f%% of principal + interest)",
	loansBorrowers: "loans / borrowers", principal: "principal", interest: "interest", fees: "fees", claim: "total claim",
	waDPD: "WA days past due", waAge: "WA borrower age", waLine: "WA credit line",
	largestAvg: "largest / average claim per borrower", avgLoan: "average claim per loan",
	strataHead: []string{"", "LOANS", "% LOANS", "PRINCIPAL (%s)", "CLAIM (%s)", "% CLAIM"},
	fiveCat:    "Five-category grade", writtenOff: "Written off", security: "Security", legal: "Legal status",
	product: "Product", province: "Province", dpdBucket: "Days past due",
}

// headerZH follows the order of the 银登中心 announcement of a personal-NPL batch transfer:
// the package's basic facts, then its distributions.
var headerZH = headerText{
	title: "资产包 %s　基准日 %s　币种 %s", summary: "一、资产包基本情况", na: "暂无", covers: "（覆盖本息的 %.0f%%）",
	loansBorrowers: "贷款笔数 / 借款人户数", principal: "未偿本金", interest: "未偿利息", fees: "其他费用", claim: "未偿本息费合计",
	waDPD: "加权平均逾期天数", waAge: "借款人加权平均年龄", waLine: "加权平均授信额度",
	largestAvg: "单户最大 / 户均未偿本息", avgLoan: "笔均未偿本息",
	strataHead: []string{"", "笔数", "笔数占比", "未偿本金（%s）", "本息费合计（%s）", "金额占比"},
	fiveCat:    "（一）五级分类", writtenOff: "（二）核销情况", security: "（三）担保方式", legal: "（四）诉讼状态",
	product: "（五）产品类型", province: "（六）地区分布（省）", dpdBucket: "（七）逾期期限",
}

// average prints a weighted average over the loans that state it: n/a when none does, and the
// coverage when only some do.
func (t *headerText) average(v string, coverage float64) string {
	switch {
	case coverage <= 0:
		return t.na
	case coverage < 0.9995:
		return v + " " + fmt.Sprintf(t.covers, 100*coverage)
	}
	return v
}

func printHeaderSummary(w io.Writer, h *tape.PoolHeader, zh bool) {
	t := &headerEN
	unit := " " + string(h.Currency)
	if zh {
		t = &headerZH
		unit = ""
		if h.Currency == "CNY" {
			unit = " 元"
		}
	}
	cov := 1.0
	if h.Loans == 0 {
		cov = 0
	}
	table(w, []string{t.summary, ""}, [][]string{
		{t.loansBorrowers, fmt.Sprintf("%d / %d", h.Loans, h.Borrowers)},
		{t.principal, h.Principal.Grouped() + unit},
		{t.interest, h.Interest.Grouped() + unit},
		{t.fees, h.Fees.Grouped() + unit},
		{t.claim, h.Claim.Grouped() + unit},
		{t.waDPD, t.average(fmt.Sprintf("%.1f", h.WADaysPastDue), cov)},
		{t.waAge, t.average(fmt.Sprintf("%.1f", h.WABorrowerAge), h.AgeCoverage)},
		{t.waLine, t.average(h.WACreditLine.Grouped()+unit, h.CreditLineCoverage)},
		{t.largestAvg, h.LargestBorrowerClaim.Grouped() + " / " + h.AverageBorrowerClaim.Grouped() + unit},
		{t.avgLoan, h.AverageLoanClaim.Grouped() + unit},
	})
}

func printHeader(w io.Writer, h *tape.PoolHeader, zh bool) {
	t := &headerEN
	cur := string(h.Currency)
	if zh {
		t = &headerZH
		if h.Currency == "CNY" {
			cur = "元"
		}
	}
	head := slices.Clone(t.strataHead)
	head[3], head[4] = fmt.Sprintf(head[3], cur), fmt.Sprintf(head[4], cur)
	fmt.Fprintf(w, t.title+"\n\n", h.PortfolioRef, h.CutOffDate, h.Currency)
	printHeaderSummary(w, h, zh)
	if zh {
		fmt.Fprintln(w, "\n二、资产分布情况")
	}
	for _, s := range []struct {
		title string
		s     []tape.Stratum
	}{
		{t.fiveCat, h.ByFiveCategory}, {t.writtenOff, h.ByWrittenOff}, {t.security, h.BySecurity},
		{t.legal, h.ByLegalStatus}, {t.product, h.ByProduct}, {t.province, h.ByProvince}, {t.dpdBucket, h.ByDPDBucket},
	} {
		fmt.Fprintf(w, "\n%s\n", s.title)
		var rows [][]string
		for _, st := range s.s {
			label := st.Label
			if zh {
				label = st.LabelZH
			}
			rows = append(rows, []string{label, strconv.FormatInt(st.Loans, 10), fmt.Sprintf("%.1f%%", 100*st.LoanShare),
				st.Principal.Grouped(), st.Claim.Grouped(), fmt.Sprintf("%.1f%%", 100*st.ClaimShare)})
		}
		table(w, head, rows)
	}
}

// newCSV returns a CSV writer whose cells are neutralised against formula injection (csvsafe):
// every CSV file the CLI writes goes through it.
func newCSV(w io.Writer) *csvsafe.Writer { return csvsafe.NewWriter(w) }

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func newMigrateCmd(g *globals) *cobra.Command {
	var status bool
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations (PostgreSQL needs this once per release; SQLite migrates itself)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// No key check: the key ids live in a table a migration creates.
			a, err := g.openAppUnchecked(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			if !status {
				if err := a.db.Migrate(cmd.Context()); err != nil {
					return err
				}
			}
			st, err := a.db.MigrationStatus(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "%s: %v\n", a.db.Dialect(), st)
			return nil
		},
	}
	c.Flags().BoolVar(&status, "status", false, "only show which migrations are applied")
	return c
}
