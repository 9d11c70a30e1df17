package devicelogin

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse-auth/gatehouse/internal/clientip"
	"github.com/gatehouse-auth/gatehouse/internal/kit"
	"github.com/gatehouse-auth/gatehouse/internal/loginstate"
	"github.com/gatehouse-auth/gatehouse/internal/pages"
	"github.com/gatehouse-auth/gatehouse/internal/session"
)

// Lookup is a device's request as GET {prefix}/device?user_code=…
// answers it in JSON.
type Lookup struct {
	// UserCode is the code, as XXXX-XXXX.
	UserCode string `json:"user_code"`
	// ClientName is the name the device gave ("" for none).
	ClientName string `json:"client_name"`
	// IP is the address the device asked from.
	IP string `json:"ip"`
	// RequestedAt is when it asked (RFC 3339, UTC).
	RequestedAt string `json:"requested_at"`
}

// serveDevice answers {prefix}/device: the person's page (GET) and their
// decision (POST).
func (e *endpoints) serveDevice(w http.ResponseWriter, r *http.Request, _ string) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		e.serveLookup(w, r)
	case http.MethodPost:
		e.serveDecision(w, r)
	default:
		e.k.MethodNotAllowed(w, "GET, HEAD, POST")
	}
}

// page is the device page for the signed-in session sess.
func (e *endpoints) page(sess *session.Session, state string) pages.Device {
	return pages.Device{
		Brand: e.k.Brand(), State: state, User: sess.DisplayName(), Action: e.k.Prefix() + "/device",
		Sessions: e.k.Prefix() + "/sessions", Home: "/",
	}
}

