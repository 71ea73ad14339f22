package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/internal/service"
)

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "token",
		Aliases: []string{"tokens"},
		Short:   "Create, list and revoke API tokens",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRun,
	}
	cmd.AddCommand(a.tokenCreateCommand(), a.tokenListCommand(), a.tokenRevokeCommand())
	return cmd
}

func (a *app) tokenCreateCommand() *cobra.Command {
	var in service.TokenRequest
	cmd := &cobra.Command{
		Use:   "create [--for EMAIL] [--scope scim]",
		Short: "Create a token; its secret is printed once",
		Long: `Create an API token for yourself, or (admins) for anyone.

The secret is printed alone on standard output, and the token's id and expiry on standard
error, so that the secret can be captured:

  export GATEHOUSE_TOKEN=$(gatehouse token create --description laptop)

Gatehouse stores only a hash: the secret cannot be shown again.

A token with --scope scim is the credential of an identity provider's SCIM client (see
docs/scim.md); it works only at /scim/v2, not for the API or the UI:

  gatehouse token create --for okta-scim@example.com --scope scim --ttl 8760h --description "Okta SCIM"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.TTL != "" {
				if _, err := gatehouse.ParseDuration(in.TTL); err != nil {
					return usageErrorf(cmd, "--ttl: %v", err)
				}
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ct, err := c.CreateToken(cmd.Context(), in)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, ct)
			}
			fmt.Fprintln(a.stdout, ct.Secret)
			owner := in.For
			if owner == "" {
				owner = "you"
			}
			printf(a.stderr, "Token %s for %s, expires %s. Copy the secret now: it is not shown again.\n",
				ct.Token.ID, owner, tsp(ct.Token.ExpiresAt))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.For, "for", "", "email, id or employee_id of the identity (default: you)")
	fl.StringVar(&in.TTL, "ttl", "", "lifetime, e.g. 720h or 30d (default 720h)")
	fl.StringVar(&in.Description, "description", "", "what the token is for (shown in token list)")
	fl.StringSliceVar(&in.Scopes, "scope", nil, "limit the token to a scope (admins only): scim, for an IdP's SCIM client at /scim/v2")
	return cmd
}

func (a *app) tokenListCommand() *cobra.Command {
	var (
		who string
		all bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List tokens: yours, or (admins) everyone's",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			list, err := c.ListTokens(ctx, gatehouse.TokenFilter{IdentityID: who, IncludeRevoked: all})
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.stdout, gatehouse.Page[*gatehouse.Token]{Items: nonNil(list)})
			}
			ids := make([]string, len(list))
			for i, t := range list {
				ids[i] = t.IdentityID
			}
			names := identityNames(ctx, c, ids)
			now := time.Now()
			t := newTable(a.stdout, "ID", "IDENTITY", "HINT", "DESCRIPTION", "CREATED", "EXPIRES", "LAST_USED", "STATE")
			for _, tok := range list {
				state := "valid"
				switch {
				case tok.RevokedAt != nil:
					state = "revoked"
				case !tok.Valid(now):
					state = "expired"
				}
				t.row(tok.ID, names[tok.IdentityID], tok.Hint, truncate(tok.Description, 30), ts(tok.CreatedAt),
					tsp(tok.ExpiresAt), tsp(tok.LastUsedAt), state)
			}
			return t.flush()
		},
	}
	cmd.Flags().StringVar(&who, "for", "", "only this identity's tokens (email, id or employee_id)")
	cmd.Flags().BoolVar(&all, "all", false, "include revoked tokens")
	return cmd
}

func (a *app) tokenRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token: yours, or (admins) anyone's",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			tok, err := c.RevokeToken(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.json() {
				if tok == nil {
					return printJSON(a.stdout, map[string]string{"id": args[0], "state": "revoked"})
				}
				return printJSON(a.stdout, tok)
			}
			printf(a.stdout, "Revoked token %s.\n", args[0])
			return nil
		},
	}
}
