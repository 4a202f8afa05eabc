package main

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"reclaim"
	"reclaim/auth"
)

// cliActor names the operator in the account audit log: "cli:<OS user>".
func cliActor(ctx context.Context) context.Context {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "operator"
	}
	return reclaim.WithActor(ctx, "cli:"+name)
}

// choosePassword returns the given password after the policy check, or a generated one.
func choosePassword(given, username string) (pw string, generated bool, err error) {
	if given == "" {
		return auth.GeneratePassword(16, username), true, nil
	}
	if err := auth.CheckPassword(given, username); err != nil {
		return "", false, usagef("--password: %v", err)
	}
	return given, false, nil
}

func newUserCmd(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "Manage accounts",
		Long: "Manage accounts and API tokens. Every change is recorded in the account audit log under cli:<your OS user>."}
	var role, display, password string
	var mustChange bool
	add := &cobra.Command{
		Use:   "add USERNAME --role ROLE",
		Short: "Create an account (prints a generated password unless --password is given)",
		Long: "Creates an account. Roles: " + joinRoles() + ". The first admin is created this way:\n" +
			"  reclaim user add alice --role admin\n" +
			"The password is temporary: the user must change it at the first sign-in (--must-change=false for\n" +
			"machine accounts whose password never passes through another person).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := reclaim.Role(role)
			if !r.Valid() {
				return usagef("--role must be one of %s", joinRoles())
			}
			pw, generated, err := choosePassword(password, args[0])
			if err != nil {
				return err
			}
			a, err := g.openApp(cmd.Context())
			if err != nil {
				return err
			}
			defer a.Close()
			h, err := auth.Hash(pw)
			if err != nil {
				return err
			}
			u, err := a.db.CreateUser(cliActor(cmd.Context()), reclaim.User{Username: args[0], DisplayName: display, Role: r,
				PasswordHash: h, MustChangePassword: mustChange})
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Created %s (%s), id %d\n", u.Username, u.Role, u.ID)
			if generated {
				fmt.Fprintf(g.stdout, "Password: %s\n(shown once)\n", pw)
			}
			if mustChange {
				fmt.Fprintln(g.stdout, "The user must change this password at the first sign-in.")
			}
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", "", "role: "+joinRoles())
	add.Flags().StringVar(&display, "name", "", "display name")
	add.Flags().StringVar(&password, "password", "", "password (default: generate one); prefer the generated one over a password on the command line")
	add.Flags().BoolVar(&mustChange, "must-change", true, "the user must change the password at the first sign-in")

	var pwNew string
	var pwMust bool
	passwd := &cobra.Command{
		Use:   "passwd USERNAME",
		Short: "Set a new password for an account (temporary; ends its sessions and tokens)",
		Long: "Sets a new password (generated and printed once unless --password is given). The user must change\n" +
			"it at the next sign-in; every session of the user ends and every API token is revoked.",
		Args: cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			ctx := cliActor(cmd.Context())
			u, err := a.db.UserByUsername(ctx, args[0])
			if err != nil {
				return err
			}
			pw, generated, err := choosePassword(pwNew, u.Username)
			if err != nil {
				return err
			}
			if u.PasswordHash, err = auth.Hash(pw); err != nil {
				return err
			}
			u.MustChangePassword = pwMust
			if _, err := a.db.UpdateUser(ctx, u); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Password of %s set; its sessions ended and its API tokens were revoked\n", u.Username)
			if generated {
				fmt.Fprintf(g.stdout, "Password: %s\n(shown once)\n", pw)
			}
			return nil
		}),
	}
	passwd.Flags().StringVar(&pwNew, "password", "", "the new password (default: generate one)")
	passwd.Flags().BoolVar(&pwMust, "must-change", true, "the user must change the password at the next sign-in")

	setDisabled := func(disabled bool) func(cmd *cobra.Command, args []string, a *app) error {
		return func(cmd *cobra.Command, args []string, a *app) error {
			ctx := cliActor(cmd.Context())
			u, err := a.db.UserByUsername(ctx, args[0])
			if err != nil {
				return err
			}
			u.Disabled = disabled
			if _, err := a.db.UpdateUser(ctx, u); err != nil {
				return err
			}
			state := "enabled"
			if disabled {
				state = "disabled; its sessions ended and its API tokens were revoked"
			}
			fmt.Fprintf(g.stdout, "%s %s\n", u.Username, state)
			return nil
		}
	}
	disable := &cobra.Command{Use: "disable USERNAME", Short: "Disable an account (ends its sessions and tokens)", Args: cobra.ExactArgs(1),
		RunE: g.withApp(setDisabled(true))}
	enable := &cobra.Command{Use: "enable USERNAME", Short: "Enable a disabled account (old sessions and tokens stay ended)", Args: cobra.ExactArgs(1),
		RunE: g.withApp(setDisabled(false))}

	c.AddCommand(add, passwd, disable, enable, newTokenCmd(g), newUserListCmd(g), newUserAuditCmd(g))
	return c
}

