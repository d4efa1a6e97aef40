// What the browser test and the benchmark serve: a rules folder, contexts
// and a history of calls made up from a fixed seed (the same file every
// run), and a `callassign serve` started on a free loopback port.
import {spawn, execFileSync} from 'node:child_process';
import {mkdtempSync, mkdirSync, copyFileSync, writeFileSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

export const repository = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The binary under test: $CALLASSIGN (a path), else target/debug. */
export function binary() {
  return process.env.CALLASSIGN || join(repository, 'target', 'debug', 'callassign');
}

/** A small deterministic generator (mulberry32). */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AGENTS = ['alice@acme.com', 'Bob@Acme.com', 'support@acme.com', 'dave@acme.com', 'carol@acme.com', 'temp@agency.com', ' ALICE@acme.com '];
const OWNERS = ['hs-1', 'hs-2', 'hs-3', 'hs-4', 'hs-5', 'hs-7', 'sf-9'];

/** `count` native calls, one JSON line each, the same for the same seed. */
export function history(count, seed = 20) {
  const next = random(seed);
  const pick = (list) => list[Math.floor(next() * list.length)];
  const lines = [];
  for (let n = 1; n <= count; n++) {
    const direction = next() < 0.75 ? 'incoming' : pick(['outgoing', 'internal']);
    const roll = next();
    const status = roll < 0.4 ? 'missed' : roll < 0.55 ? 'voicemail' : 'answered';
    const call = {id: `h-${String(n).padStart(6, '0')}`, direction, status};
    if (next() < 0.8) call.agent = pick(AGENTS);
    call.started_at = `2026-11-${String(1 + (n % 28)).padStart(2, '0')}T${String(8 + (n % 10)).padStart(2, '0')}:00:00Z`;
    call.duration_s = status === 'answered' ? Math.floor(next() * 600) : 0;
    if (next() < 0.3) call.tags = [pick(['vip', 'sales', 'support'])];
    const flow = [{type: 'welcome_message'}];
    const ending = next();
    if (ending < 0.5) flow.push({type: 'call_to_agent', agent: pick(AGENTS)});
    else if (ending < 0.7) flow.push({type: 'call_to_group', group: 'Support', agent: next() < 0.5 ? pick(AGENTS) : null});
    if (status === 'voicemail' || ending > 0.9) flow.push({type: 'voicemail', email: pick(AGENTS)});
    call.flow = flow;
    if (next() < 0.7) {
      call.contact = {id: String(100 + (n % 500))};
      if (next() < 0.7) call.contact.owner = pick(OWNERS);
      if (next() < 0.5) call.contact.favorite_agent = pick(AGENTS);
    }
    lines.push(JSON.stringify(call));
  }
  return lines.join('\n') + '\n';
}

/**
 * A folder to serve: rules/ with the shipped rule files, contexts/ with
 * the HubSpot example context for `hubspot` (and a Pipedrive copy), and
 * history.jsonl of `calls` calls.
 */
export function folder(calls) {
  const root = mkdtempSync(join(tmpdir(), 'callassign-workbench-'));
  mkdirSync(join(root, 'rules'));
  mkdirSync(join(root, 'contexts'));
  for (const name of ['default', 'hubspot', 'pipedrive']) {
    copyFileSync(join(repository, 'rules', `${name}.rules`), join(root, 'rules', `${name}.rules`));
  }
  const context = readFileSync(join(repository, 'examples', 'hubspot.context.yaml'), 'utf8');
  writeFileSync(join(root, 'contexts', 'hubspot.yaml'), context);
  writeFileSync(join(root, 'contexts', 'pipedrive.yaml'), context.replace('integration: hubspot', 'integration: pipedrive')
    .replace('  - {id: hs-5, email: dave@acme.com}', '  - {id: hs-5, email: dave@acme.com}\n  - {id: hs-8, email: sales-ops@acme.com}'));
  writeFileSync(join(root, 'history.jsonl'), history(calls));
  return root;
}

/** Starts `callassign serve` on the folder; resolves to its origin and process. */
export function serve(root, extra = []) {
  const child = spawn(binary(), [
    'serve', '--rules', join(root, 'rules'), '--contexts', join(root, 'contexts'),
    '--history', join(root, 'history.jsonl'), '--listen', '127.0.0.1:0', ...extra,
  ], {stdio: ['ignore', 'ignore', 'pipe']});
  let said = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${said}`)), 30_000);
    child.stderr.on('data', (chunk) => {
      said += chunk;
      // A whole line only: a chunk may end in the middle of the port.
      const match = said.match(/listening on (http:\/\/[0-9.:]+)\n/);
      if (match) {
        clearTimeout(timer);
        resolvePromise({origin: match[1], child, log: () => said});
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${said}`));
    });
  });
}

/** Runs the binary and returns its standard output. */
export function callassign(args) {
  return execFileSync(binary(), args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
}

/** `callassign diff --format json` of OLD and NEW rule texts over the folder's history. */
export function diffJson(root, ruleset, oldText, newText) {
  const work = mkdtempSync(join(tmpdir(), 'callassign-diff-'));
  for (const side of ['old', 'new']) {
    mkdirSync(join(work, side));
    copyFileSync(join(root, 'rules', 'default.rules'), join(work, side, 'default.rules'));
  }
  writeFileSync(join(work, 'old', `${ruleset}.rules`), oldText);
  writeFileSync(join(work, 'new', `${ruleset}.rules`), newText);
  let output;
  try {
    output = callassign(['diff', '--format', 'json', '--context', join(root, 'contexts', `${ruleset}.yaml`),
      join(work, 'old', `${ruleset}.rules`), join(work, 'new', `${ruleset}.rules`), join(root, 'history.jsonl')]);
  } catch (error) {
    // Exit 1 would mean --fail-on-change, not given; anything else fails.
    throw new Error(`diff failed: ${error.stderr || error.message}`);
  }
  return JSON.parse(output);
}

/** `callassign eval --explain` of one call with the rule text. */
export function evalExplain(root, ruleset, text, call) {
  const work = mkdtempSync(join(tmpdir(), 'callassign-eval-'));
  copyFileSync(join(root, 'rules', 'default.rules'), join(work, 'default.rules'));
  writeFileSync(join(work, `${ruleset}.rules`), text);
  writeFileSync(join(work, 'call.json'), call);
  return JSON.parse(callassign(['eval', '--explain', '--rules', join(work, `${ruleset}.rules`),
    '--context', join(root, 'contexts', `${ruleset}.yaml`), join(work, 'call.json')]));
}
