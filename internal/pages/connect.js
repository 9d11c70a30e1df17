// Gatehouse's driver of Nango's Connect UI (the iframe protocol of
// @nangohq/frontend): create a connect session, open the UI in an iframe,
// answer its "ready" with the session token, and on "connect" poll
// Gatehouse until the connection's webhook has been processed.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("gatehouse-config").textContent);
  var statusEl = document.getElementById("status");
  var retryEl = document.getElementById("retry");
  var connectOrigin = new URL(cfg.connect).origin;
  var frame = null;
  var token = "";
  var connected = false;

  function say(text, failed) {
    statusEl.textContent = text;
    statusEl.className = failed ? "status error" : "status";
    retryEl.hidden = !failed;
  }
  function closeFrame() {
    if (frame) {
      frame.remove();
      frame = null;
    }
  }
  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        return { status: res.status, ok: res.ok, body: body };
      });
    });
  }

  async function poll(connectionId) {
    connected = true;
    say(cfg.kind === "login" ? "Finishing sign-in…" : cfg.kind === "repos" ? "Reading your repositories…" : "Finishing the link…");
    var url = cfg.status + "/" + encodeURIComponent(connectionId) + (cfg.rd ? "?rd=" + encodeURIComponent(cfg.rd) : "");
    var deadline = Date.now() + 10 * 60 * 1000;
    var delay = 1000;
    while (Date.now() < deadline) {
      var res;
      try {
        res = await getJSON(url);
      } catch (e) {
        await sleep(delay);
        continue;
      }
      if (res.status === 503) {
        await sleep(delay);
        continue;
      }
      if (!res.ok || res.body.error) {
        say(res.body.message || "This could not be completed. Please try again.", true);
        return;
      }
      if (res.body.ready && !res.body.pendingApproval) {
        say("Done. Taking you back…");
        location.assign(res.body.redirect || "/");
        return;
      }
      if (res.body.pendingApproval) {
        say("An owner of the organization must approve the installation. This page continues by itself once they have.");
        delay = 5000;
      }
      await sleep(delay);
    }
    say("This is taking too long. Please try again.", true);
  }

  window.addEventListener("message", function (e) {
    if (e.origin !== connectOrigin || !frame || e.source !== frame.contentWindow) {
      return;
    }
    var m = e.data || {};
    switch (m.type) {
      case "ready":
        frame.contentWindow.postMessage({ type: "session_token", sessionToken: token }, connectOrigin);
        break;
      case "connect":
        closeFrame();
        if (m.payload && m.payload.connectionId) {
          poll(String(m.payload.connectionId));
        }
        break;
      case "close":
        closeFrame();
        if (!connected) {
          say("Cancelled. Nothing was connected.", true);
        }
        break;
      case "error":
        closeFrame();
        say("Nango reported an error: " + ((m.payload && m.payload.errorMessage) || (m.payload && m.payload.errorType) || "unknown error") + ".", true);
        break;
    }
  });

  getJSON(cfg.session + (cfg.rd ? "?rd=" + encodeURIComponent(cfg.rd) : "")).then(function (res) {
    if (!res.ok || !res.body.token) {
      say(res.body.message || "Could not start. Please try again.", true);
      return;
    }
    token = res.body.token;
    say("Continue in the Nango window.");
    frame = document.createElement("iframe");
    frame.className = "connect-frame";
    frame.title = "Connect with Nango";
    frame.src = cfg.connect.replace(/\/+$/, "") + "/?apiURL=" + encodeURIComponent(cfg.api);
    document.body.appendChild(frame);
  }, function () {
    say("Could not reach the server. Please try again.", true);
  });
})();