func newTokenCmd(g *globals) *cobra.Command {
	var tokenName string
	create := func(cmd *cobra.Command, args []string, a *app) error {
		ctx := cliActor(cmd.Context())
		u, err := a.db.UserByUsername(ctx, args[0])
		if err != nil {
			return err
		}
		tok, hash, err := auth.NewToken()
		if err != nil {
			return err
		}
		if _, err := a.db.CreateToken(ctx, u.ID, tokenName, hash); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "%s\n", tok)
		return nil
	}
	token := &cobra.Command{
		Use:   "token USERNAME",
		Short: "Create an API token for a machine client (printed once); list and revoke tokens",
		Long: "reclaim user token USERNAME (or: token create USERNAME) prints a new token once.\n" +
			"reclaim user token list USERNAME lists a user's tokens; reclaim user token revoke ID revokes one.",
		Args: cobra.ExactArgs(1),
		RunE: g.withApp(create),
	}
	token.Flags().StringVar(&tokenName, "name", "cli", "a label for the token")
	createCmd := &cobra.Command{Use: "create USERNAME", Short: "Create an API token (printed once)", Args: cobra.ExactArgs(1),
		RunE: g.withApp(create)}
	createCmd.Flags().StringVar(&tokenName, "name", "cli", "a label for the token")
	var asJSON bool
	list := &cobra.Command{
		Use:   "list USERNAME",
		Short: "List a user's API tokens (never the tokens themselves)",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			u, err := a.db.UserByUsername(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			ts, err := a.db.ListTokens(cmd.Context(), u.ID)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(g.stdout, ts)
			}
			var rows [][]string
			for _, t := range ts {
				st := "active"
				if t.Revoked {
					st = "revoked " + t.RevokedAt.Format(time.RFC3339) + " (" + t.RevokedReason + ")"
				}
				rows = append(rows, []string{strconv.FormatInt(t.ID, 10), t.Name, t.CreatedAt.Format(time.RFC3339), st})
			}
			table(g.stdout, []string{"ID", "NAME", "CREATED", "STATUS"}, rows)
			return nil
		}),
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var reason string
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token by id (see token list)",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("a token id is a positive number, not %q", args[0])
			}
			t, err := a.db.RevokeToken(cliActor(cmd.Context()), 0, id, reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "Token %d (%s) revoked\n", t.ID, t.Name)
			return nil
		}),
	}
	revoke.Flags().StringVar(&reason, "reason", "revoked with the CLI", "why; recorded in the account audit log")
	token.AddCommand(createCmd, list, revoke)
	return token
}

func newUserListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			us, err := a.db.ListUsers(cmd.Context())
			if err != nil {
				return err
			}
			var rows [][]string
			for _, u := range us {
				st := "active"
				if u.Disabled {
					st = "disabled"
				} else if u.MustChangePassword {
					st = "must change password"
				}
				rows = append(rows, []string{fmt.Sprint(u.ID), u.Username, u.DisplayName, string(u.Role), st})
			}
			table(g.stdout, []string{"ID", "USERNAME", "NAME", "ROLE", "STATUS"}, rows)
			return nil
		}),
	}
}

func newUserAuditCmd(g *globals) *cobra.Command {
	var f reclaim.AccountEventFilter
	var asJSON bool
	c := &cobra.Command{
		Use:   "audit",
		Short: "The account audit log: who changed which account, how and when",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, args []string, a *app) error {
			evs, err := a.db.ListAccountEvents(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(g.stdout, evs)
			}
			var rows [][]string
			for _, e := range evs {
				rows = append(rows, []string{e.At.Format(time.RFC3339), e.Actor, e.Action, e.Username, e.Detail})
			}
			table(g.stdout, []string{"AT", "ACTOR", "ACTION", "ACCOUNT", "DETAIL"}, rows)
			return nil
		}),
	}
	c.Flags().StringVar(&f.Username, "user", "", "only changes to this account")
	c.Flags().StringVar(&f.Actor, "actor", "", "only changes by this actor (user:alice, cli:root)")
	c.Flags().IntVar(&f.Limit, "limit", 100, "at most this many, newest first")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
