// Minimal JWT minting for tests (HS256/384/512, or any header) with node:crypto.
import crypto from 'node:crypto';
import { TEST_ENV } from './daemon.mjs';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function sign(payload, secret, header = { alg: 'HS256', typ: 'JWT' }) {
  const h = b64url(JSON.stringify(header));
  const p = b64url(JSON.stringify(payload));
  const alg = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[header.alg];
  const sig = alg ? b64url(crypto.createHmac(alg, secret).update(`${h}.${p}`).digest()) : '';
  return `${h}.${p}.${sig}`;
}

export function decode(token) {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
}

const now = () => Math.floor(Date.now() / 1000);

// A realtime token as the gateway would issue it.
export function realtimeToken(claims = {}, secret = TEST_ENV.REALTIME_JWT_SECRET) {
  const iat = now();
  return sign({ iss: 'superbot', aud: 'superbot-realtime', sub: 'u1', iat, exp: iat + 300,
    jti: crypto.randomUUID(), servers: [], ...claims }, secret);
}

// A session bearer of the primary app.
export function sessionToken(claims = {}, secret = TEST_ENV.SECRET_KEY) {
  const iat = now();
  return sign({ sub: 'u1', iat, exp: iat + 3600, ...claims }, secret);
}
