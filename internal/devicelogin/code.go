package devicelogin

import (
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/clientip"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
)

// userCodeTries is how many user codes are drawn for a request before
// giving up: each is taken only when no live request holds it.
const userCodeTries = 5

// CodeResponse is the answer to POST {prefix}/device/code (RFC 8628
// §3.2).
type CodeResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	// ExpiresIn is the codes' lifetime, in seconds.
	ExpiresIn int `json:"expires_in"`
	// Interval is how long to wait between polls, in seconds.
	Interval int `json:"interval"`
}

// serveCode answers POST {prefix}/device/code: a new device code and user
// code. Anyone may ask, so every request is admitted through the
// engine's flow limiter before anything is stored.
func (e *endpoints) serveCode(w http.ResponseWriter, r *http.Request, _ string) {
	if r.Method != http.MethodPost {
		e.k.MethodNotAllowed(w, "POST")
		return
	}
	origin, ok := e.k.Origin(w, r)
	if !ok {
		return
	}
	if !readForm(w, r) {
		e.oauthError(w, http.StatusBadRequest, "invalid_request", "the form could not be read")
		return
	}
	client := r.PostForm.Get("client_name")
	if !validClientName(client) {
		e.oauthError(w, http.StatusBadRequest, "invalid_request", "client_name must be at most 64 printable characters")
		return
	}
	if _, ok := e.k.BeginFlow(w, r); !ok {
		return
	}
	ctx := r.Context()
	deviceCode := loginstate.Random(32)
	req := request{Owner: loginstate.Owner{Flow: flowName}, Client: client, IP: clientip.Of(r), Device: hashHex(deviceCode)}
	userCode := ""
	for range userCodeTries {
		c := NewUserCode()
		free, err := e.s.requests.PutNew(ctx, c, "", &req)
		if err != nil {
			e.k.Log(r).Warn("cannot record a device's request", zap.Error(err))
			e.k.StoreDown(w, r)
			return
		}
		if free {
			userCode = c
			break
		}
	}
	if userCode == "" {
		e.k.Log(r).Error("no free user code for a device's request", zap.Int("tries", userCodeTries))
		e.k.StoreDown(w, r)
		return
	}
	if err := e.s.grants.Put(ctx, deviceCode, "", &grant{Owner: loginstate.Owner{Flow: flowName}, UserCode: userCode}); err != nil {
		e.k.Log(r).Warn("cannot record a device code", zap.Error(err))
		e.k.StoreDown(w, r)
		return
	}
	e.k.Log(r).Info("device login started", zap.String("client_name", client))
	verify := origin.Scheme + "://" + origin.Host + e.k.Prefix() + "/device"
	e.k.JSON(w, http.StatusOK, CodeResponse{
		DeviceCode: deviceCode, UserCode: FormatUserCode(userCode),
		VerificationURI: verify, VerificationURIComplete: verify + "?user_code=" + FormatUserCode(userCode),
		ExpiresIn: int(e.s.opts.Lifetime / time.Second), Interval: int(Interval / time.Second),
	})
}
