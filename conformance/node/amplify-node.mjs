// Amplify v6 (the pinned aws-amplify) under plain Node, for conformance/test_user_auth.py:
// choice-based sign-in (USER_AUTH). One-time codes are read from the Janus data directory's
// development outbox, as a user reads their mail.
// Input on stdin: {endpoint, pool, client, username, password?, email?, outbox, scenario}
//   scenario "email-otp": signIn USER_AUTH preferring EMAIL_OTP, then confirmSignIn with the code;
//   scenario "select": signIn USER_AUTH without a preference, pick PASSWORD, send the password;
//   scenario "sign-up": signUp without a password (autoSignIn USER_AUTH), confirmSignUp, autoSignIn.
// Output: one JSON line {steps: [signInStep, …], signedIn, username, sub} or {error}.
import { readFileSync } from 'node:fs';
import { Amplify } from 'aws-amplify';
import { autoSignIn, confirmSignIn, confirmSignUp, fetchAuthSession, signIn, signOut, signUp }
  from 'aws-amplify/auth';

const input = JSON.parse(readFileSync(0, 'utf8'));
Amplify.configure({ Auth: { Cognito: {
  userPoolId: input.pool, userPoolClientId: input.client, userPoolEndpoint: input.endpoint } } });

// The newest code the outbox holds for the user, once one newer than `after` lines arrived.
async function codeAfter(after) {
  for (let i = 0; i < 100; i += 1) {
    const lines = readFileSync(input.outbox, 'utf8').split('\n').filter(Boolean);
    const mine = lines.slice(after).map(JSON.parse)
      .filter((m) => m.pool === input.pool && m.username === input.username);
    if (mine.length) return mine[mine.length - 1].body.match(/(\d{6})/)[1];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no code arrived in the outbox');
}
const outboxLines = () => {
  try { return readFileSync(input.outbox, 'utf8').split('\n').filter(Boolean).length; } catch { return 0; }
};

async function run() {
  const steps = [];
  const username = input.username;
  if (input.scenario === 'email-otp') {
    const seen = outboxLines();
    const a = await signIn({ username, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'EMAIL_OTP' } });
    steps.push(a.nextStep.signInStep);
    const b = await confirmSignIn({ challengeResponse: await codeAfter(seen) });
    steps.push(b.nextStep.signInStep);
  } else if (input.scenario === 'select') {
    const a = await signIn({ username, options: { authFlowType: 'USER_AUTH' } });
    steps.push(a.nextStep.signInStep, (a.nextStep.availableChallenges || []).join(' '));
    const b = await confirmSignIn({ challengeResponse: 'PASSWORD' });
    steps.push(b.nextStep.signInStep);
    const c = await confirmSignIn({ challengeResponse: input.password });
    steps.push(c.nextStep.signInStep);
  } else {
    const seen = outboxLines();
    const up = await signUp({ username, options: { userAttributes: { email: input.email },
      autoSignIn: { authFlowType: 'USER_AUTH' } } });
    steps.push(up.nextStep.signUpStep);
    const confirmed = await confirmSignUp({ username, confirmationCode: await codeAfter(seen) });
    steps.push(confirmed.nextStep.signUpStep);
    const auto = await autoSignIn();
    steps.push(auto.nextStep.signInStep);
  }
  const session = await fetchAuthSession();
  const id = session.tokens && session.tokens.idToken;
  await signOut();
  return { steps, signedIn: !!id, username: id && id.payload['cognito:username'], sub: id && id.payload.sub };
}

// Amplify keeps timers (token refresh, the sign-up's auto sign-in listener): exit when done.
run().then((r) => console.log(JSON.stringify(r)))
  .catch((e) => { console.log(JSON.stringify({ error: `${e.name}: ${e.message}` })); })
  .finally(() => process.exit(0));
