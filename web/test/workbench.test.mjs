// The workbench in a real browser (Debian's Chromium, driven by
// playwright-core; never a downloaded browser) against the real
// `callassign serve` on a loopback port. One page goes through what a
// support lead does, in order; each step checks what the issue promises
// and compares with the command line where it shows the same thing.
//
//   CALLASSIGN=target/debug/callassign node --test web/test/
//
// Screenshots go to $WEB_SCREENSHOTS (default target/web-screenshots).
import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {chromium} from 'playwright-core';
import {folder, serve, diffJson, evalExplain, repository} from './fixture.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.WEB_SCREENSHOTS || join(repository, 'target', 'web-screenshots');
const HISTORY_CALLS = 3000;

let root;
let server;
let context;
let page;
let userData;
const problems = [];
let current = 'start';
const foreign = [];

async function shot(name) {
  await page.screenshot({path: join(SHOTS, `${name}.png`), fullPage: true});
}

/** Watches a page for console errors, uncaught exceptions and requests elsewhere. */
function watch(watched, origin = server.origin) {
  watched.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${current}: console: ${message.text()}`);
  });
  watched.on('pageerror', (error) => problems.push(`${current}: uncaught: ${error.message}`));
  watched.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith('blob:')) foreign.push(url);
  });
}

beforeEach((t) => {
  current = t.name;
});

before(async () => {
  mkdirSync(SHOTS, {recursive: true});
  root = folder(HISTORY_CALLS);
  server = await serve(root);
  userData = mkdtempSync(join(tmpdir(), 'callassign-chromium-'));
  context = await chromium.launchPersistentContext(userData, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: {width: 1280, height: 800},
    acceptDownloads: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], {origin: server.origin});
  page = context.pages()[0] || (await context.newPage());
  watch(page);
});

after(async () => {
  await context?.close();
  server?.child.kill('SIGTERM');
  if (userData) rmSync(userData, {recursive: true, force: true});
});

const editor = () => page.getByRole('textbox', {name: 'Rule file'});
const findings = () => page.getByRole('list', {name: 'Findings'});
const plan = () => page.getByRole('region', {name: 'Plan'});
const impact = () => page.getByRole('region', {name: 'Impact'});
const decision = () => page.getByRole('region', {name: 'Decision'});

/** What Download saves: the file name and its exact bytes. */
async function download(on = page) {
  const [saved] = await Promise.all([
    on.waitForEvent('download'),
    on.getByRole('button', {name: 'Download', exact: true}).click(),
  ]);
  const path = await saved.path();
  return {name: saved.suggestedFilename(), text: readFileSync(path, 'utf8')};
}

/** The numbers of the Impact region, by row label, and its move tables. */
async function impactShown() {
  return impact().evaluate((region) => {
    const number = (text) => Number(text.replace(/[^0-9]/g, ''));
    const rows = {};
    for (const row of region.querySelectorAll('table.impact-summary tbody tr')) {
      rows[row.querySelector('th').textContent.trim()] = number(row.querySelectorAll('td')[0].textContent);
    }
    const moves = [...region.querySelectorAll('table.step-moves tbody tr')].map((row) => {
      const cells = row.querySelectorAll('td');
      return {from: cells[0].textContent, to: cells[1].textContent, calls: number(cells[2].textContent), sample: cells[3].textContent.split(', ').filter(Boolean)};
    });
    const assignees = [...region.querySelectorAll('table.assignee-moves tbody tr')].map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent));
    const stepOnly = region.querySelector('.step-only').textContent;
    const stepOnlyMoves = [...region.querySelectorAll('table.step-only-moves tbody tr')].map((row) => {
      const cells = row.querySelectorAll('td');
      return {from: cells[0].textContent, to: cells[1].textContent, calls: number(cells[2].textContent)};
    });
    return {rows, moves, assignees, stepOnly, stepOnlyMoves, summary: region.querySelector('.summary').textContent};
  });
}

/** A step as `plan` and the page print it, from the names outputs carry. */
function stepName(entry) {
  const name = entry.user !== undefined ? `user "${entry.user}"` : entry.step;
  const label = entry.label || '';
  if (!label.startsWith('fallback ')) return name;
  return entry.user !== undefined ? `${name} (fallback)` : `${name} (${label})`;
}

function person(who) {
  if (!who) return 'unassigned';
  return who.email ? `${who.email} (${who.id})` : who.id;
}

/** Impact must show exactly what `callassign diff` reports. */
function assertImpactIsDiff(shown, report) {
  assert.equal(shown.rows['calls evaluated'], report.calls);
  assert.equal(shown.rows['assignee changes'], report.reassigned);
  assert.equal(shown.rows['became unassigned'], report.became_unassigned.calls);
  assert.equal(shown.rows['no longer unassigned'], report.no_longer_unassigned.calls);
  assert.deepEqual(shown.moves, report.step_moves.map((move) => ({from: stepName(move.from), to: stepName(move.to), calls: move.calls, sample: move.sample})));
  assert.deepEqual(shown.assignees.slice(0, report.assignee_moves.length).map((cells) => cells.slice(0, 3)),
    report.assignee_moves.map((move) => [person(move.from), person(move.to), move.calls.toLocaleString('en-US')]));
  const same = report.same_assignee_other_step;
  if (same.calls === 0) assert.equal(shown.stepOnly, 'None.');
  else assert.ok(shown.stepOnly.startsWith(`${same.calls.toLocaleString('en-US')} calls`), shown.stepOnly);
  // The step-only moves are listed as `diff` lists them.
  assert.deepEqual(shown.stepOnlyMoves, report.same_assignee_step_moves.map((move) => ({from: stepName(move.from), to: stepName(move.to), calls: move.calls})));
}

const served = () => readFileSync(join(root, 'rules', 'hubspot.rules'), 'utf8');

test('picking a ruleset puts the served file in the editor, with its plan, no findings and no impact', async () => {
  await page.goto(`${server.origin}/`);
  const select = page.getByRole('combobox', {name: 'Ruleset'});
  await assert.doesNotReject(select.waitFor());
  assert.deepEqual(await select.locator('option').allTextContents(), ['hubspot', 'pipedrive']);
  await select.selectOption('pipedrive');
  await page.waitForFunction(() => document.querySelector('#file-name').textContent === 'pipedrive.rules');
  await select.selectOption('hubspot');
  await page.waitForFunction(() => document.querySelector('#file-name').textContent === 'hubspot.rules');
  await editor().waitFor();

  const saved = await download();
  assert.equal(saved.name, 'hubspot.rules');
  assert.equal(saved.text, served());

  await page.waitForFunction(() => document.querySelector('#findings-summary').textContent.startsWith('No findings'));
  assert.equal(await findings().locator('li').count(), 0);
  const steps = await plan().locator('li .step').allTextContents();
  assert.deepEqual(steps, ['call_agent', 'last_step_agent', 'voicemail_email', 'contact_owner', 'favorite_agent', 'integration_fallback (fallback integration)']);
  await impact().getByText('No call changes assignee').waitFor();
  const shown = await impactShown();
  assert.equal(shown.rows['calls evaluated'], HISTORY_CALLS);
  assert.equal(shown.rows['assignee changes'], 0);
  await shot('1-opened');
});

test('a misspelt step shows its finding within a second, and its quick fix applies', async () => {
  await editor().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('move contact_owner before last_step_agnet');
  const typed = Date.now();
  const item = findings().locator('li', {hasText: 'callassign::unknown_step'});
  await item.waitFor({timeout: 1000});
  const waited = Date.now() - typed;
  assert.ok(waited < 1000, `the finding took ${waited} ms`);
  const text = await item.textContent();
  // The served file ends with a line break: Ctrl+End is on the line after
  // its last, and Enter opens one more.
  const line = served().split('\n').length + 1;
  assert.match(text, new RegExp(`line ${line}, column 27`));
  assert.match(text, /unknown step `?last_step_agnet/);
  assert.match(text, /did you mean `?last_step_agent/);
  await shot('2-finding');

  await item.getByRole('button', {name: /Quick fix/}).click();
  await page.waitForFunction(() => document.querySelector('#findings-summary').textContent.startsWith('No findings'));
  assert.equal(await findings().locator('li').count(), 0);
  const saved = await download();
  assert.equal(saved.text, `${served()}\nmove contact_owner before last_step_agent`);
});

test('moving a step changes the plan, and Impact shows what `callassign diff` reports', async () => {
  const steps = await plan().locator('li .step').allTextContents();
  assert.deepEqual(steps, ['call_agent', 'contact_owner', 'last_step_agent', 'voicemail_email', 'favorite_agent', 'integration_fallback (fallback integration)']);
  const edited = (await download()).text;
  const report = diffJson(root, 'hubspot', served(), edited);
  assert.ok(report.reassigned > 0, 'the history has calls this move reassigns');
  await page.waitForFunction((count) => {
    const row = [...document.querySelectorAll('#impact table.impact-summary tbody tr')].find((r) => r.querySelector('th').textContent === 'assignee changes');
    return row && Number(row.querySelectorAll('td')[0].textContent.replace(/[^0-9]/g, '')) === count;
  }, report.reassigned, {timeout: 5000});
  assertImpactIsDiff(await impactShown(), report);

  // One more edit, with no button pressed: Impact follows it.
  await editor().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('disable favorite_agent');
  const again = diffJson(root, 'hubspot', served(), `${edited}\ndisable favorite_agent`);
  assert.notEqual(again.reassigned, report.reassigned);
  await page.waitForFunction((count) => {
    const row = [...document.querySelectorAll('#impact table.impact-summary tbody tr')].find((r) => r.querySelector('th').textContent === 'assignee changes');
    return row && Number(row.querySelectorAll('td')[0].textContent.replace(/[^0-9]/g, '')) === count;
  }, again.reassigned, {timeout: 5000});
  assertImpactIsDiff(await impactShown(), again);
  assert.deepEqual(await plan().locator('li .step').allTextContents(),
    ['call_agent', 'contact_owner', 'last_step_agent', 'voicemail_email', 'integration_fallback (fallback integration)']);
  await shot('3-impact');

  // An example call of a step move is one click from its decision.
  const example = again.step_moves[0].sample[0];
  await impact().locator('table.step-moves').getByRole('button', {name: example, exact: true}).click();
  await decision().locator('.call-id', {hasText: example}).waitFor();
  // The line's own step (and user), which the move's `to` carries.
  const to = again.step_moves[0].to;
  assert.equal(await decision().locator('.deciding-step').textContent(), to.user !== undefined ? `user "${to.user}"` : to.step);
});

const CALL = JSON.stringify({
  id: 'c-77', direction: 'incoming', status: 'missed', agent: 'alice@acme.com',
  flow: [{type: 'call_to_agent', agent: 'Bob@Acme.com'}],
  contact: {id: '9', owner: 'hs-5', favorite_agent: 'alice@acme.com'},
}, null, 2);

test('a pasted call is decided with the edited text: owner and trace as `eval --explain`', async () => {
  const call = page.getByRole('textbox', {name: 'Call', exact: true});
  await call.fill(CALL);
  // Keyboard only: Tab from Call reaches Decide, Enter activates it.
  await call.focus();
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => ({
    name: document.activeElement.textContent,
    outline: getComputedStyle(document.activeElement).outlineStyle,
    visible: document.activeElement.matches(':focus-visible'),
  }));
  assert.equal(focused.name, 'Decide');
  assert.ok(focused.visible && focused.outline !== 'none', `focus is visible: ${JSON.stringify(focused)}`);
  await page.keyboard.press('Enter');

  const edited = (await download()).text;
  const expected = evalExplain(root, 'hubspot', edited, CALL);
  assert.equal(expected.step, 'contact_owner', 'the edit decides this call by contact owner');
  await decision().locator('.deciding-step').waitFor();
  assert.equal(await decision().locator('.assignee-email').textContent(), expected.assignee.email);
  assert.equal(await decision().locator('.deciding-step').textContent(), expected.step);
  const trace = await decision().locator('table.trace tbody tr').evaluateAll((rows) => rows.map((row) => ({
    result: row.querySelector('.result').textContent.replace(' ', '_'),
    step: row.querySelector('.trace-step').textContent,
    from: row.querySelectorAll('td')[2].textContent,
    reason: row.querySelectorAll('td')[3].textContent,
  })));
  assert.deepEqual(trace, expected.trace.map((entry) => ({result: entry.result, step: stepName(entry), from: entry.from, reason: (entry.reason || '').replaceAll('`', '')})));
  await shot('4-decision');
});

