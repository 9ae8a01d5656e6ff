// The demo page in a real browser: Debian's Chromium, driven by
// playwright-core, against the real daemon with the demo plugin enabled.
// Two users (alice, bob) sign in on two pages and each checks presence,
// typing, messages, a dropped connection recovered with what was sent
// meanwhile (connection state recovery on, as the demo is run), and the
// slow-mode refusal with its countdown.
// Screenshots go to $SBR_SCREENSHOT_DIR (default <build>/browser-screenshots).
//
//   node tests/browser/demo.browser.mjs      (after `npm ci` in tests/browser)
//
// Exit status: 0 passed, 1 failed, 77 skipped (no Chromium at $SBR_CHROMIUM,
// default /usr/bin/chromium).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BUILD_DIR, SOURCE_DIR, startDaemon } from '../integration/lib/daemon.mjs';

const SKIP = 77;
const CHROMIUM = process.env.SBR_CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SBR_SCREENSHOT_DIR || path.join(BUILD_DIR, 'browser-screenshots');
const SLOW_MODE = 3; // seconds, for the slow channel of this test

if (!fs.existsSync(CHROMIUM)) {
  console.log(`SKIP: no Chromium at ${CHROMIUM} (apt-get install chromium, or set SBR_CHROMIUM)`);
  process.exit(SKIP);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  console.error('FAIL: playwright-core is not installed: run `npm ci` in tests/browser');
  process.exit(1);
}
const bundle = path.join(BUILD_DIR, 'plugins', 'demo', 'socket.io.min.js');
if (!fs.existsSync(bundle)) {
  console.error(`FAIL: ${bundle} is missing: the build could not bundle socket.io-client (is npm available?)`);
  process.exit(1);
}

// The shipped example conf file, with the identity route turned on.
const example = fs.readFileSync(path.join(SOURCE_DIR, 'conf.d', '80-demo.conf.disabled'), 'utf8');
const conf = example
  .replace(/^identity_route = .*$/m, 'identity_route = true')
  .replace(/^channels = .*$/m, `channels = general, slow:${SLOW_MODE}`);
assert.match(conf, /^identity_route = true$/m);
assert.match(conf, new RegExp(`^channels = general, slow:${SLOW_MODE}$`, 'm'));

fs.mkdirSync(SHOTS, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-chromium-'));
let daemon;
let context;
const pageErrors = [];
let step = 0;

function ok(what) {
  console.log(`ok ${++step} - ${what}`);
}

async function shot(page, name) {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`# screenshot ${file}`);
}

async function openAs(user) {
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (err) => pageErrors.push(`${user}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`# ${user} console: ${msg.text()}`);
  });
  await page.goto(`${daemon.url}/demo/`);
  await page.fill('#user', user);
  await page.click('#signin-button');
  await page.waitForSelector('#status[data-state="connected"]');
  await page.waitForSelector('#channel-title:text-is("# general")');
  return page;
}

// The text of the messages a page shows, in order.
const messages = (page) => page.$$eval('#messages li .text', (els) => els.map((e) => e.textContent));

