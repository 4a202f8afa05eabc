package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"reclaim/pii"
)

func newPIICmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "pii", Short: "Personal-data key management"}
	var newKeyFile string
	var batch int
	rotate := &cobra.Command{
		Use:   "rotate-key --new-key-file FILE",
		Short: "Re-seal every personal-data record under a new key (resumable)",
		Long: `Re-seals every borrower's personal data under the key in --new-key-file, opening it with the
current key (--pii-key-file or $RECLAIM_PII_KEY, as for every command). Records are re-sealed in
batches, each committed on its own; every record names the key it is under, so the command can be
interrupted (Ctrl-C) and run again with the same two keys, and it continues where it stopped.
While a rotation is in progress no other command or server starts. When every record is under
the new key, the database records the new key's fingerprint: from then on start everything with
the new key. Stop the servers first. Keep the old key until every backup taken before the
rotation has expired: those backups are sealed under it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if newKeyFile == "" {
				return usagef("--new-key-file is required")
			}
			ctx := cmd.Context()
			newKey, err := pii.LoadKeyFile(newKeyFile)
			if err != nil {
				return err
			}
			a, err := g.openAppUnchecked(ctx)
			if err != nil {
				return err
			}
			defer a.Close()
			old := a.keys.SealingKey()
			st, err := a.db.PIIKeyState(ctx)
			if err != nil {
				return err
			}
			if st.Current == newKey.Fingerprint() && st.Pending == "" {
				fmt.Fprintf(g.stdout, "the personal data is already under key %s\n", newKey.Fingerprint()[:16])
				return nil
			}
			if st.Current == "" {
				// First use: bind the current key (refused when the data is under another).
				if err := a.db.BindPIIKey(ctx, old.Fingerprint(), old.ID()); err != nil {
					return fmt.Errorf("personal-data key (%s): %w", a.keys.Source(), err)
				}
			}
			if err := a.db.BeginPIIRotation(ctx, old.Fingerprint(), newKey.Fingerprint()); err != nil {
				return fmt.Errorf("personal-data key (%s): %w", a.keys.Source(), err)
			}
			both, err := pii.NewKeyring(newKey, old)
			if err != nil {
				return err
			}
			reseal := func(sealed, aad []byte) ([]byte, error) {
				pt, err := both.Open(sealed, aad)
				if err != nil {
					return nil, err
				}
				defer clear(pt)
				return both.Seal(pt, aad)
			}
			var total int64
			var bar *progress
			for {
				n, left, err := a.db.ResealPII(ctx, newKey.ID(), batch, reseal)
				if err != nil {
					bar.done()
					return fmt.Errorf("%w (re-sealed %d records; run the command again to continue)", err, total)
				}
				total += n
				if bar == nil {
					bar = g.newProgress("re-sealing", total+left)
				}
				bar.set(total)
				if left == 0 || n == 0 {
					break
				}
			}
			bar.done()
			if err := a.db.FinishPIIRotation(ctx, newKey.Fingerprint(), newKey.ID()); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "re-sealed %d records; the personal data is now under key %s (fingerprint). Start every command and server with the new key.\n",
				total, newKey.Fingerprint()[:16])
			return nil
		},
	}
	rotate.Flags().StringVar(&newKeyFile, "new-key-file", "", "file holding the new 32-byte key, base64 or hex (mode 0600)")
	rotate.Flags().IntVar(&batch, "batch", 500, "records re-sealed per transaction")
	c.AddCommand(rotate)
	return c
}
