package main

import (
	"encoding/json"
	"fmt"
	"sort"
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
			fmt.Fprintf(g.stdout, "%s: %d contact(s) planned for %d open case(s) (%d skipped, %d refused by the compliance engine); champion %d, challenger %d\n",
				p.Day, p.Planned, p.Cases, p.Skipped, p.Refused, p.PerArm[workout.ArmChampion], p.PerArm[workout.ArmChallenger])
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
	return []*cobra.Command{plan}
}