test('a call picked from the history is decided at once', async () => {
  const pick = page.getByRole('combobox', {name: 'From history'});
  const first = JSON.parse(readFileSync(join(root, 'history.jsonl'), 'utf8').split('\n')[0]);
  await pick.selectOption({index: 1});
  await decision().locator('.call-id', {hasText: first.id}).waitFor();
  assert.deepEqual(JSON.parse(await page.getByRole('textbox', {name: 'Call', exact: true}).inputValue()), first);
});

test('a CloudTalk record is detected without choosing a format', async () => {
  const record = readFileSync(join(repository, 'examples', 'cloudtalk', 'records.jsonl'), 'utf8').split('\n')[0];
  await page.getByRole('textbox', {name: 'Call', exact: true}).fill(record);
  await page.getByRole('button', {name: 'Decide', exact: true}).click();
  await decision().getByText('read as a CloudTalk record').waitFor();
  assert.equal(await decision().locator('.call-id').textContent(), '27');
  await page.getByRole('textbox', {name: 'Call', exact: true}).fill(CALL);
  await page.getByRole('button', {name: 'Decide', exact: true}).click();
  await decision().locator('.call-id', {hasText: 'c-77'}).waitFor();
});

test('the shared link reproduces the rule text and the call', async () => {
  const edited = (await download()).text;
  await page.waitForFunction(() => document.querySelector('#share').getAttribute('href').includes('call='));
  const href = await page.locator('#share').evaluate((link) => link.href);
  const fresh = await context.newPage();
  watch(fresh);
  await fresh.goto(href);
  await fresh.getByRole('region', {name: 'Decision'}).locator('.deciding-step').waitFor();
  assert.equal(await fresh.getByRole('textbox', {name: 'Call', exact: true}).inputValue(), CALL);
  assert.equal((await download(fresh)).text, edited);
  assert.equal(await fresh.getByRole('combobox', {name: 'Ruleset'}).inputValue(), 'hubspot');
  await fresh.close();
});

