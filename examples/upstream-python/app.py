"""A tiny app to run behind Gatehouse.

It trusts an identity only when the X-Auth-Jwt assertion verifies against
Gatehouse's published keys: ES256 only, a kid found in
{GATEHOUSE_URL}/.gatehouse/jwks.json, iss = GATEHOUSE_URL, aud = the
request's Host, and an exp not passed. The X-Auth-* headers are
conveniences; the identity it uses is the token's.

    pip install -r requirements.txt
    GATEHOUSE_URL=https://app.example.com python3 app.py

Environment: GATEHOUSE_URL (the site's origin, the expected iss; required),
GATEHOUSE_JWKS_URL (where to fetch the keys, default
$GATEHOUSE_URL/.gatehouse/jwks.json), LISTEN (default 127.0.0.1:3000).
"""

import json
import logging
import os
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt  # PyJWT
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

log = logging.getLogger("upstream-python")


class Refused(Exception):
    """The request carries no identity that can be trusted."""


class Verifier:
    """Checks Gatehouse's assertions.

    It keeps the key set in memory, fetches it again when a token names a
    kid it does not know (at most once per refresh_interval seconds, so
    that made-up kids cannot flood Gatehouse), and when it is older than
    max_age seconds.
    """

    def __init__(self, issuer, jwks_url, leeway=30, refresh_interval=30, max_age=3600):
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.leeway = leeway
        self.refresh_interval = refresh_interval
        self.max_age = max_age
        self._lock = threading.Lock()
        self._fetch_lock = threading.Lock()  # one fetch at a time
        self._keys = {}
        self._fetched_at = None
        self._last_attempt = None

    def verify(self, token, host):
        """Returns the identity token asserts for host, or raises Refused."""
        if not token:
            raise Refused("no X-Auth-Jwt")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise Refused(f"malformed assertion: {e}") from None
        # Only ES256: HS256 (a key confusion), "none" and everything else
        # are refused before any key is looked at.
        if header.get("alg") != "ES256":
            raise Refused(f"algorithm {header.get('alg')!r} refused")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Refused("assertion without a kid")
        key = self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["ES256"],
                issuer=self.issuer,
                audience=host.lower(),
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as e:
            raise Refused(f"invalid assertion: {e}") from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise Refused("assertion without sub")
        identity = {"user_id": claims["sub"]}
        for name in ("login", "email", "name", "avatar", "provider", "groups", "repos"):
            if claims.get(name):
                identity[name] = claims[name]
        return identity

    def _key(self, kid):
        with self._lock:
            key = self._keys.get(kid)
            fresh = self._fetched_at is not None and time.monotonic() - self._fetched_at < self.max_age
        if key is not None and fresh:
            return key
        try:
            self._refresh()
        except Exception as e:  # noqa: BLE001 - any failure to fetch
            # A stale key that could not be refreshed is still used:
            # Gatehouse being briefly unreachable should not sign everyone out.
            if key is None:
                raise Refused(f"fetching {self.jwks_url}: {e}") from None
            log.warning("keeping stale keys: fetching %s: %s", self.jwks_url, e)
        with self._lock:
            key = self._keys.get(kid)
        if key is None:
            raise Refused("unknown kid")
        return key

    def _refresh(self):
        with self._fetch_lock:
            now = time.monotonic()
            with self._lock:
                if self._last_attempt is not None and now - self._last_attempt < self.refresh_interval:
                    return
                self._last_attempt = now
            keys = self._fetch()
            with self._lock:
                self._keys, self._fetched_at = keys, now

    def _fetch(self):
        """Downloads the key set and keeps the P-256 signing keys with a kid."""
        req = urllib.request.Request(self.jwks_url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            if resp.status != 200:
                raise OSError(f"status {resp.status}")
            body = json.loads(resp.read(1 << 20))
        keys = {}
        for jwk in body.get("keys", []):
            if not isinstance(jwk, dict):
                continue
            kid = jwk.get("kid")
            if (
                jwk.get("kty") != "EC"
                or jwk.get("crv") != "P-256"
                or not isinstance(kid, str)
                or not kid
                or jwk.get("alg", "ES256") != "ES256"
                or jwk.get("use", "sig") != "sig"
            ):
                continue
            key = ECAlgorithm.from_jwk(json.dumps(jwk))
            if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
                keys[kid] = key
        if not keys:
            raise ValueError("no ES256 key in the set")
        return keys


class App(BaseHTTPRequestHandler):
    """Every request needs a valid X-Auth-Jwt, otherwise 401."""

    verifier = None  # set in main

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def _handle(self):
        if self.path == "/healthz":
            return self._json(200, {"status": "ok"})
        try:
            identity = self.verifier.verify(self.headers.get("X-Auth-Jwt", ""), self.headers.get("Host", ""))
            # A header that contradicts the token did not come from
            # Gatehouse: refuse rather than guess which one is right.
            header_id = self.headers.get("X-Auth-User-Id")
            if header_id and header_id != identity["user_id"]:
                raise Refused("X-Auth-User-Id does not match the assertion")
        except Refused as e:
            log.warning("refused %s %s: %s", self.command, self.path, e)
            return self._json(401, {"error": "unauthenticated"})
        headers = {
            k: v for k, v in self.headers.items() if k.lower().startswith("x-auth-") and k.lower() != "x-auth-jwt"
        }
        self._json(200, {"identity": identity, "headers": headers})

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        log.info("%s " + fmt, self.address_string(), *args)


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    issuer = os.environ.get("GATEHOUSE_URL", "").rstrip("/")
    if not issuer:
        sys.exit("upstream-python: set GATEHOUSE_URL to the site's origin, e.g. https://app.example.com")
    jwks_url = os.environ.get("GATEHOUSE_JWKS_URL") or issuer + "/.gatehouse/jwks.json"
    host, _, port = os.environ.get("LISTEN", "127.0.0.1:3000").rpartition(":")
    App.verifier = Verifier(issuer, jwks_url)
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), App)
    log.info("listening on %s:%s, keys from %s", host, port, jwks_url)
    server.serve_forever()


if __name__ == "__main__":
    main()
