package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/date"
	"reclaim/workout"
)

// newQueueCmds returns 'workout plan-day' (docs/strategy.md, "The live daily queue").
func newQueueCmds(g *globals) []*cobra.Command {
	var day, strategy string
	var jsonOut bool
	plan := &cobra.Command{
		Use:   "plan-day [--day YYYY-MM-DD] [--strategy FILE] [--json]",
		Short: "Plan a day's work queue for the collectors and agencies (replaces that day's earlier plan)",
		Long: `Plans the day's contacts with the assignment optimisation (workout.PlanQueue): every collector
(a user with the collector role) and every agency holding placed cases gets at most its daily capacity
from the strategy (the built-in one, 'reclaim collections strategy default', unless --strategy names a
file); champion and challenger cases each get their arm's share; every planned contact is allowed
by the compliance engine at its planned time. The plan is stored and replaces any earlier plan of
the day; collectors and agencies read theirs at GET /api/v1/workout/queue.`,
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, _ []string, a *app) error {
			d := date.FromTime(time.Now().In(time.FixedZone("CST", 8*3600)))
			if day != "" {
				var err error
				if d, err = date.Parse(day); err != nil || len(day) != 10 {
					return usagef("--day must be YYYY-MM-DD, got %q", day)
				}
			}
			var strat *workout.Strategy
			if strategy != "" {
				var err error
				if strat, err = loadStrategy(strategy, 0); err != nil {
					return err
				}
			}
			bk, err := g.blindKey(cmd.Context(), a.db)
			if err != nil {
				return err
			}
			v := workout.Viewer{Role: reclaim.RoleCollectionManager, Username: "cli"}
			p, err := newWorkoutService(a.db, bk, nil, nil).PlanDay(cmd.Context(), v, d, strat)
			if err != nil {
				return err
			}
			if jsonOut {
				e := json.NewEncoder(g.stdout)
				e.SetIndent("", "  ")
				return e.Encode(p)
			}
			fmt.Fprintf(g.stdout, "%s: %d contact(s) planned for %d open case(s) (%d skipped, %d refused by the compliance engine); champion %d, challenger %d (valued by %s)\n",
				p.Day, p.Planned, p.Cases, p.Skipped, p.Refused, p.PerArm[workout.ArmChampion], p.PerArm[workout.ArmChallenger], p.ChallengerValuation)
			teams := make([]string, 0, len(p.Capacity))
			for t := range p.Capacity {
				teams = append(teams, t)
			}
			sort.Strings(teams)
			for _, t := range teams {
				fmt.Fprintf(g.stdout, "  %-24s %5d of %5d\n", t, p.PerTeam[t], p.Capacity[t])
			}
			return nil
		}),
	}
	plan.Flags().StringVar(&day, "day", "", "the day to plan (default: today in UTC+8)")
	plan.Flags().StringVar(&strategy, "strategy", "", "a strategy file (docs/strategy.md; default: the built-in strategy)")
	plan.Flags().BoolVar(&jsonOut, "json", false, "print the plan as JSON")
	return []*cobra.Command{plan, newTrainContactCmd(g)}
}

// newTrainContactCmd returns 'workout train-contact' (docs/strategy.md, "The trained contact model").
func newTrainContactCmd(g *globals) *cobra.Command {
	var req workout.ContactTrainRequest
	var jsonOut bool
	c := &cobra.Command{
		Use:   "train-contact [--min-rows N] [--horizon DAYS] [--name NAME] [--json]",
		Short: "Train the contact model from the contact log and payments; the challenger arm of plan-day is valued with it",
		Long: `Trains the contact model (probability that a case pays within --horizon days after a contact, per
channel; gradient-boosted trees from valuation/gbdt) on the system's own contact log: every contact that
happened (allowed, or reported by an agency) whose horizon has ended is one example, with the case's
features at the contact. A quarter of the cases is held out to measure the AUC; the stored model is then
refitted on every example. With fewer than --min-rows usable contacts, or one outcome only, or a contact
on an unknown channel, nothing is stored and the error says how many were found and needed.`,
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, _ []string, a *app) error {
			if req.MinRows < 0 || req.Horizon < 0 {
				return usagef("--min-rows and --horizon must not be negative")
			}
			bk, err := g.blindKey(cmd.Context(), a.db)
			if err != nil {
				return err
			}
			v := workout.Viewer{Role: reclaim.RoleCollectionManager, Username: "cli:" + osUser()}
			m, err := newWorkoutService(a.db, bk, nil, nil).TrainContactModel(cmd.Context(), v, req)
			if err != nil {
				return err
			}
			if jsonOut {
				e := json.NewEncoder(g.stdout)
				e.SetIndent("", "  ")
				return e.Encode(m)
			}
			fmt.Fprint(g.stdout, contactModelText(m))
			return nil
		}),
	}
	c.Flags().IntVar(&req.MinRows, "min-rows", workout.DefaultMinRows, "fewest usable contacts to train on (never below 100)")
	c.Flags().IntVar(&req.Horizon, "horizon", workout.ContactHorizonDays, "days after a contact in which a payment counts as its outcome")
	c.Flags().StringVar(&req.Name, "name", "", "the model's name (default contact-YYYYMMDD-HHMMSS)")
	c.Flags().BoolVar(&jsonOut, "json", false, "print the model's description as JSON")
	return c
}

// contactModelText describes a trained contact model in a few lines.
func contactModelText(m workout.ContactModelInfo) string {
	s := m.Summary
	auc := "not measured (too few held-out rows)"
	if s.AUC >= 0 {
		auc = fmt.Sprintf("%.3f", s.AUC)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "contact model %s: %d contacts (%d paid within %d days), trained on %d, held-out AUC %s on %d; pay share %.3f\n",
		m.Name, s.Rows, s.Positives, s.HorizonDays, s.TrainRows, auc, s.HoldoutRows, s.PayShare)
	for _, ch := range workout.AllChannels {
		if n := s.ByChannel[string(ch)]; n > 0 {
			fmt.Fprintf(&b, "  %-8s %6d contacts %6d paid\n", ch, n, s.PosByChannel[string(ch)])
		}
	}
	return b.String()
}
