// The type checks of the package, run by `npm run check` and ctest (kit/typescript):
// 1. tsc --noEmit on the sample client (every event; strict);
// 2. tsc --noEmit on the demo page's code (plugins/demo/page/demo.js, // @ts-check);
// 3. sample/misuse.ts must fail on exactly the lines marked `// misuse`: each
//    misuse is caught and nothing else is in error, so the types are not `any`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsc = path.join(here, 'node_modules', 'typescript', 'bin', 'tsc');
if (!fs.existsSync(tsc)) {
  console.error('typescript is not installed: run `npm ci` in clients/typescript');
  process.exit(1);
}

function compile(project) {
  const run = spawnSync(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', project], { cwd: here, encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

function mustCompile(project, what) {
  const { status, output } = compile(project);
  if (status !== 0) {
    console.error(`${what} (${project}) does not compile:\n${output}`);
    process.exit(1);
  }
  console.log(`ok: ${what} compiles (${project})`);
}

function mustRefuseMisuses() {
  const { status, output } = compile('tsconfig.misuse.json');
  const marked = new Set();
  fs.readFileSync(path.join(here, 'sample/misuse.ts'), 'utf8').split('\n')
    .forEach((line, i) => { if (line.endsWith('// misuse')) marked.add(i + 1); });
  const failed = new Set();
  const elsewhere = [];
  for (const m of output.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+)/gm)) {
    if (m[1].endsWith('sample/misuse.ts')) failed.add(Number(m[2]));
    else elsewhere.push(m[0]);
  }
  const missed = [...marked].filter((n) => !failed.has(n));
  const extra = [...failed].filter((n) => !marked.has(n));
  if (status === 0 || missed.length || extra.length || elsewhere.length) {
    console.error(output);
    if (status === 0) console.error('sample/misuse.ts compiled: the event types accept anything');
    if (missed.length) console.error(`misuses that compiled (line): ${missed.join(', ')}`);
    if (extra.length) console.error(`errors on unmarked lines: ${extra.join(', ')}`);
    if (elsewhere.length) console.error(`errors in other files:\n${elsewhere.join('\n')}`);
    process.exit(1);
  }
  console.log(`ok: sample/misuse.ts fails to compile on each of its ${marked.size} misuses, and nowhere else`);
}

mustCompile('tsconfig.json', 'the sample client');
mustCompile('tsconfig.demo.json', 'the demo page');
mustRefuseMisuses();
