package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"reclaim/tlog/verify"
	"reclaim/tlog/witness"
)

// newWitnessCmd is 'reclaim witness': run a C2SP tlog-witness for pool logs, and 'reclaim witness
// keygen' to make its key.
func newWitnessCmd() *cobra.Command {
	var keyFile, logsFile, listen, stateFile, logLevel string
	c := &cobra.Command{
		Use:   "witness --key FILE --logs FILE --state FILE [--listen 127.0.0.1:PORT]",
		Short: "Run a transparency-log witness that cosigns pool checkpoints",
		Long: `Runs a witness (C2SP tlog-witness) for the pool logs listed in --logs: it serves
POST /add-checkpoint, checks each new checkpoint's log signature and its consistency with the last
checkpoint it cosigned for that log, records the new size and root in --state (a JSON file,
replaced atomically), and returns its cosignature (C2SP tlog-cosignature, cosignature/v1).

--key is the secret key file written by 'reclaim witness keygen'. --logs lists one log per line:
  log <note verifier key> [<origin>]
(the origin defaults to the key's name; '#' starts a comment line). Give investors the witness's
verifier key printed by keygen for their policy files.

The witness should be run by a party independent of the issuer (trustee, rating agency,
investor representative), on its own machine. Stops on SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return usagef("--log-level: %v", err)
			}
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: lvl}))
			skey, err := os.ReadFile(keyFile)
			if err != nil {
				return usagef("--key: %v", err)
			}
			signer, err := verify.NewCosignatureSignerFromKey(string(skey), time.Now)
			if err != nil {
				return usagef("--key %s: %v", keyFile, err)
			}
			lb, err := os.ReadFile(logsFile)
			if err != nil {
				return usagef("--logs: %v", err)
			}
			logs, err := witness.ParseLogs(lb)
			if err != nil {
				return usagef("--logs %s: %v", logsFile, err)
			}
			if len(logs) == 0 {
				return usagef("--logs %s lists no log", logsFile)
			}
			w, err := witness.New(signer, logs, stateFile, log)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("cannot listen on %s: %w", listen, err)
			}
			mux := http.NewServeMux()
			mux.Handle("POST /add-checkpoint", w)
			srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
				WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
			fmt.Fprintf(cmd.OutOrStdout(), "witness %s+%08x serving %d logs on http://%s/add-checkpoint\n",
				signer.Name(), signer.KeyHash(), len(logs), ln.Addr())
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-cmd.Context().Done():
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := srv.Shutdown(ctx); err != nil {
					return err
				}
				if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
					return err
				}
				return nil
			}
		},
	}
	f := c.Flags()
	f.StringVar(&keyFile, "key", "", "the witness's secret key file (from 'reclaim witness keygen')")
	f.StringVar(&logsFile, "logs", "", "file listing the logs to witness: log <vkey> [<origin>] per line")
	f.StringVar(&listen, "listen", "127.0.0.1:7380", "listen address")
	f.StringVar(&stateFile, "state", "", "JSON file holding the latest cosigned size and root of each log")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	c.MarkFlagRequired("key")
	c.MarkFlagRequired("logs")
	c.MarkFlagRequired("state")

	var name, out string
	keygen := &cobra.Command{
		Use:   "keygen --name NAME --out FILE",
		Short: "Make a witness key: writes the secret key to FILE and prints the verifier key",
		Long: `Generates an Ed25519 witness key named NAME (a schema-less URL such as trustee.example/witness),
writes its secret key to FILE (mode 0600; an existing file is never overwritten) and prints the
verifier key, which goes into investors' policy files as 'witness <vkey>'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" || strings.ContainsAny(name, " \t+") {
				return usagef("--name must be non-empty without spaces or '+'")
			}
			skey, vkey, err := verify.GenerateCosignatureKey(name)
			if err != nil {
				return usagef("%v", err)
			}
			fh, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("cannot create the key file: %w", err)
			}
			_, err = fmt.Fprintln(fh, skey)
			if err2 := fh.Sync(); err == nil {
				err = err2
			}
			if err2 := fh.Close(); err == nil {
				err = err2
			}
			if err != nil {
				os.Remove(out)
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), vkey)
			return nil
		},
	}
	keygen.Flags().StringVar(&name, "name", "", "the witness's name, e.g. trustee.example/witness")
	keygen.Flags().StringVar(&out, "out", "", "file to write the secret key to")
	keygen.MarkFlagRequired("name")
	keygen.MarkFlagRequired("out")
	c.AddCommand(keygen)
	return c
}
