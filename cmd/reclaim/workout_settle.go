package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/workout"
)

// Settlement commands of 'reclaim workout' (docs/strategy.md): list offers and plans, and run
// the broken-promise job from a scheduler.
func newSettleCmds(g *globals) []*cobra.Command {
	var status, caseArg string
	var jsonOut bool
	offers := &cobra.Command{
		Use:   "offers [--status proposed|approved|accepted|...] [--case C12]",
		Short: "List settlement offers, newest first (proposed: the ones waiting for a checker)",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, _ []string, a *app) error {
			f := sqldb.OfferFilter{Status: status, Limit: 1000}
			if caseArg != "" {
				id, err := strconv.ParseInt(trimC(caseArg), 10, 64)
				if err != nil || id <= 0 {
					return usagef("--case must be a case reference (C12) or id, got %q", caseArg)
				}
				f.CaseID = id
			}
			switch status {
			case "", workout.OfferProposed, workout.OfferApproved, workout.OfferRejected, workout.OfferAccepted, workout.OfferExpired,
				workout.OfferPaid, workout.OfferBroken:
			default:
				return usagef("--status %q is not an offer status (proposed, approved, rejected, accepted, expired, paid, broken)", status)
			}
			os, err := a.db.ListOffers(cmd.Context(), f)
			if err != nil {
				return err
			}
			if jsonOut {
				if os == nil {
					os = []workout.SettlementOffer{}
				}
				return writeJSON(g.stdout, os)
			}
			for _, o := range os {
				checker := o.CheckerRole
				if o.Checker != "" {
					checker = o.Checker
				}
				if checker == "" {
					checker = "-"
				}
				fmt.Fprintf(g.stdout, "offer %d  %s  %-8s  claim %s  pay %s  (%.1f%% off)  maker %s  checker %s  expires %s\n", o.ID,
					workout.CaseRef(o.CaseID), o.Status, o.Claim, o.Amount, o.Discount*100, o.Maker, checker, o.ExpiresOn)
			}
			return nil
		}),
	}
	offers.Flags().StringVar(&status, "status", "", "only offers in this status")
	offers.Flags().StringVar(&caseArg, "case", "", "only this case's offers")
	offers.Flags().BoolVar(&jsonOut, "json", false, "print JSON")

	var plansJSON bool
	plans := &cobra.Command{
		Use:   "plans CASE",
		Short: "A case's instalment plans with their schedules and standing",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			id, err := strconv.ParseInt(trimC(args[0]), 10, 64)
			if err != nil || id <= 0 {
				return usagef("CASE must be a case reference (C12) or id, got %q", args[0])
			}
			ps, err := a.db.CasePlans(cmd.Context(), id)
			if err != nil {
				return err
			}
			if plansJSON {
				if ps == nil {
					ps = []workout.StoredPlan{}
				}
				return writeJSON(g.stdout, ps)
			}
			for _, p := range ps {
				fmt.Fprintf(g.stdout, "plan %d  %s  total %s  paid %s  grace %d days\n", p.ID, p.Status, p.Total, p.Paid, p.GraceDays)
				for _, in := range p.Instalments {
					fmt.Fprintf(g.stdout, "  %3d  %s  %s\n", in.Seq, in.Due, in.Amount)
				}
			}
			return nil
		}),
	}
	plans.Flags().BoolVar(&plansJSON, "json", false, "print JSON")

	var asOf string
	var checkJSON bool
	check := &cobra.Command{
		Use:   "check-commitments [--as-of YYYY-MM-DD]",
		Short: "The broken-promise job: expire, settle (recording waivers) and break offers, plans and promises",
		Long: `Runs the job a scheduler runs once a day: offers not approved or accepted by their expiry date
expire; accepted settlements paid in full become paid and the remainder is waived (an account
movement per loan and, for loans in a pool, a loan.waiver ledger entry in the same transaction);
settlements, plans and promises not paid by their due date plus grace become broken, and kept
promises kept. Payments count from the applied payments of each case. Running it twice on one
day changes nothing. Items that fail are listed and the exit status is 1; the others still run.`,
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, _ []string, a *app) error {
			d := date.FromTime(time.Now().In(time.FixedZone("CST", 8*3600))) // the debtors' day (UTC+8)
			if asOf != "" {
				var err error
				if d, err = date.Parse(asOf); err != nil {
					return usagef("--as-of %q is not a date (YYYY-MM-DD): %v", asOf, err)
				}
			}
			res, err := a.db.CheckCommitments(cmd.Context(), d, "cli")
			if err != nil {
				return err
			}
			if checkJSON {
				if err := writeJSON(g.stdout, res); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(g.stdout, "as of %s: offers expired %d, paid %d (waivers %d), broken %d; plans complete %d, broken %d; promises kept %d, broken %d\n",
					d, len(res.OffersExpired), len(res.OffersPaid), len(res.Waivers), len(res.OffersBroken), len(res.PlansComplete), len(res.PlansBroken),
					len(res.PromisesKept), len(res.PromisesBroken))
			}
			for _, e := range res.Errors {
				fmt.Fprintln(g.stderr, "error:", e)
			}
			if len(res.Errors) > 0 {
				return fmt.Errorf("%d commitments could not be settled", len(res.Errors))
			}
			return nil
		}),
	}
	check.Flags().StringVar(&asOf, "as-of", "", "the day to check (default today at UTC+8)")
	check.Flags().BoolVar(&checkJSON, "json", false, "print JSON")
	return []*cobra.Command{offers, plans, check}
}
