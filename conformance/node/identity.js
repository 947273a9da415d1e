#!/usr/bin/env node
// Drives amazon-cognito-identity-js (the pinned version in package.json) against a Cognito
// endpoint, for conformance/test_identity_js.py.
//
// Input: one JSON object on stdin (or as the first argument):
//   {"endpoint": "http://127.0.0.1:port", "userPoolId": "...", "clientId": "...",
//    "username": "...", "steps": [{"op": "authenticate", ...}, ...]}
// Output: one JSON object on stdout: {"steps": [{"op", "ok": true, ...results}],
//   "error": {"code", "name", "message"} | null}. Steps run in order on the same CognitoUser;
//   the first failing step stops the run and is reported in "error" (the process still exits 0;
//   a non-zero exit means the script itself broke).
//
// Steps:
//   authenticate {password, flow?: "USER_SRP_AUTH" | "USER_PASSWORD_AUTH",
//                 newPassword?, newAttributes?,   (answers NEW_PASSWORD_REQUIRED when newPassword
//                                                  is given; otherwise reports the challenge)
//                 setupMfa?: bool,                (answers MFA_SETUP: associateSoftwareToken →
//                                                  associateSecretCode → verifySoftwareToken with
//                                                  this step's TOTP; reports the secret)
//                 totpSecret? | totpSecretFrom? (the index of an earlier step that reported a secret),
//                 totpStepsAhead? | totpCode?,   (answers SOFTWARE_TOKEN_MFA with sendMFACode)
//                 customAnswersFrom?: {events, pool}}  (flow CUSTOM_AUTH: answers each
//                                                  CUSTOM_CHALLENGE with the code CreateAuthChallenge made)
//   getUserAttributes, getSession, refreshSession, globalSignOut, deleteUser,
//   changePassword {oldPassword, newPassword}, updateAttributes {attributes: {name: value}},
//   signUp {password, attributes}, confirmRegistration {code}, resendConfirmationCode,
//   forgotPassword, confirmPassword {code, newPassword},
//   devices: signOut (local; the device stays cached), newUser (a fresh CognitoUser, as a
//   restarted app makes), listDevices {limit?}, getDevice, setDeviceStatusRemembered,
//   setDeviceStatusNotRemembered, forgetDevice. Every step reports the cached deviceKey.
//   enableTotp: associate and verify a software token for the signed-in user and make it
//   the preferred factor (reports the secret).
//   useEndpoint {endpoint, pauseMs?}: from now on talk to another region (a fresh CognitoUser
//   on a pool object for that endpoint; the library's storage, and so the device, is kept),
//   after waiting pauseMs (replication).

'use strict';

const {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
} = require('amazon-cognito-identity-js');

// RFC 6238 TOTP (SHA1, 6 digits, 30 s), as an authenticator app computes it.
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totp(secret, stepsAhead = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + stepsAhead));
  const mac = require('crypto').createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0');
}

function readInput() {
  if (process.argv[2]) return Promise.resolve(process.argv[2]);
  return new Promise((resolve, reject) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => { data += chunk; });
    process.stdin.on('end', () => resolve(data));
    process.stdin.on('error', reject);
  });
}

function errorOf(err) {
  if (!err) return { code: null, name: null, message: null };
  return { code: err.code || null, name: err.name || null, message: err.message || String(err) };
}

function tokensOf(session) {
  return {
    idToken: session.getIdToken().getJwtToken(),
    accessToken: session.getAccessToken().getJwtToken(),
    refreshToken: session.getRefreshToken().getToken(),
    idPayload: session.getIdToken().decodePayload(),
    accessPayload: session.getAccessToken().decodePayload(),
    valid: session.isValid(),
  };
}

// The code the newest CreateAuthChallenge of a pool made, from the Lambda host's events file
// (conformance/lambda_support.py): {events: path, pool: id}.
function lastCustomCode({ events, pool }) {
  const made = require('fs').readFileSync(events, 'utf8').split('\n').filter(Boolean).map(JSON.parse)
    .filter((r) => r.fn === 'create' && r.event.userPoolId === pool);
  return made[made.length - 1].event.response.privateChallengeParameters.answer;
}

function attributeList(attrs) {
  return Object.entries(attrs || {}).map(([Name, Value]) => new CognitoUserAttribute({ Name, Value }));
}

