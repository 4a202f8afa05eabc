package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/sqldb"
	"reclaim/workout"
)

// newPaymentsCmd is `reclaim payments`: import a bank statement from a file and list the
// unmatched queue (docs/payments.md). The API does the same through /api/v1/payments.
func newPaymentsCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "payments", Short: "Import bank statements and list the unmatched queue (docs/payments.md)"}
	var mappingFile, order, across string
	var jsonOut bool
	imp := &cobra.Command{
		Use:   "import FILE [--mapping M.yaml] [--order fees,interest,principal] [--across oldest_default|pro_rata]",
		Short: "Import a bank statement whole or not at all: match, allocate, queue the rest",
		Long: `Reads a statement CSV (the default format of docs/payments.md, or the columns a --mapping
names), matches each credit to a case (reference, blind index, masked name and amount), allocates
it to the case's loans by the policy (default fees, interest, principal; oldest default first),
writes pool ledger entries for pool loans, and queues what it cannot match. A file with any
problem is rejected with its lines named, and nothing is imported.`,
		Args: cobra.ExactArgs(1),
		// A bad policy is a usage error, found before the database is opened.
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if _, err := workout.ParseAllocationPolicy(order, across); err != nil {
				return usageError{err}
			}
			return nil
		},
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			var m *workout.StatementMapping
			if mappingFile != "" {
				data, err := os.ReadFile(mappingFile)
				if err != nil {
					return usagef("--mapping: %v", err)
				}
				if m, err = workout.ParseStatementMapping(data, mappingFile); err != nil {
					return err
				}
			}
			pol, err := workout.ParseAllocationPolicy(order, across)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return usagef("%v", err)
			}
			defer f.Close()
			st, err := workout.ParseStatement(f, m)
			if err != nil {
				return err
			}
			bk, err := g.blindKey(cmd.Context(), a.db)
			if err != nil {
				return err
			}
			res, err := a.db.ImportStatement(reclaim.WithActor(cmd.Context(), "cli"), filepath.Base(args[0]), st,
				sqldb.PaymentOptions{Policy: pol, Blind: sqldb.BlindLookup(bk), Actor: "cli"})
			if err != nil {
				return err
			}
			if jsonOut {
				return writeJSON(g.stdout, res)
			}
			fmt.Fprintf(g.stdout, "imported statement %d (%s): %d lines, %d applied (%s), %d queued, %d reversals\n",
				res.ID, res.Filename, res.Lines, res.Matched, res.Applied.Grouped(), res.Queued, res.Reversals)
			return nil
		}),
	}
	imp.Flags().StringVar(&mappingFile, "mapping", "", "statement mapping (YAML, see mappings/statement-*.yaml)")
	imp.Flags().StringVar(&order, "order", "", "allocation order within a loan (default fees,interest,principal)")
	imp.Flags().StringVar(&across, "across", "", "allocation across loans: oldest_default (default) or pro_rata")
	imp.Flags().BoolVar(&jsonOut, "json", false, "print JSON")

	var queueJSON bool
	var limit int
	queue := &cobra.Command{
		Use:   "queue [--json] [--limit N]",
		Short: "List the unmatched queue: payments waiting for a person, with the reason",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			ps, err := a.db.ListPayments(cmd.Context(), sqldb.PaymentFilter{Status: sqldb.PaymentQueued, Limit: limit})
			if err != nil {
				return err
			}
			if queueJSON {
				return writeJSON(g.stdout, ps)
			}
			for _, p := range ps {
				fmt.Fprintf(g.stdout, "%d\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.ValueDate, p.Amount, p.TxnID, p.QueueReason, p.QueueDetail)
			}
			return nil
		}),
	}
	queue.Flags().BoolVar(&queueJSON, "json", false, "print JSON")
	queue.Flags().IntVar(&limit, "limit", 100, "at most this many (1 to 1000)")
	c.AddCommand(imp, queue)
	return c
}