test('editor keys behave as in an editor, select-all and copy give plain text', async () => {
  await editor().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.type('disable voicemail_email');
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'editor', 'Escape does not leave the editor');
  await page.keyboard.press('Control+a');
  await page.keyboard.press('Control+c');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const saved = (await download()).text;
  assert.ok(saved.endsWith('\ndisable voicemail_email'), saved);
  assert.equal(copied, saved);
  await page.waitForFunction(() => document.querySelector('#findings-summary').textContent.startsWith('No findings'));
});

test('reads at 1280×800 and on a narrow screen without sideways scrolling', async () => {
  for (const [name, size] of [['wide', {width: 1280, height: 800}], ['narrow', {width: 390, height: 844}]]) {
    await page.setViewportSize(size);
    await page.waitForTimeout(200);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${name}: the page is ${overflow}px wider than the screen`);
    for (const region of [plan(), impact(), decision()]) assert.ok(await region.isVisible());
    await shot(`5-${name}`);
    if (name === 'narrow') {
      await decision().screenshot({path: join(SHOTS, '6-narrow-decision.png')});
      await impact().screenshot({path: join(SHOTS, '6-narrow-impact.png')});
    }
  }
  await page.setViewportSize({width: 1280, height: 800});
});

test('with --token-file, the page asks for the token and then works', async () => {
  const token = join(root, 'token');
  writeFileSync(token, 'workbench-token\n');
  const guarded = await serve(root, ['--token-file', token]);
  const tab = await context.newPage();
  watch(tab, guarded.origin);
  try {
    await tab.goto(`${guarded.origin}/`);
    const field = tab.getByLabel('Service token');
    await field.waitFor();
    await field.fill('workbench-token');
    await field.press('Enter');
    await tab.getByRole('region', {name: 'Plan'}).locator('li .step', {hasText: 'fallback integration'}).waitFor();
    assert.equal(await tab.getByRole('combobox', {name: 'Ruleset'}).inputValue(), 'hubspot');
    assert.equal(await tab.locator('#token-row').isHidden(), true);
  } finally {
    await tab.close();
    guarded.child.kill('SIGTERM');
  }
  // The 401 answers the page got before the token are what asking for it
  // looks like in a console, not errors of the page.
  for (let at = problems.length - 1; at >= 0; at--) {
    if (problems[at].includes('401 (Unauthorized)')) problems.splice(at, 1);
  }
});

test('a CRLF file keeps its CRLF in Download and in the shared link', async () => {
  const text = 'ruleset hubspot extends default\r\ndisable favorite_agent\r\n';
  const tab = await context.newPage();
  watch(tab);
  try {
    await tab.goto(`${server.origin}/#ruleset=hubspot&rules=${encodeURIComponent(text)}`);
    await tab.getByRole('region', {name: 'Plan'}).locator('li .step', {hasText: 'fallback integration'}).waitFor();
    assert.equal((await download(tab)).text, text);
    await tab.waitForFunction(() => document.querySelector('#share').getAttribute('href').includes('rules='));
    const href = await tab.locator('#share').evaluate((link) => link.href);
    assert.ok(decodeURIComponent(href).includes('default\r\ndisable'), href);
  } finally {
    await tab.close();
  }
});

