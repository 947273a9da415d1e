#!/usr/bin/env node
// The relying party of the OAuth tests: openid-client (pinned in package.json) against a Janus
// pool's discovery document, with Playwright (playwright-core driving Debian's Chromium,
// headless) filling the real hosted login page. For conformance/test_oauth.py.
//
// Input: one JSON object on stdin. Output: one JSON object on stdout ({"error": {...}} on a
// failure; the process still exits 0 — a non-zero exit means the script itself broke).
//
// Modes ("mode"):
//   login {issuer, clientId, clientSecret?, redirectUri, scope, username, password,
//          newPassword?, mfaCode?, setupMfa?, redeem?, refresh?, userinfo?, revoke?, screenshots?,
//          prefix?}
//     → discovery, authorization URL with PKCE (S256), state and nonce, the browser signs in
//       (answering NEW_PASSWORD_REQUIRED when newPassword is given, and the MFA code page with
//       mfaCode when it is given; with setupMfa, the authenticator-app set-up page: its key is
//       read from the page and answered with the current TOTP code, returned as setupKey, with
//       the QR code image's src as qrSrc),
//       then (redeem) the code
//       grant, (userinfo) userinfo, (refresh) a refresh grant, (revoke) revocation and a
//       refresh that must fail. Without redeem: {code, verifier, state} for the caller.
//   clientCredentials {issuer, clientId, clientSecret, scope?} → the token response.
//   screenshot {url, path} → {status, title, text} of the page, and a PNG at path.

'use strict';

const client = require('openid-client');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) of a base32 key, as an authenticator app computes it.
function totp(base32, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const h = require('crypto').createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

function readInput() {
  return new Promise((resolve, reject) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (c) => { data += c; });
    process.stdin.on('end', () => resolve(JSON.parse(data)));
    process.stdin.on('error', reject);
  });
}

async function configFor(i) {
  const auth = i.clientSecret ? client.ClientSecretBasic(i.clientSecret) : client.None();
  return client.discovery(new URL(i.issuer), i.clientId, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });
}

async function shot(page, dir, name) {
  if (dir) await page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}

async function browserLogin(i, url) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    // The redirect to the client's callback is the end: remember it (the host does not exist,
    // so the navigation itself fails; click() waits for it to succeed or fail).
    let callback = null;
    let setupKey = null;
    let qrSrc = null;
    page.on('request', (r) => { if (r.url().startsWith(i.redirectUri)) callback = callback || r.url(); });
    await page.goto(url.href);
    const prefix = i.prefix || '';
    await shot(page, i.screenshots, `${prefix}login`);
    await page.getByLabel('Username').fill(i.username);
    await page.getByLabel('Password').fill(i.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    if (!callback && i.newPassword && (await page.getByRole('heading', { name: 'Change your password' }).count())) {
      await shot(page, i.screenshots, `${prefix}new-password`);
      await page.getByLabel('New password').fill(i.newPassword);
      await page.getByRole('button', { name: 'Continue' }).click();
    }
    if (!callback && i.setupMfa && (await page.getByRole('heading', { name: 'Set up an authenticator app' }).count())) {
      await shot(page, i.screenshots, `${prefix}mfa-setup`);
      const text = await page.locator('body').innerText();
      setupKey = ((text.match(/Key: ([A-Z2-7 ]+)/) || [])[1] || '').replace(/ /g, '');
      if (!setupKey) throw new Error(`no key on the set-up page: ${text}`);
      qrSrc = await page.getByRole('img', { name: /QR code/ }).getAttribute('src');
      await page.getByLabel('Code').fill(totp(setupKey));
      await page.getByRole('button', { name: 'Continue' }).click();
    }
    if (!callback && i.mfaCode && (await page.getByRole('heading', { name: 'Enter your code' }).count())) {
      await shot(page, i.screenshots, `${prefix}mfa-code`);
      await page.getByLabel('Code').fill(i.mfaCode);
      await page.getByRole('button', { name: 'Continue' }).click();
    }
    if (!callback) {
      await shot(page, i.screenshots, `${prefix}login-error`);
      const alert = await page.getByRole('alert').allTextContents();
      throw Object.assign(new Error(`no redirect; page says: ${alert.join(' ') || await page.title()}`), { code: 'no_redirect' });
    }
    return { url: new URL(callback), setupKey, qrSrc };
  } finally {
    await browser.close();
  }
}

async function login(i) {
  const config = await configFor(i);
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: i.redirectUri, scope: i.scope, code_challenge: challenge,
    code_challenge_method: 'S256', state, nonce,
  });
  const { url: callback, setupKey, qrSrc } = await browserLogin(i, url);
  if (!i.redeem) {
    return { code: callback.searchParams.get('code'), state: callback.searchParams.get('state'), sentState: state, verifier, setupKey };
  }
  const out = { setupKey, qrSrc };
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce,
  });
  out.tokens = { access_token: tokens.access_token, id_token: tokens.id_token, refresh_token: tokens.refresh_token, expires_in: tokens.expires_in };
  out.claims = tokens.claims();
  if (i.userinfo) out.userinfo = await client.fetchUserInfo(config, tokens.access_token, out.claims.sub);
  if (i.refresh) {
    const r = await client.refreshTokenGrant(config, tokens.refresh_token);
    out.refreshed = { access_token: r.access_token, id_token: r.id_token, claims: r.claims() };
  }
  if (i.revoke) {
    await client.tokenRevocation(config, tokens.refresh_token, { token_type_hint: 'refresh_token' });
    try {
      await client.refreshTokenGrant(config, tokens.refresh_token);
      out.afterRevoke = { ok: true };
    } catch (e) {
      out.afterRevoke = { ok: false, error: e.error || e.code, description: e.error_description };
    }
  }
  return out;
}

async function clientCredentials(i) {
  const config = await configFor(i);
  const params = i.scope ? { scope: i.scope } : {};
  const t = await client.clientCredentialsGrant(config, params);
  return { access_token: t.access_token, expires_in: t.expires_in, token_type: t.token_type, scope: t.scope };
}

async function screenshot(i) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const resp = await page.goto(i.url);
    await page.screenshot({ path: i.path, fullPage: true });
    return { status: resp.status(), title: await page.title(), text: await page.locator('body').innerText() };
  } finally {
    await browser.close();
  }
}

(async () => {
  const input = await readInput();
  let result;
  try {
    const mode = { login, clientCredentials, screenshot }[input.mode];
    if (!mode) throw new Error(`unknown mode ${input.mode}`);
    result = await mode(input);
  } catch (e) {
    result = { error: { code: e.error || e.code || null, name: e.name, message: e.message, description: e.error_description || null } };
  }
  process.stdout.write(JSON.stringify(result));
})().catch((e) => {
  process.stderr.write(String(e && e.stack || e));
  process.exit(2);
});
