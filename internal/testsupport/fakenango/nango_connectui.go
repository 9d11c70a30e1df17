package fakenango

import (
	"encoding/json"
	"net/http"
	"strings"
)

// nangoConnectPage is the fake Connect UI. It implements the iframe
// protocol of @nangohq/frontend (section A2): on load it posts
// {type:"ready"} to the parent with targetOrigin "*"; on a
// {type:"session_token", sessionToken} message (or, opened top-level, the
// session_token query parameter) it reads GET {apiURL}/connect/session
// and GET {apiURL}/integrations with the session token and shows one
// button per allowed integration (id "connect-<key>"); a click calls the
// fake-only POST {apiURL}/fake/connect and posts {type:"connect",
// payload:{providerConfigKey, connectionId, isPending}} or {type:"error",
// payload:{errorType, errorMessage}}; the Close button (id "close") posts
// {type:"close"}. Opened top-level (parent === self) nothing is posted.
// __DEFAULT_API__ is replaced by the JSON-encoded API URL.
const nangoConnectPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect · Nango (fake)</title>
<style>
  html, body { margin: 0; height: 100%; font-family: system-ui, sans-serif; background: rgba(0,0,0,0.4); }
  main { max-width: 420px; margin: 10vh auto; padding: 24px; background: #fff; border-radius: 12px; }
  h1 { font-size: 20px; margin: 0 0 16px; }
  #integrations button { display: block; width: 100%; margin: 8px 0; padding: 10px; font-size: 15px; cursor: pointer; }
  #close { margin-top: 16px; }
  #error { color: #b00020; }
</style>
</head>
<body>
<main>
  <h1>Connect</h1>
  <p id="status" role="status">Waiting for a session token…</p>
  <div id="integrations"></div>
  <p id="error" hidden></p>
  <button type="button" id="close">Close</button>
</main>
<script>
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var apiURL = (params.get("apiURL") || __DEFAULT_API__).replace(/\/+$/, "");
  var embedded = window.parent !== window;
  var sessionToken = null;
  var statusEl = document.getElementById("status");
  var listEl = document.getElementById("integrations");
  var errorEl = document.getElementById("error");

  // post sends an event to the page that opened the iframe, as the real
  // Connect UI does: parent.postMessage(event, "*").
  function post(evt) {
    if (embedded) {
      window.parent.postMessage(evt, "*");
    }
  }

  function showError(type, message) {
    errorEl.hidden = false;
    errorEl.textContent = message;
    post({ type: "error", payload: { errorType: type, errorMessage: message } });
  }

  function api(method, path, body) {
    var init = { method: method, headers: { "Authorization": "Bearer " + sessionToken } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(apiURL + path, init).then(function (res) {
      return res.json().then(function (json) {
        if (!res.ok || json.error) {
          var e = json.error || {};
          var err = new Error(e.message || e.code || ("HTTP " + res.status));
          err.code = e.code || "unknown_error";
          throw err;
        }
        return json.data;
      });
    });
  }

  function connect(key, button) {
    button.disabled = true;
    statusEl.textContent = "Connecting…";
    api("POST", "/fake/connect", { sessionToken: sessionToken, integration: key }).then(function (res) {
      statusEl.textContent = "Connected";
      document.body.setAttribute("data-connection-id", res.connectionId);
      post({ type: "connect", payload: { providerConfigKey: res.providerConfigKey, connectionId: res.connectionId, isPending: res.isPending } });
    }, function (err) {
      button.disabled = false;
      statusEl.textContent = "Connection failed";
      showError(err.code || "unknown_error", err.message);
    });
  }

  function start(token) {
    if (!token || token === sessionToken) {
      return;
    }
    sessionToken = token;
    statusEl.textContent = "Loading…";
    Promise.all([api("GET", "/connect/session"), api("GET", "/integrations")]).then(function (res) {
      var session = res[0], integrations = res[1];
      var allowed = session.allowed_integrations;
      listEl.textContent = "";
      integrations.forEach(function (integ) {
        if (allowed && allowed.indexOf(integ.unique_key) < 0) {
          return;
        }
        var b = document.createElement("button");
        b.type = "button";
        b.id = "connect-" + integ.unique_key;
        b.setAttribute("data-integration", integ.unique_key);
        b.textContent = "Connect " + integ.display_name;
        b.addEventListener("click", function () { connect(integ.unique_key, b); });
        listEl.appendChild(b);
      });
      statusEl.textContent = "Choose an integration";
    }, function (err) {
      statusEl.textContent = "Invalid session";
      showError(err.code === "unknown_connect_session_token" || err.code === "invalid_connect_session_token_format" ? "missing_connect_session_token" : "unknown_error", err.message);
    });
  }

  window.addEventListener("message", function (e) {
    var d = e.data;
    if (!d || typeof d !== "object" || d.type !== "session_token" || typeof d.sessionToken !== "string") {
      return;
    }
    start(d.sessionToken);
  }, false);

  document.getElementById("close").addEventListener("click", function () {
    post({ type: "close" });
    if (!embedded) {
      statusEl.textContent = "Closed";
    }
  });

  if (params.get("session_token")) {
    start(params.get("session_token"));
  }
  post({ type: "ready" });
})();
</script>
</body>
</html>
`

// serveConnectUI serves the Connect UI page at ConnectURL + "/".
func (n *Nango) serveConnectUI(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	api, _ := json.Marshal(n.URL) // escapes <, > and &: safe inside <script>
	page := strings.Replace(nangoConnectPage, "__DEFAULT_API__", string(api), 1)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src *; frame-ancestors *")
	_, _ = w.Write([]byte(page))
}