test('a call holding a direction mark is said to, under the Call box', async () => {
  const call = '{"id":"c-\u202e1","direction":"incoming","status":"missed"}';
  const tab = await context.newPage();
  watch(tab);
  try {
    await tab.goto(`${server.origin}/#ruleset=hubspot&call=${encodeURIComponent(call)}`);
    const warning = tab.getByRole('alert');
    await warning.waitFor();
    assert.ok((await warning.textContent()).includes('U+202E'), await warning.textContent());
    await tab.getByRole('textbox', {name: 'Call', exact: true}).fill('{"id":"c-1"}');
    assert.equal(await tab.locator('#call-warning').isHidden(), true);
  } finally {
    await tab.close();
  }
});

test('a link naming a ruleset that is not served says so, and stays said', async () => {
  const tab = await context.newPage();
  watch(tab);
  try {
    await tab.goto(`${server.origin}/#ruleset=salesforce&rules=${encodeURIComponent('ruleset salesforce extends default\n')}`);
    await tab.getByRole('region', {name: 'Plan'}).locator('li .step', {hasText: 'fallback integration'}).waitFor();
    await tab.waitForTimeout(300);
    const status = await tab.locator('#status').textContent();
    assert.ok(status.includes('salesforce') && status.includes('not served here'), status);
  } finally {
    await tab.close();
  }
});

