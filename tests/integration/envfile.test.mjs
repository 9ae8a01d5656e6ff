// --env-file: the daemon and --check-config read a file in the syntax of
// systemd's EnvironmentFile= (quotes, continuation lines, comments), its
// values winning over the environment, and refuse what systemd would skip
// with file:line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BINARY, SOURCE_DIR, TEST_ENV } from './lib/daemon.mjs';

let dir;

before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbr-envfile-')); });
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

// --check-config -v in an empty directory (no .env), with env on top of PATH only.
function check(files, env = {}) {
  const args = ['--check-config', '-v', '-c', path.join(SOURCE_DIR, 'conf.d')];
  for (const [name, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), text);
    args.push('--env-file', path.join(dir, name));
  }
  return spawnSync(BINARY, args, { cwd: dir, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60000 });
}

test('values are read as systemd reads them, and win over the environment', () => {
  const r = check({
    env: [
      '# secrets',
      `REALTIME_JWT_SECRET='${TEST_ENV.REALTIME_JWT_SECRET}'`,
      '; another comment style',
      'REALTIME_JWT_AUDIENCE = "the audience # not a comment"',
      'REALTIME_JWT_ISSUER=first \\',
      '  second',
      'REALTIME_LOG_LEVEL=warn',
      '',
    ].join('\n'),
  }, { REALTIME_JWT_AUDIENCE: 'from-the-environment', REALTIME_JWT_TTL_SECONDS: '77' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^auth-jwt\.audience = the audience # not a comment {2}#/m);
  assert.match(r.stdout, /^auth-jwt\.issuer = first {3}second {2}#/m);
  assert.match(r.stdout, /^auth-jwt\.secret = \(secret, set\)/m);
  assert.match(r.stdout, /^core\.log_level = warn {2}#/m);
  // What the file does not set still comes from the environment.
  assert.match(r.stdout, /^auth-jwt\.ttl_seconds = 77 {2}#/m);
  assert.match(r.stdout, /configuration OK/);
});

test('a later --env-file wins over an earlier one', () => {
  const r = check({
    a: `REALTIME_JWT_SECRET=${TEST_ENV.REALTIME_JWT_SECRET}\nREALTIME_JWT_ISSUER=from-a\n`,
    b: 'REALTIME_JWT_ISSUER=from-b\n',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^auth-jwt\.issuer = from-b {2}#/m);
});

test('lines systemd would skip are refused with file:line', () => {
  const cases = [
    ['REALTIME_JWT_SECRET=x\n\nREALTIME_API_KEY\n', ':3: expected KEY=VALUE'],
    ['# ok\nexport REALTIME_JWT_SECRET=x\n', ":2: 'export' is shell syntax"],
    ['REALTIME_JWT_SECRET="never closed\n', ':1: quote not closed'],
    ['REALTIME-JWT-SECRET=x\n', ':1: not a variable name'],
  ];
  for (const [text, want] of cases) {
    const r = check({ env: text });
    assert.equal(r.status, 1, text);
    assert.ok(r.stderr.includes(path.join(dir, 'env') + want), `${JSON.stringify(text)}: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /configuration OK/);
  }
});

test('a missing --env-file is an error, and so is the flag without a file', () => {
  const r = spawnSync(BINARY, ['--check-config', '--env-file', path.join(dir, 'nope')],
    { cwd: dir, env: { PATH: process.env.PATH }, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /nope: No such file or directory/);
  const u = spawnSync(BINARY, ['--env-file'], { cwd: dir, encoding: 'utf8' });
  assert.equal(u.status, 2);
  assert.match(u.stderr, /unknown or incomplete argument '--env-file'/);
});
