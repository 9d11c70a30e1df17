// A tiny app to run behind Gatehouse. It trusts an identity only when the
// X-Auth-Jwt assertion verifies against Gatehouse's published keys: ES256
// only, a kid found in {GATEHOUSE_URL}/.gatehouse/jwks.json,
// iss = GATEHOUSE_URL, aud = the request's Host, and an exp not passed.
// The X-Auth-* headers are conveniences; the identity it uses is the token's.
//
//   npm install
//   GATEHOUSE_URL=https://app.example.com node server.js
//
// Environment: GATEHOUSE_URL (the site's origin, the expected iss; required),
// GATEHOUSE_JWKS_URL (where to fetch the keys, default
// $GATEHOUSE_URL/.gatehouse/jwks.json), LISTEN (default 127.0.0.1:3000).
import http from 'node:http';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const issuer = (process.env.GATEHOUSE_URL || '').replace(/\/+$/, '');
if (!issuer) {
  console.error('upstream-node: set GATEHOUSE_URL to the site\'s origin, e.g. https://app.example.com');
  process.exit(1);
}
const jwksURL = new URL(process.env.GATEHOUSE_JWKS_URL || `${issuer}/.gatehouse/jwks.json`);
const listen = process.env.LISTEN || '127.0.0.1:3000';

// The key set is kept in memory. A token naming a kid it does not hold makes
// jose fetch the set again, at most once per cooldownDuration (so made-up
// kids cannot flood Gatehouse); a set older than cacheMaxAge is fetched
// again before use.
const keys = createRemoteJWKSet(jwksURL, {
  cooldownDuration: 30_000,
  cacheMaxAge: 3_600_000,
  timeoutDuration: 5_000,
});

class Refused extends Error {}

// verify returns the identity token asserts for host, or throws.
async function verify(token, host) {
  if (!token) throw new Refused('no X-Auth-Jwt');
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch (e) {
    throw new Refused(`malformed assertion: ${e.message}`);
  }
  // Only ES256: HS256 (a key confusion), "none" and everything else are
  // refused before any key is looked at.
  if (header.alg !== 'ES256') throw new Refused(`algorithm ${JSON.stringify(header.alg)} refused`);
  if (typeof header.kid !== 'string' || header.kid === '') throw new Refused('assertion without a kid');
  let payload;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      algorithms: ['ES256'],
      issuer,
      audience: host.toLowerCase(),
      requiredClaims: ['exp', 'iat', 'sub'],
      clockTolerance: 30,
    }));
  } catch (e) {
    throw new Refused(`invalid assertion: ${e.code || e.name}: ${e.message}`);
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new Refused('assertion without sub');
  const identity = { user_id: payload.sub };
  for (const name of ['login', 'email', 'name', 'avatar', 'provider', 'groups', 'repos']) {
    if (payload[name]) identity[name] = payload[name];
  }
  return identity;
}

function sendJSON(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

// Every request needs a valid X-Auth-Jwt, otherwise 401.
async function handle(req, res) {
  if (req.url === '/healthz') return sendJSON(res, 200, { status: 'ok' });
  let identity;
  try {
    // Node joins repeated headers with ", ", which never verifies.
    identity = await verify(req.headers['x-auth-jwt'] || '', req.headers.host || '');
    // A header that contradicts the token did not come from Gatehouse:
    // refuse rather than guess which one is right.
    const headerID = req.headers['x-auth-user-id'];
    if (headerID && headerID !== identity.user_id) {
      throw new Refused('X-Auth-User-Id does not match the assertion');
    }
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    console.warn(`upstream-node: refused ${req.method} ${req.url}: ${e.message}`);
    return sendJSON(res, 401, { error: 'unauthenticated' });
  }
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-auth-') && name !== 'x-auth-jwt') headers[name] = value;
  }
  sendJSON(res, 200, { identity, headers });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    console.error(`upstream-node: ${req.method} ${req.url}:`, e);
    if (!res.headersSent) sendJSON(res, 500, { error: 'internal' });
  });
});
const sep = listen.lastIndexOf(':');
server.listen(Number(listen.slice(sep + 1)), listen.slice(0, sep) || '127.0.0.1', () => {
  console.log(`upstream-node: listening on ${listen}, keys from ${jwksURL}`);
});