// Each op returns a promise of an object merged into the step's result.
const OPS = {
  authenticate(ctx, step) {
    const details = new AuthenticationDetails({ Username: ctx.username, Password: step.password });
    if (step.flow) ctx.user.setAuthenticationFlowType(step.flow);
    return new Promise((resolve, reject) => {
      let challenge = null;
      const callbacks = {
        onSuccess(session, userConfirmationNecessary) {
          ctx.session = session;
          resolve({ challenge, userConfirmationNecessary: !!userConfirmationNecessary, ...tokensOf(session) });
        },
        onFailure: reject,
        newPasswordRequired(userAttributes, requiredAttributes) {
          challenge = { name: 'NEW_PASSWORD_REQUIRED', userAttributes, requiredAttributes };
          if (step.newPassword === undefined) {
            resolve({ challenge });
            return;
          }
          ctx.user.completeNewPasswordChallenge(step.newPassword, step.newAttributes || {}, callbacks);
        },
        mfaRequired(name) { reject(new Error(`unexpected MFA challenge ${name}`)); },
        totpRequired(name, parameters) {
          challenge = { name, parameters };
          const secret = step.totpSecret || (step.totpSecretFrom !== undefined && ctx.results[step.totpSecretFrom].secret);
          if (!secret && !step.totpCode) {
            resolve({ challenge });
            return;
          }
          ctx.user.sendMFACode(step.totpCode || totp(secret, step.totpStepsAhead || 0), callbacks, 'SOFTWARE_TOKEN_MFA');
        },
        customChallenge(parameters) {
          challenge = { name: 'CUSTOM_CHALLENGE', parameters };
          if (!step.customAnswersFrom) {
            resolve({ challenge });
            return;
          }
          ctx.user.sendCustomChallengeAnswer(lastCustomCode(step.customAnswersFrom), callbacks);
        },
        mfaSetup(name, parameters) {
          challenge = { name, parameters };
          if (!step.setupMfa) {
            resolve({ challenge });
            return;
          }
          ctx.user.associateSoftwareToken({
            associateSecretCode(secret) {
              challenge.secret = secret;
              ctx.user.verifySoftwareToken(totp(secret), 'node', callbacks);
            },
            onFailure: reject,
          });
        },
        selectMFAType() { reject(new Error('unexpected MFA selection')); },
      };
      ctx.user.authenticateUser(details, callbacks);
    });
  },
  getUserAttributes(ctx) {
    return new Promise((resolve, reject) => {
      ctx.user.getUserAttributes((err, attrs) => {
        if (err) return reject(err);
        const out = {};
        for (const a of attrs) out[a.getName()] = a.getValue();
        resolve({ attributes: out });
      });
    });
  },
  getSession(ctx) {
    return new Promise((resolve, reject) => {
      ctx.user.getSession((err, session) => (err ? reject(err) : resolve(tokensOf(session))));
    });
  },
  refreshSession(ctx) {
    return new Promise((resolve, reject) => {
      ctx.user.refreshSession(ctx.session.getRefreshToken(), (err, session) => {
        if (err) return reject(err);
        ctx.session = session;
        resolve(tokensOf(session));
      });
    });
  },
  changePassword(ctx, step) {
    return new Promise((resolve, reject) => {
      ctx.user.changePassword(step.oldPassword, step.newPassword, (err, result) =>
        (err ? reject(err) : resolve({ result })));
    });
  },
  updateAttributes(ctx, step) {
    return new Promise((resolve, reject) => {
      ctx.user.updateAttributes(attributeList(step.attributes), (err, result, details) =>
        (err ? reject(err) : resolve({ result, details: details || null })));
    });
  },
  globalSignOut(ctx) {
    return new Promise((resolve, reject) => {
      ctx.user.globalSignOut({ onSuccess: (result) => resolve({ result }), onFailure: reject });
    });
  },
  deleteUser(ctx) {
    return new Promise((resolve, reject) => {
      ctx.user.deleteUser((err, result) => (err ? reject(err) : resolve({ result })));
    });
  },
  signUp(ctx, step) {
    return new Promise((resolve, reject) => {
      ctx.pool.signUp(ctx.username, step.password, attributeList(step.attributes), null, (err, result) => {
        if (err) return reject(err);
        resolve({ userConfirmed: result.userConfirmed, userSub: result.userSub,
                  codeDeliveryDetails: result.codeDeliveryDetails || null });
      });
    });
  },
  confirmRegistration(ctx, step) {
    return new Promise((resolve, reject) => {
      ctx.user.confirmRegistration(step.code, false, (err, result) => (err ? reject(err) : resolve({ result })));
    });
  },
  resendConfirmationCode(ctx) {
    return new Promise((resolve, reject) => {
      ctx.user.resendConfirmationCode((err, result) => (err ? reject(err) : resolve({ result })));
    });
  },
  forgotPassword(ctx) {
    return new Promise((resolve, reject) => {
      ctx.user.forgotPassword({
        onSuccess: (data) => resolve({ data }),
        onFailure: reject,
        inputVerificationCode: (data) => resolve({ data }),
      });
    });
  },
  enableTotp(ctx) {
    return new Promise((resolve, reject) => {
      ctx.user.associateSoftwareToken({
        associateSecretCode(secret) {
          ctx.user.verifySoftwareToken(totp(secret), 'node', {
            onSuccess() {
              ctx.user.setUserMfaPreference(null, { PreferredMfa: true, Enabled: true }, (err) =>
                (err ? reject(err) : resolve({ secret })));
            },
            onFailure: reject,
          });
        },
        onFailure: reject,
      });
    });
  },
  async useEndpoint(ctx, step) {
    await new Promise((r) => setTimeout(r, step.pauseMs || 0));
    ctx.pool = new CognitoUserPool({ UserPoolId: ctx.pool.getUserPoolId(), ClientId: ctx.pool.getClientId(),
      endpoint: step.endpoint });
    ctx.user = new CognitoUser({ Username: ctx.username, Pool: ctx.pool });
    return {};
  },
  signOut(ctx) {
    ctx.user.signOut();
    return Promise.resolve({});
  },
  newUser(ctx) {
    ctx.user = new CognitoUser({ Username: ctx.username, Pool: ctx.pool });
    return Promise.resolve({});
  },
  listDevices(ctx, step) {
    return new Promise((resolve, reject) => {
      ctx.user.listDevices(step.limit || 10, null, { onSuccess: (data) => resolve({ data }), onFailure: reject });
    });
  },
  getDevice(ctx) {
    return new Promise((resolve, reject) => {
      ctx.user.getDevice({ onSuccess: (data) => resolve({ data }), onFailure: reject });
    });
  },
  setDeviceStatusRemembered(ctx) {
    return new Promise((resolve, reject) => {
      ctx.user.setDeviceStatusRemembered({ onSuccess: (result) => resolve({ result }), onFailure: reject });
    });
  },
  setDeviceStatusNotRemembered(ctx) {
    return new Promise((resolve, reject) => {
      ctx.user.setDeviceStatusNotRemembered({ onSuccess: (result) => resolve({ result }), onFailure: reject });
    });
  },
  forgetDevice(ctx) {
    return new Promise((resolve, reject) => {
      ctx.user.forgetDevice({ onSuccess: (result) => resolve({ result }), onFailure: reject });
    });
  },
  confirmPassword(ctx, step) {
    return new Promise((resolve, reject) => {
      ctx.user.confirmPassword(step.code, step.newPassword, {
        onSuccess: (result) => resolve({ result }),
        onFailure: reject,
      });
    });
  },
};

async function main() {
  const input = JSON.parse(await readInput());
  const pool = new CognitoUserPool({
    UserPoolId: input.userPoolId,
    ClientId: input.clientId,
    endpoint: input.endpoint,
  });
  const ctx = { pool, username: input.username, session: null };
  ctx.user = new CognitoUser({ Username: input.username, Pool: pool });
  const out = { steps: [], error: null };
  ctx.results = out.steps;
  for (const step of input.steps) {
    const op = OPS[step.op];
    if (!op) throw new Error(`unknown op ${step.op}`);
    try {
      const result = await op(ctx, step);
      out.steps.push({ op: step.op, ok: true, deviceKey: ctx.user.deviceKey || null, ...result });
    } catch (err) {
      out.steps.push({ op: step.op, ok: false });
      out.error = { op: step.op, ...errorOf(err) };
      break;
    }
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
