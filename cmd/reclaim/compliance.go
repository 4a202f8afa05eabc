package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/workout"
)

// codedError is a failure with its own exit code (run prints its message as it stands).
type codedError struct {
	code int
	msg  string
}

func (e codedError) Error() string { return e.msg }

// ExitCode is the process exit code for e.
func (e codedError) ExitCode() int { return e.code }

func newComplianceCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "compliance",
		Short: "Collection conduct rules: audit a contact log against the CN or US rule pack",
		Long: `The compliance engine decides every contact against a rule pack (cn: GB/T 45251-2025 and the
industry guidelines; us: Regulation F). The same rules re-applied to a finished contact log give
the audit (docs/compliance.md, shared/design/collection-rules.md).`,
	}
	c.AddCommand(newComplianceAuditCmd(g))
	return c
}

func newComplianceAuditCmd(g *globals) *cobra.Command {
	var pack, file string
	var jsonOut bool
	c := &cobra.Command{
		Use:   "audit --pack cn|us --contacts FILE",
		Short: "List every contact of a contact log that breaks a rule of the pack",
		Long: `Reads a contact log (CSV, UTF-8, header contact_id,debtor_id,debt_id,channel,party,number,at,outcome,consent;
see shared/design/collection-rules.md), walks it in time order (ties in file order) and lists each
contact that breaks a rule of the pack, once per rule, in file order. --contacts - reads standard input.
No database or data directory is needed.

Exit codes: 0 no violation, 1 at least one violation, 2 a malformed file (the message names the
line and field) or a usage error.`,
		Example: `  reclaim compliance audit --pack cn --contacts contacts.csv
  reclaim compliance audit --pack us --contacts contacts.csv --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := workout.ParsePack(strings.ToLower(strings.TrimSpace(pack)))
			if err != nil {
				return usagef("--pack %q: want cn or us", pack)
			}
			if file == "" {
				return usagef("--contacts FILE is required (a contact log CSV, or - for standard input)")
			}
			log, err := readContactLogFile(cmd, file)
			if err != nil {
				return err
			}
			flags := workout.Audit(p, log)
			if jsonOut {
				if err := writeJSON(g.stdout, workout.NewAuditResult(len(log), flags)); err != nil {
					return err
				}
			} else {
				printAudit(g.stdout, p, log, flags)
			}
			if len(flags) > 0 {
				return silentError{errors.New("violations found")}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&pack, "pack", string(workout.PackCN), "rule pack: cn or us")
	fl.StringVar(&file, "contacts", "", "contact log CSV file (- for standard input)")
	fl.BoolVar(&jsonOut, "json", false, `print {"contacts": N, "violations": [{"contact_id", "rule", "message"}]}`)
	return c
}

// readContactLogFile reads the contact log at path; an unreadable or malformed file is exit 2.
func readContactLogFile(cmd *cobra.Command, path string) ([]workout.Contact, error) {
	var r io.Reader
	if path == "-" {
		r = cmd.InOrStdin()
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, codedError{exitUsage, "cannot read the contact log: " + err.Error()}
		}
		defer f.Close()
		r = f
	}
	log, err := workout.ReadContactLog(r)
	if err != nil {
		return nil, codedError{exitUsage, path + ": " + reclaim.ErrorMessage(err)}
	}
	return log, nil
}

// printAudit writes the audit as a table and a summary line.
func printAudit(w io.Writer, pack workout.Pack, log []workout.Contact, flags []workout.Flag) {
	if len(flags) > 0 {
		rows := make([][]string, 0, len(flags))
		for _, f := range flags {
			c := log[f.Index]
			rows = append(rows, []string{f.ContactID, c.At.Format("2006-01-02 15:04:05 -07:00"), string(c.Channel), string(c.Party), f.Rule, f.Message})
		}
		table(w, []string{"CONTACT", "LOCAL TIME", "CHANNEL", "PARTY", "RULE", "MESSAGE"}, rows)
		fmt.Fprintln(w)
	}
	contacts := map[int]bool{}
	byRule := map[string]int{}
	for _, f := range flags {
		contacts[f.Index] = true
		byRule[f.Rule]++
	}
	if len(flags) == 0 {
		fmt.Fprintf(w, "%d contacts audited under the %s pack: no violations\n", len(log), pack)
		return
	}
	rules := make([]string, 0, len(byRule))
	for r := range byRule {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	parts := make([]string, len(rules))
	for i, r := range rules {
		parts[i] = fmt.Sprintf("%s %d", r, byRule[r])
	}
	fmt.Fprintf(w, "%d contacts audited under the %s pack: %d violations on %d contacts (%s)\n",
		len(log), pack, len(flags), len(contacts), strings.Join(parts, ", "))
}
