package nango

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/kit"
)

// APIURL is the API's root URL, as the Connect UI is given it.
func (c *Client) APIURL() string { return c.baseURL() }

// AnswerConnectSession answers the Connect UI page's request for a connect
// session: cs's token and expiry, or, when err says it could not be
// created, 502 nango_unavailable through k (the cause is logged, never
// shown).
func AnswerConnectSession(k kit.Kit, w http.ResponseWriter, r *http.Request, cs *ConnectSession, err error) {
	if err != nil {
		k.Log(r).Warn("cannot create a Nango connect session", zap.Error(err))
		k.Fail(w, r, kit.Problem{Status: http.StatusBadGateway, Code: "nango_unavailable", Heading: "Nango unavailable",
			Message: "Nango could not be reached. Please try again in a moment.", Retry: k.Prefix() + "/login"})
		return
	}
	k.JSON(w, http.StatusOK, map[string]any{"token": cs.Token, "expires_at": cs.ExpiresAt})
}
