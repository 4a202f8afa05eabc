package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"reclaim/auction"
)

// newAuctionCmd is 'reclaim auction': the auction engine's commands (today: replay).
func newAuctionCmd(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "auction",
		Short: "Auction rules: replay an auction file through the engine",
	}
	c.AddCommand(newAuctionReplayCmd(g))
	return c
}

// newAuctionReplayCmd is 'reclaim auction replay FILE [--json]'.
func newAuctionReplayCmd(g *globals) *cobra.Command {
	var jsonOut bool
	c := &cobra.Command{
		Use:   "replay FILE",
		Short: "Run an auction file through the auction engine and print each event's fate and the outcome",
		Long: `Reads an auction file (JSON: the listing and its events in order of server receipt time;
format in docs/auction.md and ../shared/design/auction-rules.md), checks the listing against its
rule pack (judicial, yindeng or marketplace), applies every event at its receipt time, and prints
for each event whether it was accepted or rejected, with the rule and the reason, then the final end
(after anti-sniping extensions), the outcome (sold, failed or invalid), the winner and price when
sold and the re-listing bounds when failed. Needs no database.

Exit codes: 0 the listing is valid (whatever the outcome), 1 the listing breaks its rules (each
failing rule is named; no event is applied), 2 the file is malformed (the message names the JSON
path of the bad element, such as events[3].amount) or cannot be read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readLimited(args[0], auction.MaxFileSize)
			if err != nil {
				return usagef("%v", err)
			}
			f, err := auction.ParseFile(data)
			if err != nil {
				var pe *auction.ParseError
				if errors.As(err, &pe) {
					return usagef("%s: malformed auction file: %v", args[0], pe)
				}
				return usagef("%s: %v", args[0], err)
			}
			rep := auction.Replay(f)
			if jsonOut {
				if err := writeJSON(g.stdout, rep); err != nil {
					return err
				}
			} else {
				rep.WriteText(g.stdout, f)
			}
			if !rep.Valid {
				return silentError{fmt.Errorf("%s: the listing is invalid", args[0])}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&jsonOut, "json", false, "print one JSON object (the shape of auction-rules.md)")
	return c
}

// readLimited reads a file of at most max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, max>>20)
	}
	return data, nil
}
