package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "gatehouse",
		Usage: "sessions list|revoke --user <id> [--address <admin>]",
		Short: "Lists or ends a person's Gatehouse sessions through the admin API",
		Long: `
Talks to the admin API of the running Caddy (admin.api.gatehouse):

  sessions list   --user <id>   lists the user's live sessions
  sessions revoke --user <id>   ends all of them, on every instance sharing
                                the store, and revokes their provider tokens

The user id is the one the upstream sees in X-Auth-User-Id, e.g.
corp:248289761001. The admin address is --address if given, else the one in
--config (with --adapter), else Caddy's default (localhost:2019).
`,
		CobraFunc: func(cmd *cobra.Command) {
			sessions := &cobra.Command{Use: "sessions", Short: "A user's sessions"}
			for _, sub := range []struct {
				name, short, method string
			}{
				{"list", "Lists the user's live sessions", http.MethodGet},
				{"revoke", "Ends every session of the user and revokes their provider tokens", http.MethodDelete},
			} {
				c := &cobra.Command{Use: sub.name + " --user <id>", Short: sub.short, Args: cobra.NoArgs}
				c.Flags().String("user", "", "User id, as in X-Auth-User-Id (required)")
				c.Flags().String("address", "", "Address of the admin endpoint, if not the config's")
				c.Flags().StringP("config", "c", "", "Configuration file, to find the admin endpoint in")
				c.Flags().StringP("adapter", "a", "", "Name of the config adapter")
				c.Flags().Bool("json", false, "Print the admin API's JSON answer")
				method := sub.method
				c.RunE = func(c *cobra.Command, _ []string) error {
					return runSessions(c, method)
				}
				sessions.AddCommand(c)
			}
			cmd.AddCommand(sessions)
		},
	})
}

func runSessions(c *cobra.Command, method string) error {
	fl := c.Flags()
	user, _ := fl.GetString("user")
	address, _ := fl.GetString("address")
	config, _ := fl.GetString("config")
	adapter, _ := fl.GetString("adapter")
	asJSON, _ := fl.GetBool("json")
	if user == "" {
		return errors.New("--user is required: the user id, as in X-Auth-User-Id (e.g. corp:248289761001)")
	}
	addr, err := caddycmd.DetermineAdminAPIAddress(address, nil, config, adapter)
	if err != nil {
		return fmt.Errorf("finding the admin endpoint: %w", err)
	}
	resp, err := caddycmd.AdminAPIRequest(addr, method, usersPath+url.PathEscape(user)+"/sessions", nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("reading the admin API's answer: %w", err)
	}
	out := c.OutOrStdout()
	if asJSON {
		_, err := out.Write(body)
		return err
	}
	if method == http.MethodDelete {
		var e Ended
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("reading the admin API's answer: %w", err)
		}
		_, err := fmt.Fprintf(out, "ended %d session(s) of %s; provider tokens revoked for %d\n", e.Ended, e.UserID, e.TokensRevoked)
		return err
	}
	var s Sessions
	if err := json.Unmarshal(body, &s); err != nil {
		return fmt.Errorf("reading the admin API's answer: %w", err)
	}
	return printSessions(out, s)
}

// printSessions writes s as a table.
func printSessions(w io.Writer, s Sessions) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPROVIDER\tHOST\tCREATED\tLAST SEEN\tIP\tUSER AGENT")
	for _, x := range s.Sessions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.ID, x.Provider, x.Host, stamp(x.CreatedAt), stamp(x.LastSeenAt),
			dash(x.IP), dash(strings.Map(printable, x.UserAgent)))
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printable drops control characters (a User-Agent is the client's to
// choose, and lands on an operator's terminal).
func printable(r rune) rune {
	if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
		return -1
	}
	return r
}
