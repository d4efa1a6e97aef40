// The workbench's routes against a release `callassign serve`, as the page
// uses them: what a keystroke costs (`POST /v1/plan`: findings and plan of
// each shipped rule file with one more line) and what an edit's Impact
// costs over a history of 100,000 calls (`POST /v1/diff`). Prints the
// machine, then median, 90th percentile and slowest of each, in ms.
//
//   cargo build --release && node web/bench/routes.mjs
//
// $CALLASSIGN picks another binary; $BENCH_CALLS another history size;
// $BENCH_RUNS the number of timed requests of each kind (default 30).
import {cpus, totalmem, release} from 'node:os';
import {readFileSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {folder, serve, repository} from '../test/fixture.mjs';

process.env.CALLASSIGN ||= join(repository, 'target', 'release', 'callassign');
const CALLS = Number(process.env.BENCH_CALLS || 100_000);
const RUNS = Number(process.env.BENCH_RUNS || 30);

function figures(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (share) => sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))];
  return `median ${at(0.5).toFixed(1)}  p90 ${at(0.9).toFixed(1)}  max ${sorted[sorted.length - 1].toFixed(1)}`;
}

async function timed(origin, path, body) {
  const started = performance.now();
  const response = await fetch(`${origin}${path}`, {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body),
  });
  const answer = await response.json();
  const ms = performance.now() - started;
  if (!response.ok) throw new Error(`${path}: ${JSON.stringify(answer)}`);
  return {ms, answer};
}

const root = folder(CALLS);
const server = await serve(root);
try {
  console.log(`machine: ${cpus()[0].model}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}`);
  console.log(`date: ${new Date().toISOString()}`);
  console.log(`binary: ${process.env.CALLASSIGN}`);
  console.log(`history: ${CALLS.toLocaleString('en-US')} calls, ${(readFileSync(join(root, 'history.jsonl')).length / 2 ** 20).toFixed(1)} MiB`);
  console.log(`runs: ${RUNS} of each\n`);

  // A keystroke: each shipped rule file as served with one line added, as
  // the page sends it after every edit.
  for (const name of ['default', 'hubspot', 'pipedrive', 'salesforce', 'zendesk', 'freshdesk']) {
    const text = `${readFileSync(join(repository, 'rules', `${name}.rules`), 'utf8')}\ndisable favorite_agent\n`;
    const times = [];
    for (let run = 0; run < RUNS + 3; run++) {
      const {ms, answer} = await timed(server.origin, '/v1/plan', {ruleset: name, text});
      if (!answer.plan) throw new Error(`${name}: ${JSON.stringify(answer.findings)}`);
      if (run >= 3) times.push(ms);
    }
    console.log(`POST /v1/plan ${name.padEnd(10)} ${figures(times)}`);
  }

  // An edit's Impact over the whole history.
  const edits = [
    'ruleset hubspot extends default\nmove contact_owner before last_step_agent\n',
    'ruleset hubspot extends default\nmove favorite_agent first\n',
    'ruleset hubspot extends default\ndisable voicemail_email\nfallback unassigned\n',
  ];
  const times = [];
  let report;
  for (let run = 0; run < RUNS + 2; run++) {
    const result = await timed(server.origin, '/v1/diff', {ruleset: 'hubspot', text: edits[run % edits.length]});
    report = result.answer;
    if (run >= 2) times.push(result.ms);
  }
  console.log(`POST /v1/diff hubspot    ${figures(times)}  (${report.calls.toLocaleString('en-US')} calls decided twice each)`);
} finally {
  server.child.kill('SIGTERM');
  rmSync(root, {recursive: true, force: true});
}