test('when the service stops, the editor keeps its text and Plan and Impact say they are of an earlier text', async () => {
  const own = await serve(root);
  const tab = await context.newPage();
  watch(tab, own.origin);
  try {
    await tab.goto(`${own.origin}/`);
    const plan = tab.getByRole('region', {name: 'Plan'});
    await plan.locator('li .step', {hasText: 'fallback integration'}).waitFor();
    own.child.kill('SIGTERM');
    await new Promise((resolve) => own.child.once('exit', resolve));
    const rules = tab.getByRole('textbox', {name: 'Rule file'});
    await rules.click();
    await tab.keyboard.press('Control+End');
    await tab.keyboard.type('\nmove contact_owner first');
    await tab.waitForFunction(() => document.querySelector('#status').textContent.includes('does not answer'));
    assert.ok(await tab.locator('#plan-steps').evaluate((list) => list.classList.contains('stale')));
    const before = await rules.textContent();
    // Picking another ruleset cannot read it: the editor keeps its text.
    const picker = tab.getByRole('combobox', {name: 'Ruleset'});
    const other = await picker.locator('option').evaluateAll((options) => options.map((o) => o.value).find((v) => v !== 'hubspot'));
    await picker.selectOption(other);
    await tab.waitForFunction(() => document.querySelector('#status').textContent.includes('Cannot read the served'));
    assert.equal(await rules.textContent(), before);
    assert.equal(await picker.inputValue(), 'hubspot');
  } finally {
    await tab.close();
    own.child.kill('SIGTERM');
  }
  // Requests to the stopped service fail in the console by design.
  for (let at = problems.length - 1; at >= 0; at--) {
    if (problems[at].includes('ERR_CONNECTION_REFUSED')) problems.splice(at, 1);
  }
});

test('no console errors, no request to another host', () => {
  assert.deepEqual(problems, []);
  assert.deepEqual(foreign, []);
});
