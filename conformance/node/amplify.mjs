// Amplify v6 in Debian's Chromium, from another origin (issue 15): the page is bundled with
// esbuild from the pinned aws-amplify and served by this script on its own loopback port;
// Janus is a different origin, so every call crosses CORS exactly as a real app's would.
// Input on stdin: {endpoint, pool, client, username, password, flow?, scenario?}. Output: one
// JSON line. scenario "devices": sign in (Amplify confirms the new device), rememberDevice,
// fetchDevices, sign out, sign in again with the device, refresh, forgetDevice.
import { build } from 'esbuild';
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const APP = `
import { Amplify } from 'aws-amplify';
import { signIn, signOut, fetchAuthSession, getCurrentUser, rememberDevice, fetchDevices,
  forgetDevice } from 'aws-amplify/auth';
const deviceOf = async (opts) => (await fetchAuthSession(opts)).tokens.accessToken.payload.device_key || null;
const listed = async () => (await fetchDevices()).map((d) => ({ id: d.id, name: d.name || null }));
async function devices(cfg) {
  const signInWith = () => signIn({ username: cfg.username, password: cfg.password,
    options: { authFlowType: 'USER_SRP_AUTH' } });
  const first = await signInWith();
  const stored = localStorage.getItem(\`CognitoIdentityServiceProvider.\${cfg.client}.\${cfg.username}.deviceKey\`);
  const firstDevice = await deviceOf();
  await rememberDevice();
  const afterRemember = await listed();
  await signOut();
  const second = await signInWith();
  const secondDevice = await deviceOf();
  const refreshedDevice = await deviceOf({ forceRefresh: true });
  await forgetDevice();
  const afterForget = await listed();
  await signOut({ global: true });
  return { first: first.nextStep.signInStep, second: second.nextStep.signInStep, stored, firstDevice,
           secondDevice, refreshedDevice, afterRemember, afterForget };
}
window.run = async (cfg) => {
  Amplify.configure({ Auth: { Cognito: {
    userPoolId: cfg.pool, userPoolClientId: cfg.client, userPoolEndpoint: cfg.endpoint } } });
  try {
    if (cfg.scenario === 'devices') return await devices(cfg);
    const out = await signIn({ username: cfg.username, password: cfg.password,
      options: { authFlowType: cfg.flow || 'USER_SRP_AUTH' } });
    const session = await fetchAuthSession();
    const user = await getCurrentUser();
    const id = session.tokens && session.tokens.idToken;
    await signOut({ global: true });
    return { isSignedIn: out.isSignedIn, step: out.nextStep && out.nextStep.signInStep,
             username: user.username, sub: id && id.payload.sub, iss: id && id.payload.iss };
  } catch (e) {
    return { error: String(e && (e.name + ': ' + e.message)) };
  }
};
`;

async function main() {
  const input = JSON.parse(await new Promise((res) => {
    let s = ''; process.stdin.on('data', (d) => (s += d)); process.stdin.on('end', () => res(s));
  }));
  const bundle = await build({ stdin: { contents: APP, resolveDir: process.cwd(), loader: 'js' },
    bundle: true, write: false, format: 'iife', platform: 'browser', logLevel: 'silent' });
  const js = bundle.outputFiles[0].text;
  const server = http.createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title><script src="/app.js"></script>');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run'] });
  try {
    const page = await browser.newPage();
    await page.goto(origin);
    await page.waitForFunction(() => typeof window.run === 'function');
    const result = await page.evaluate((cfg) => window.run(cfg), input);
    console.log(JSON.stringify({ ...result, origin }));
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((e) => { console.log(JSON.stringify({ error: String(e && e.stack || e) })); process.exit(1); });