// serveLookup answers GET {prefix}/device: without a code, a form asking
// for it; with user_code, the device's request to approve or deny; with
// result (after a decision), its outcome. A person not signed in signs
// in first and comes back here, code included.
func (e *endpoints) serveLookup(w http.ResponseWriter, r *http.Request) {
	sess, tok, ok := e.k.RequireSession(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	raw := q.Get("user_code")
	if raw == "" {
		state := "enter"
		if res := q.Get("result"); res == "approved" || res == "denied" {
			state = res
		}
		if !e.k.WantsPage(r) {
			e.k.Fail(w, r, kit.Problem{Status: http.StatusBadRequest, Code: "invalid_request", Message: "user_code is missing."})
			return
		}
		pages.RenderDevice(w, e.page(sess, state))
		return
	}
	code, ok := e.userCode(w, r, raw)
	if !ok {
		return
	}
	if !e.admitGuess(w, r, sess) {
		return
	}
	var req request
	if err := e.s.requests.Get(r.Context(), code, &req); err != nil {
		e.unknownCode(w, r, sess, err)
		return
	}
	if !e.k.WantsPage(r) {
		e.k.JSON(w, http.StatusOK, Lookup{
			UserCode: FormatUserCode(code), ClientName: req.Client, IP: req.IP,
			RequestedAt: req.Created.UTC().Format(time.RFC3339),
		})
		return
	}
	p := e.page(sess, "confirm")
	p.CSRF, p.Code, p.Client, p.IP, p.Requested = e.k.CSRFToken(tok), FormatUserCode(code), req.Client, req.IP, req.Created
	pages.RenderDevice(w, p)
}

// serveDecision answers POST {prefix}/device (user_code, action approve
// or deny, csrf), held to the sign-out form's checks. Approving creates
// the device's session; either way the user code is used up and the
// device learns the outcome at its next poll.
func (e *endpoints) serveDecision(w http.ResponseWriter, r *http.Request) {
	sess, _, ok := e.k.RequireForm(w, r, e.k.Prefix()+"/device")
	if !ok {
		return
	}
	if e.k.Bearer(r) {
		// A device is signed in by a person at a browser: a bearer session
		// (a device's own, say) signing in further devices would let one
		// session beget others without anyone looking.
		e.k.Fail(w, r, kit.Problem{Status: http.StatusForbidden, Code: "browser_required", Heading: "Refused",
			Message: "Approve a device from a browser where you are signed in.", Retry: e.k.Prefix() + "/device"})
		return
	}
	action := r.PostForm.Get("action")
	if action != "approve" && action != "deny" {
		e.k.Fail(w, r, kit.Problem{Status: http.StatusBadRequest, Code: "invalid_request", Heading: "Refused",
			Message: "Choose Approve or Deny.", Retry: e.k.Prefix() + "/device"})
		return
	}
	code, ok := e.userCode(w, r, r.PostForm.Get("user_code"))
	if !ok {
		return
	}
	if !e.admitGuess(w, r, sess) {
		return
	}
	ctx := r.Context()
	var req request
	if err := e.s.requests.Claim(ctx, code, &req); err != nil {
		e.unknownCode(w, r, sess, err)
		return
	}
	d := decision{Owner: loginstate.Owner{Flow: flowName, UserID: sess.UserID}, Approved: action == "approve"}
	if d.Approved {
		dev := &session.Session{
			User: sess.User, CheckedAt: sess.CheckedAt, Host: sess.Host,
			IP: req.IP, UserAgent: userAgent(req.Client),
			// The provider's session the approving one came from: its
			// back-channel logout ends the device's session too.
			IdPSession: sess.IdPSession,
			// It ends when the approving session would: approving again
			// and again must not keep anyone signed in for ever.
			ExpiresAt: sess.ExpiresAt,
		}
		dev.Groups, dev.Repos, dev.Connections = slices.Clone(sess.Groups), slices.Clone(sess.Repos), slices.Clone(sess.Connections)
		devTok, err := e.m.Create(ctx, dev)
		if err != nil {
			e.k.Log(r).Warn("cannot create a device's session", zap.Error(err))
			e.k.StoreDown(w, r)
			return
		}
		d.Token = devTok
	}
	if err := e.s.decisions.Put(ctx, req.Device, "", &d); err != nil {
		e.k.Log(r).Warn("cannot record a device login's decision", zap.Error(err))
		if d.Token != "" {
			_ = e.m.Delete(context.WithoutCancel(ctx), d.Token)
		}
		e.k.StoreDown(w, r)
		return
	}
	e.k.Log(r).Info("device login decided", zap.String("user_id", sess.UserID), zap.Bool("approved", d.Approved),
		zap.String("device_ip", req.IP), zap.String("client_name", req.Client))
	if !e.k.WantsPage(r) {
		e.k.JSON(w, http.StatusOK, map[string]bool{"approved": d.Approved})
		return
	}
	result := "denied"
	if d.Approved {
		result = "approved"
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, e.k.Prefix()+"/device?result="+result, http.StatusSeeOther)
}

// userCode reads a code as the person typed it; when it is not one, it
// answers 400 and reports false.
func (e *endpoints) userCode(w http.ResponseWriter, r *http.Request, raw string) (string, bool) {
	code, ok := NormalizeUserCode(raw)
	if !ok {
		e.k.Fail(w, r, kit.Problem{Status: http.StatusBadRequest, Code: "invalid_user_code", Heading: "Not a valid code",
			Message: "A code is 8 letters, shown as XXXX-XXXX by your device. Check it and enter it again.",
			Retry:   e.k.Prefix() + "/device"})
		return "", false
	}
	return code, true
}

// admitGuess refuses (429) a person, or an address, that entered
// MaxWrongCodes wrong codes within GuessWindow.
func (e *endpoints) admitGuess(w http.ResponseWriter, r *http.Request, sess *session.Session) bool {
	over, err := e.s.guessing(r.Context(), sess.UserID, clientip.Of(r))
	if err != nil {
		e.k.Log(r).Warn("cannot read the count of wrong user codes", zap.Error(err))
		e.k.StoreDown(w, r)
		return false
	}
	if over {
		e.tooManyGuesses(w, r, sess)
		return false
	}
	return true
}

func (e *endpoints) tooManyGuesses(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	e.k.Log(r).Warn("device login: too many wrong user codes", zap.String("user_id", sess.UserID))
	w.Header().Set("Retry-After", "600")
	e.k.Fail(w, r, kit.Problem{Status: http.StatusTooManyRequests, Code: "too_many_attempts", Heading: "Too many wrong codes",
		Message: "Too many wrong codes were entered. Please wait 10 minutes, then enter the code your device shows."})
}

// unknownCode answers a lookup whose code is unknown, expired or used
// (err from the flows), counting it as a wrong guess; or 503 when the
// store could not answer.
func (e *endpoints) unknownCode(w http.ResponseWriter, r *http.Request, sess *session.Session, err error) {
	if !errors.Is(err, loginstate.ErrUnknownState) {
		e.k.Log(r).Warn("cannot read a device's request", zap.Error(err))
		e.k.StoreDown(w, r)
		return
	}
	over, err := e.s.wrong(r.Context(), sess.UserID, clientip.Of(r))
	if err != nil {
		e.k.Log(r).Warn("cannot count a wrong user code", zap.Error(err))
		e.k.StoreDown(w, r)
		return
	}
	if over {
		e.tooManyGuesses(w, r, sess)
		return
	}
	e.k.Fail(w, r, kit.Problem{Status: http.StatusNotFound, Code: "unknown_user_code", Heading: "Code not recognised",
		Message: "This code is not valid: it is mistyped, has expired, or was used already. " +
			"Check the code your device shows, or start the sign-in again on the device.",
		Retry: e.k.Prefix() + "/device"})
}