async function main() {
  daemon = await startDaemon({ files: { '80-demo.conf': conf }, env: { REALTIME_RECOVERY_WINDOW_SECONDS: 120 } });
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1000, height: 640 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

  const alice = await openAs('alice');
  const bob = await openAs('bob');
  ok('alice and bob sign in and join #general');

  // Presence: each sees the other online (alice from an update, bob from the snapshot).
  await alice.waitForSelector('#online li[data-user="bob"][data-status="online"]');
  await bob.waitForSelector('#online li[data-user="alice"][data-status="online"]');
  ok('presence: each sees the other online');
  await shot(alice, '01-alice-sees-bob-online');

  // Typing: alice types, bob sees it.
  await alice.fill('#content', 'hello bob');
  await bob.waitForSelector('#typing:text-is("alice is typing…")');
  ok('typing: bob sees alice typing');
  await shot(bob, '02-bob-sees-alice-typing');

  // Messages: alice sends, both see it, and alice's typing ends at bob's.
  await alice.click('#send');
  await alice.waitForSelector('#messages li[data-user="alice"] .text:text-is("hello bob")');
  await bob.waitForSelector('#messages li[data-user="alice"] .text:text-is("hello bob")');
  await bob.waitForSelector('#typing:empty');
  assert.equal(await alice.inputValue('#content'), '');
  ok('messages: both see alice\'s message, and her typing indicator ends');
  await shot(bob, '03-bob-sees-the-message');

  // Alice's connection drops; bob writes meanwhile; she is back with it.
  await alice.evaluate(() => state.socket.io.engine.transport.ws.close());
  await alice.waitForSelector('#status[data-state="disconnected"]');
  await bob.fill('#content', 'while you were away');
  await bob.click('#send');
  await bob.waitForSelector('#messages .text:text-is("while you were away")');
  await alice.waitForSelector('#status:has-text("reconnected, nothing missed")');
  await alice.waitForSelector('#messages .text:text-is("while you were away")');
  assert.deepEqual(await messages(alice), ['hello bob', 'while you were away']);
  assert.ok(await bob.isVisible('#online li[data-user="alice"][data-status="online"]'), 'no offline for a blip');
  ok('recovery: alice\'s dropped connection comes back with bob\'s message, "reconnected, nothing missed"');
  await shot(alice, '03b-alice-reconnected-nothing-missed');

  // Slow mode: in #slow a second message within the cooldown is refused.
  for (const page of [alice, bob]) {
    await page.click('#channels button[data-channel="slow"]');
    await page.waitForSelector('#channel-title:text-is("# slow")');
    await page.waitForSelector(`#slow-info:has-text("one message every ${SLOW_MODE} s")`);
  }
  await bob.fill('#content', 'first in slow');
  await bob.click('#send');
  await alice.waitForSelector('#messages .text:text-is("first in slow")');
  await bob.waitForSelector('#messages .text:text-is("first in slow")');
  await bob.fill('#content', 'too soon');
  await bob.click('#send');
  const cooldown = await bob.waitForSelector('#cooldown:visible');
  const text = await cooldown.textContent();
  const left = Number(/send again in (\d+\.\d) s/.exec(text)?.[1]);
  assert.ok(left > 0 && left <= SLOW_MODE, `countdown shows the wait left: "${text}"`);
  assert.ok(await bob.isDisabled('#send'), 'send is disabled during the countdown');
  assert.equal(await bob.inputValue('#content'), 'too soon', 'the refused text stays for a retry');
  ok(`slow mode: bob's second message is refused with a countdown ("${text}")`);
  await shot(bob, '04-bob-slow-mode-countdown');

  // The countdown runs down, and then the message goes through.
  await bob.waitForFunction((t) => {
    const m = /in (\d+\.\d) s/.exec(document.getElementById('cooldown').textContent);
    return m && Number(m[1]) < t;
  }, left, { timeout: 3000 });
  await bob.waitForSelector('#cooldown', { state: 'hidden', timeout: (SLOW_MODE + 3) * 1000 });
  assert.ok(!(await bob.isDisabled('#send')));
  await bob.click('#send');
  await alice.waitForSelector('#messages .text:text-is("too soon")');
  assert.deepEqual(await messages(alice), ['first in slow', 'too soon']);
  assert.deepEqual(await messages(bob), ['first in slow', 'too soon']);
  ok('slow mode: the countdown ends and the retry is delivered once');
  await shot(alice, '05-alice-after-the-cooldown');

  // Bob leaves: alice sees him go offline.
  await bob.close();
  await alice.waitForSelector('#online li[data-user="bob"]', { state: 'detached' });
  ok('presence: bob closing his page goes offline for alice');

  // As shipped (identity route off), and built without npm: the page says why it cannot work.
  const pageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-demo-page-'));
  for (const f of ['index.html', 'demo.js', 'demo.css']) {
    fs.copyFileSync(path.join(BUILD_DIR, 'plugins', 'demo', f), path.join(pageDir, f));
  }
  const plain = await startDaemon({
    files: { '80-demo.conf': example.replace(/^assets_dir =.*$/m, `assets_dir = ${pageDir}`) },
  });
  try {
    const page = await context.newPage();
    await page.goto(`${plain.url}/demo/`);
    await page.waitForSelector('#notice:has-text("socket.io.min.js is missing")');
    await page.waitForSelector('#notice:has-text("set identity_route = true")');
    assert.ok(await page.isDisabled('#signin-button'));
    await shot(page, '06-as-shipped-without-the-bundle');
    await page.close();
  } finally {
    await plain.stop();
    fs.rmSync(pageDir, { recursive: true, force: true });
  }
  ok('as shipped and without the bundle, the page says why it cannot sign in');

  assert.deepEqual(pageErrors, [], 'no script errors on the pages');
  ok('no script errors on the pages');
}

const watchdog = setTimeout(() => {
  console.error('FAIL: the browser test did not finish in 120 s');
  process.exit(1);
}, 120000);
let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  console.error(`not ok ${step + 1} - ${err.stack || err}`);
  if (daemon) console.error(`# daemon log:\n${daemon.log}`);
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
  if (daemon) {
    const exit = await daemon.stop().catch((err) => ({ error: err.message }));
    if (exit.code !== 0) {
      failed = true;
      console.error(`not ok - the daemon did not exit cleanly: ${JSON.stringify(exit)}\n${daemon.log}`);
    }
  }
  clearTimeout(watchdog);
}
console.log(failed ? 'FAIL' : `PASS (${step} checks; screenshots in ${SHOTS})`);
process.exit(failed ? 1 : 0);
