// The rule workbench: edit a rule file with the findings of `check` as you
// type, see its plan, decide a call with it, and see what it changes on the
// served history against the served version. Everything is computed by the
// service (`callassign serve`); this page only shows it.
import {EditorState} from '@codemirror/state';
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars,
} from '@codemirror/view';
import {defaultKeymap, history, historyKeymap} from '@codemirror/commands';
import {bracketMatching} from '@codemirror/language';
import {setDiagnostics, lintGutter} from '@codemirror/lint';
import {ruleLanguage} from './language.js';
import {request, ServiceError, Latest, setToken, whenUnauthorized} from './api.js';
import {readFragment, writeFragment} from './fragment.js';

const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Text with `backticked` parts as code, as the service writes messages. */
function prose(text) {
  const parts = String(text).split(/(`[^`]*`)/);
  return parts.map((part) => (part.startsWith('`') && part.endsWith('`') && part.length > 1
    ? h('code', {}, part.slice(1, -1))
    : part));
}

function baseName(path) {
  return String(path).split(/[\\/]/).pop();
}

// A step as text shows it, from the names every output carries: the
// assignment line's `step` (and `user`), and the rule file's `label`
// (`integration_fallback (fallback integration)`, as `plan` prints it).
function stepName(entry) {
  const name = entry.user !== undefined ? `user "${entry.user}"` : entry.step;
  const label = entry.label || '';
  if (!label.startsWith('fallback ')) return name;
  return entry.user !== undefined ? `${name} (fallback)` : `${name} (${label})`;
}

function thousands(n) {
  return Number(n).toLocaleString('en-US');
}

function percent(part, whole) {
  if (!whole) return '';
  return `${((100 * part) / whole).toFixed(1)}%`;
}

const state = {
  rulesets: [],
  ruleset: null,
  /** The served text of the selected ruleset, to tell an edit from it. */
  served: '',
  view: null,
  /** Bumped on every edit and ruleset change: answers for older ones are dropped. */
  version: 0,
  lastPlan: null,
  lastImpact: null,
  /** The newest version found to compile: what Impact may be asked about. */
  compiled: null,
  history: null,
};

function setStatus(message, error = false) {
  const status = $('status');
  status.textContent = '';
  status.append(...prose(message));
  status.classList.toggle('error', error);
}

function describeError(error) {
  if (error instanceof ServiceError) {
    return [h('p', {class: 'error-text'}, ...prose(error.message)), error.help ? h('p', {class: 'muted'}, ...prose(error.help)) : null];
  }
  return [h('p', {class: 'error-text'}, String(error.message || error))];
}

// ---------------------------------------------------------------- editor

/** The text as the service reads it (lines joined with `\n`, as the
 *  editor counts offsets, so the findings' places match). */
function editorText() {
  return state.view.state.doc.toString();
}

/** The text as a file holds it: a CRLF file keeps its CRLF (Download, the
 *  shared link). */
function fileText() {
  return state.view.state.sliceDoc();
}

/** CRLF files stay CRLF: the editor keeps the file's own line breaks. */
function lineSeparatorOf(text) {
  return text.includes('\r\n') && !/(^|[^\r])\n/.test(text) ? '\r\n' : undefined;
}

function editorState(text) {
  const separator = lineSeparatorOf(text);
  return EditorState.create({
    doc: text,
    extensions: [
      separator ? EditorState.lineSeparator.of(separator) : [],
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightSpecialChars(),
      history(),
      drawSelection(),
      highlightActiveLine(),
      EditorView.lineWrapping,
      bracketMatching(),
      lintGutter(),
      ruleLanguage,
      editorTheme,
      keymap.of([...defaultKeymap, ...historyKeymap]),
      EditorView.contentAttributes.of({'aria-label': 'Rule file', spellcheck: 'false', autocorrect: 'off', autocapitalize: 'off'}),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) edited();
      }),
    ],
  });
}

/**
 * The editor lives in a shadow root: there CodeMirror's styles are
 * constructed style sheets, which the page's Content-Security-Policy
 * (`default-src 'self'`, nothing inline) allows; in the document itself
 * they would be inline `<style>` elements, which it refuses.
 */
function setEditorText(text) {
  if (state.view) {
    state.view.setState(editorState(text));
    return;
  }
  const shadow = $('editor').attachShadow({mode: 'open'});
  state.view = new EditorView({state: editorState(text), parent: shadow, root: shadow});
}

const editorTheme = EditorView.theme({
  '&': {height: '22rem', fontSize: '14px', backgroundColor: '#ffffff', color: '#1d2330'},
  '&.cm-focused': {outline: '3px solid #c2410c', outlineOffset: '2px'},
  '.cm-scroller': {fontFamily: 'ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace', lineHeight: '1.5'},
  '.cm-gutters': {backgroundColor: '#f3f5f8', color: '#4f5a6b', borderRight: '1px solid #c9d0db'},
  '.cm-activeLine': {backgroundColor: '#eef3fb'},
  '.cm-activeLineGutter': {backgroundColor: '#e1e8f3'},
  '.cm-content': {caretColor: '#1d2330'},
  '.cm-tooltip': {fontFamily: 'system-ui, sans-serif'},
  // The lint extension draws its marks as data: images, which the page's
  // policy (images from the service only) refuses: drawn with CSS here.
  '.cm-lintRange-error, .cm-lintRange-warning, .cm-lintRange-info, .cm-lintRange-hint': {
    backgroundImage: 'none', textDecorationLine: 'underline', textDecorationStyle: 'wavy', textUnderlineOffset: '3px',
  },
  '.cm-lintRange-error': {textDecorationColor: '#b3261e'},
  '.cm-lintRange-warning': {textDecorationColor: '#8a5300'},
  '.cm-lintRange-info, .cm-lintRange-hint': {textDecorationColor: '#0b5cad'},
  '.cm-lint-marker': {content: 'normal', width: '.7em', height: '.7em', margin: '.3em 0 0 .15em', borderRadius: '50%', backgroundColor: '#0b5cad'},
  '.cm-lint-marker-error': {backgroundColor: '#b3261e'},
  '.cm-lint-marker-warning': {backgroundColor: '#8a5300'},
});

function edited() {
  state.version += 1;
  analysis.schedule();
  updateLink();
}

// -------------------------------------------------------------- findings

const analysis = new Latest(async (signal, superseded) => {
  const text = editorText();
  const version = state.version;
  let answer;
  try {
    answer = await request('/v1/plan', {body: {ruleset: state.ruleset, text}, signal});
  } catch (error) {
    if (error.name === 'AbortError' || superseded()) return;
    showFindingsError(error);
    return;
  }
  if (version !== state.version) return;
  showFindings(answer.findings, text);
  showPlan(answer.plan);
  // Impact needs a text that compiles: asking for it otherwise would
  // only be refused.
  if (answer.plan) {
    state.compiled = {version, text};
    impact.schedule();
  } else {
    staleImpact();
  }
});

function staleImpact() {
  const body = $('impact-body');
  if (!state.lastImpact) {
    body.replaceChildren(h('p', {class: 'muted'}, 'The rule file has errors: fix them to see the impact.'));
    return;
  }
  body.classList.add('stale');
  body.querySelector('.impact-note')?.replaceChildren('The rule file has errors: this is the impact of its last version without errors.');
}

function showFindingsError(error) {
  const list = $('findings');
  list.replaceChildren();
  const summary = $('findings-summary');
  summary.replaceChildren(...describeError(error));
  // Plan and Impact are of an earlier text: dimmed and said so, not left
  // to read as the answer for this one.
  $('plan-steps').classList.add('stale');
  $('plan-chain').textContent = 'No answer for the current text: this is the plan of an earlier one.';
  const impact = $('impact-body');
  impact.classList.add('stale');
  const note = impact.querySelector('.impact-note');
  if (note) note.replaceChildren('No answer for the current text: this is the impact of an earlier one.');
  else impact.replaceChildren(h('p', {class: 'muted'}, 'No answer for the current text.'));
  if (!(error instanceof ServiceError) || error.code === 'callassign::unreachable') {
    setStatus('The service does not answer: is `callassign serve` still running? What is shown is of an earlier text.', true);
  }
}

function showFindings(findings, text) {
  const list = $('findings');
  const errors = findings.filter((finding) => finding.severity === 'error').length;
  const warnings = findings.length - errors;
  $('findings-summary').textContent = findings.length === 0
    ? 'No findings: the rule file is clean.'
    : [errors && `${errors} ${errors === 1 ? 'error' : 'errors'}`, warnings && `${warnings} ${warnings === 1 ? 'warning' : 'warnings'}`].filter(Boolean).join(', ');
  // A file of thousands of findings (10,000 duplicated steps) would take
  // seconds to draw on every edit: the first ones are shown, as `check`
  // caps its output, and the count says how many there are.
  const shown = findings.slice(0, MAX_FINDINGS_SHOWN);
  list.replaceChildren(...shown.map((finding) => findingItem(finding, text)));
  if (findings.length > shown.length) {
    list.append(h('li', {class: 'muted'}, `… and ${thousands(findings.length - shown.length)} more, not shown: fix these first.`));
  }

  const diagnostics = shown
    .filter((finding) => Number.isInteger(finding.from))
    .map((finding) => ({
      from: finding.from,
      to: Math.max(finding.to, finding.from),
      severity: finding.severity === 'warning' ? 'warning' : 'error',
      source: finding.code,
      message: finding.help ? `${finding.message}\nhelp: ${finding.help}` : finding.message,
      actions: (finding.fixes || []).map((fix) => ({
        name: fix.title,
        apply: (view) => applyFix(view, fix, text),
      })),
    }));
  state.view.dispatch(setDiagnostics(state.view.state, diagnostics));
}

const MAX_FINDINGS_SHOWN = 200;

function findingItem(finding, text) {
  const inText = Number.isInteger(finding.from);
  const place = inText ? `line ${finding.line}, column ${finding.column}` : `${finding.file}:${finding.line}:${finding.column}`;
  const where = inText
    ? h('button', {type: 'button', class: 'link-button where', onclick: () => goTo(finding.from)}, place)
    : h('span', {class: 'where'}, place);
  return h('li', {class: finding.severity},
    h('div', {}, where, ' ', h('span', {class: 'code'}, finding.code)),
    h('p', {class: 'message'}, ...prose(finding.message)),
    finding.help ? h('p', {class: 'help'}, 'help: ', ...prose(finding.help)) : null,
    ...(inText ? finding.fixes || [] : []).map((fix) => h('button', {
      type: 'button',
      class: 'fix',
      onclick: () => applyFix(state.view, fix, text),
    }, 'Quick fix: ', ...prose(fix.title))),
  );
}

function goTo(offset) {
  const view = state.view;
  const at = Math.min(offset, view.state.doc.length);
  view.dispatch({selection: {anchor: at}, scrollIntoView: true});
  view.focus();
}

/** Applies a fix made for `text`, if the editor still holds that text. */
function applyFix(view, fix, text) {
  if (view.state.doc.toString() !== text) {
    setStatus('The file changed since this fix was offered; try again once the findings catch up.', true);
    return;
  }
  view.dispatch({
    changes: {from: fix.from, to: fix.to, insert: fix.replacement},
    selection: {anchor: fix.from + fix.replacement.length},
    userEvent: 'input.fix',
  });
  view.focus();
}

// ------------------------------------------------------------------ plan

function showPlan(plan) {
  const steps = $('plan-steps');
  const chain = $('plan-chain');
  if (!plan) {
    if (state.lastPlan) {
      steps.classList.add('stale');
      chain.textContent = 'The rule file has errors: this is the plan of its last version without errors.';
    } else {
      chain.textContent = 'The rule file has errors: no plan yet.';
    }
    return;
  }
  state.lastPlan = plan;
  steps.classList.remove('stale');
  const names = plan.chain.map(baseName);
  chain.textContent = `ruleset ${plan.ruleset} (${names.join(' → ')})`;
  const items = plan.steps.map((step) => h('li', {},
    h('span', {class: 'step'}, stepName(step)),
    step.when !== undefined ? h('span', {class: 'guard'}, ` when ${step.when}`) : null,
    step.unless !== undefined ? h('span', {class: 'guard'}, ` unless ${step.unless}`) : null,
    h('span', {class: 'from'}, step.from),
  ));
  items.push(h('li', {class: 'fallback'},
    h('span', {class: 'step'}, stepName(plan.fallback)),
    h('span', {class: 'from'}, plan.fallback.from),
  ));
  for (const unreachable of plan.unreachable || []) {
    items.push(h('li', {class: 'fallback muted'}, `never reached: ${stepName(unreachable)} (${unreachable.from})`));
  }
  steps.replaceChildren(...items);
}

// ---------------------------------------------------------------- impact

const impact = new Latest(async (signal, superseded) => {
  // The text last found to compile, if it is still the editor's: after a
  // newer edit, that edit's analysis asks for Impact again if it compiles.
  const {version, text} = state.compiled || {};
  if (version !== state.version) return;
  const body = $('impact-body');
  let report;
  try {
    report = await request('/v1/diff', {body: {ruleset: state.ruleset, text}, signal});
  } catch (error) {
    if (error.name === 'AbortError' || superseded()) return;
    if (version !== state.version) return;
    if (error.code === 'callassign::rules_have_errors') {
      staleImpact();
      return;
    }
    body.classList.remove('stale');
    body.replaceChildren(...describeError(error));
    return;
  }
  if (version !== state.version) return;
  state.lastImpact = report;
  body.classList.remove('stale');
  body.replaceChildren(...renderImpact(report));
}, 150);

function exampleButtons(ids) {
  if (!ids.length) return '';
  return h('span', {class: 'examples'}, ...ids.flatMap((id, index) => [
    index ? ', ' : '',
    h('button', {type: 'button', class: 'link-button', title: `Try call ${id}`, onclick: () => pickFromHistory({id})}, id),
  ]));
}

function person(who) {
  if (!who) return 'unassigned';
  return who.email ? `${who.email} (${who.id})` : who.id;
}

function renderImpact(report) {
  const out = [];
  const history = state.history;
  const against = `against the served ${state.ruleset}.rules` + (history ? `, over the ${thousands(report.calls)} calls of ${baseName(history.file)}` : '');
  out.push(h('p', {class: 'summary'}, report.reassigned === 0
    ? h('strong', {}, 'No call changes assignee')
    : h('strong', {}, `${thousands(report.reassigned)} of ${thousands(report.calls)} calls (${percent(report.reassigned, report.calls)}) change assignee`),
  ` ${against}.`));
  out.push(h('p', {class: 'impact-note muted'}));
  const row = (label, count, share, examples) => h('tr', {},
    h('th', {scope: 'row'}, label),
    h('td', {class: 'number'}, thousands(count)),
    h('td', {class: 'number'}, share),
    h('td', {}, examples),
  );
  out.push(h('div', {class: 'table-scroll'}, h('table', {class: 'impact-summary'},
    h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {class: 'number'}, 'calls'), h('th', {class: 'number'}, 'share'), h('th', {}, 'examples'))),
    h('tbody', {},
      row('calls evaluated', report.calls, '', ''),
      row('assignee changes', report.reassigned, percent(report.reassigned, report.calls), ''),
      row('became unassigned', report.became_unassigned.calls, percent(report.became_unassigned.calls, report.calls), exampleButtons(report.became_unassigned.sample)),
      row('no longer unassigned', report.no_longer_unassigned.calls, percent(report.no_longer_unassigned.calls, report.calls), exampleButtons(report.no_longer_unassigned.sample)),
    ))));

  const stepMoves = (moves, kind) => h('div', {class: 'table-scroll'}, h('table', {class: kind},
    h('thead', {}, h('tr', {}, h('th', {}, 'old step'), h('th', {}, 'new step'), h('th', {class: 'number'}, 'calls'), h('th', {}, 'examples'))),
    h('tbody', {}, ...moves.map((move) => h('tr', {},
      h('td', {}, h('code', {}, stepName(move.from))), h('td', {}, h('code', {}, stepName(move.to))),
      h('td', {class: 'number'}, thousands(move.calls)), h('td', {}, exampleButtons(move.sample))))),
  ));
  if (report.step_moves.length) {
    out.push(h('h3', {}, 'Step moves of the calls that change assignee (old → new)'));
    out.push(stepMoves(report.step_moves, 'step-moves'));
  }
  if (report.assignee_moves.length) {
    out.push(h('h3', {}, 'Assignee moves (old → new)'));
    const rows = report.assignee_moves.map((move) => h('tr', {},
      h('td', {}, person(move.from)), h('td', {}, person(move.to)),
      h('td', {class: 'number'}, thousands(move.calls)), h('td', {}, exampleButtons(move.sample))));
    if (report.omitted_assignee_moves.moves) {
      rows.push(h('tr', {}, h('td', {colspan: 2}, `${thousands(report.omitted_assignee_moves.moves)} other moves`),
        h('td', {class: 'number'}, thousands(report.omitted_assignee_moves.calls)), h('td', {}, '')));
    }
    out.push(h('div', {class: 'table-scroll'}, h('table', {class: 'assignee-moves'},
      h('thead', {}, h('tr', {}, h('th', {}, 'old assignee'), h('th', {}, 'new assignee'), h('th', {class: 'number'}, 'calls'), h('th', {}, 'examples'))),
      h('tbody', {}, ...rows))));
  }
  const same = report.same_assignee_other_step;
  out.push(h('h3', {}, 'Step-only moves (same assignee, other step)'));
  out.push(h('p', {class: 'step-only'}, same.calls === 0
    ? 'None.'
    : [`${thousands(same.calls)} calls (${percent(same.calls, report.calls)}) keep their assignee but are decided by another step`, same.sample.length ? ': ' : '.', exampleButtons(same.sample)]));
  if ((report.same_assignee_step_moves || []).length) {
    out.push(stepMoves(report.same_assignee_step_moves, 'step-only-moves'));
  }
  if (report.unreadable.lines) {
    out.push(h('h3', {}, 'Unreadable history lines'));
    out.push(h('ul', {}, ...report.unreadable.sample.map((line) => h('li', {}, `line ${line.line}: `, ...prose(line.error)))));
    if (report.unreadable.lines > report.unreadable.sample.length) {
      out.push(h('p', {class: 'muted'}, `${thousands(report.unreadable.lines)} in all.`));
    }
  }
  return out;
}

// -------------------------------------------------------------- decision

async function decide() {
  const body = $('decision-body');
  const call = $('call').value;
  if (!call.trim()) {
    body.replaceChildren(h('p', {class: 'error-text'}, 'The Call box is empty: paste a call, or pick one from the history.'));
    return;
  }
  updateLink();
  body.replaceChildren(h('p', {class: 'muted'}, 'Deciding…'));
  let answer;
  try {
    answer = await request('/v1/decide', {body: {ruleset: state.ruleset, text: editorText(), call, input: $('call-format').value}});
  } catch (error) {
    body.replaceChildren(...describeError(error));
    return;
  }
  body.replaceChildren(...renderDecision(answer));
}

function renderDecision(answer) {
  const assignment = answer.assignment;
  const out = [];
  const assignee = assignment.assignee;
  out.push(h('p', {}, 'Call ', h('code', {class: 'call-id'}, assignment.call), answer.input === 'cloudtalk' ? ' (read as a CloudTalk record)' : ''));
  out.push(h('p', {class: 'assignee'}, 'Assignee: ', h('strong', {class: 'assignee-email'}, assignee ? (assignee.email || assignee.id) : 'unassigned'),
    assignee && assignee.email ? h('span', {class: 'muted'}, ` (user ${assignee.id})`) : ''));
  out.push(h('p', {}, 'Deciding step: ', h('code', {class: 'deciding-step'}, stepName(assignment))));
  out.push(h('h3', {}, 'Every step tried, in order'));
  out.push(h('div', {class: 'table-scroll'}, h('table', {class: 'trace'},
    h('thead', {}, h('tr', {}, h('th', {}, 'result'), h('th', {}, 'step'), h('th', {}, 'from'), h('th', {}, 'why'))),
    h('tbody', {}, ...(assignment.trace || []).map((entry) => h('tr', {},
      h('td', {class: `result result-${entry.result}`}, entry.result.replace('_', ' ')),
      h('td', {}, h('code', {class: 'trace-step'}, stepName(entry))),
      h('td', {class: 'muted'}, entry.from || ''),
      h('td', {}, ...prose(entry.reason || '')),
    ))))));
  if (assignment.facts && assignment.facts.length) {
    out.push(h('h3', {}, 'Read from the record'));
    out.push(h('div', {class: 'table-scroll'}, h('table', {class: 'facts'},
      h('thead', {}, h('tr', {}, h('th', {}, 'field'), h('th', {}, 'value'), h('th', {}, 'from'))),
      h('tbody', {}, ...assignment.facts.map((fact) => h('tr', {},
        h('td', {}, h('code', {}, fact.field)),
        h('td', {}, fact.value === undefined ? '—' : String(fact.value)),
        h('td', {}, ...prose(fact.from || ''))))))));
  }
  return out;
}

// --------------------------------------------------------------- history

async function loadHistory() {
  const pick = $('history-pick');
  state.history = null;
  let answer;
  try {
    answer = await request(`/v1/history?ruleset=${encodeURIComponent(state.ruleset)}&limit=20`);
  } catch (error) {
    pick.replaceChildren(h('option', {value: ''}, error.code === 'callassign::no_history' ? 'no history served' : 'history unavailable'));
    pick.disabled = true;
    return;
  }
  state.history = answer;
  const calls = answer.calls || [];
  pick.replaceChildren(
    h('option', {value: ''}, calls.length ? `pick one of ${calls.length} calls of ${baseName(answer.file)}` : 'the history has no readable call'),
    ...calls.map((call, index) => h('option', {value: String(index)}, `${call.id} · ${call.direction} ${call.status}`)),
  );
  pick.disabled = calls.length === 0;
}

function prettyCall(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

async function pickFromHistory({index, id}) {
  let call;
  if (index !== undefined) {
    call = state.history?.calls?.[index];
  } else {
    try {
      const answer = await request(`/v1/history?ruleset=${encodeURIComponent(state.ruleset)}&id=${encodeURIComponent(id)}`);
      call = answer.calls[0];
    } catch (error) {
      setStatus(error.message, true);
      return;
    }
  }
  if (!call) return;
  $('call').value = prettyCall(call.text);
  $('call-format').value = 'auto';
  await decide();
}

// ----------------------------------------------------------- the ruleset

let selecting = 0;

async function selectRuleset(name, text) {
  const selection = ++selecting;
  $('ruleset').value = name;
  let served;
  try {
    served = await request(`/v1/rulesets/${encodeURIComponent(name)}/source`, {text: true});
  } catch (error) {
    if (selection !== selecting) return;
    // The editor keeps what it holds (an empty file must not replace it,
    // nor be downloaded as the ruleset), and the picker says so too.
    if (state.ruleset) $('ruleset').value = state.ruleset;
    setStatus(`Cannot read the served ${name}.rules: ${error.message}${state.ruleset ? ` The editor still holds ${state.ruleset}.rules.` : ''}`, true);
    return false;
  }
  // Another ruleset was picked meanwhile: that one wins.
  if (selection !== selecting) return;
  state.ruleset = name;
  state.lastPlan = null;
  state.lastImpact = null;
  $('file-name').textContent = `${name}.rules`;
  state.served = served;
  setEditorText(text ?? served);
  $('download').disabled = false;
  const entry = state.rulesets.find((ruleset) => ruleset.name === name);
  setStatus(entry ? `Serving ${name}.rules, version ${entry.hash.slice(0, 12)}, loaded ${entry.loaded_at}.` : '');
  $('plan-steps').replaceChildren();
  $('decision-body').replaceChildren(h('p', {class: 'muted'}, `Decide a call with ${name}.rules.`));
  $('impact-body').replaceChildren(h('p', {class: 'muted'}, 'Comparing with the served version…'));
  edited();
  await loadHistory();
}

function download() {
  const blob = new Blob([fileText()], {type: 'text/plain;charset=utf-8'});
  const url = URL.createObjectURL(blob);
  const link = h('a', {href: url, download: `${state.ruleset}.rules`, hidden: true});
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  setStatus(`Downloaded ${state.ruleset}.rules: propose it for review to change what is served.`);
}

// ------------------------------------------------------------ shared link

let linkTimer = null;
function updateLink() {
  clearTimeout(linkTimer);
  linkTimer = setTimeout(() => {
    if (!state.view || !state.ruleset) return;
    const fragment = writeFragment({
      ruleset: state.ruleset,
      rules: fileText(),
      call: $('call').value,
      input: $('call-format').value,
    });
    $('share').href = `#${fragment}`;
    window.history.replaceState(null, '', `#${fragment}`);
  }, 100);
}

async function copyLink() {
  updateLink();
  await new Promise((resolve) => setTimeout(resolve, 150));
  try {
    await navigator.clipboard.writeText($('share').href);
    setStatus('Link copied: it holds the rule text and the call.');
  } catch {
    setStatus('Copying was refused by the browser: copy the link “Link to this state” instead.', true);
  }
}

/**
 * A call holding characters that do not show (a direction mark, a
 * zero-width space) reads in the Call box unlike what is decided: a
 * shared link could make it look like another call. Said under the box.
 */
function warnHiddenInCall() {
  const text = $('call').value;
  const found = text.match(/[\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/u);
  const warning = $('call-warning');
  warning.hidden = !found;
  if (found) {
    const code = found[0].codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
    warning.textContent = `The call holds the invisible character U+${code}: it may show in another order, or other than it is read. Retype it, or check what is decided.`;
  }
}

// ------------------------------------------------------------------ start

function wire() {
  whenUnauthorized(() => {
    $('token-row').hidden = false;
    setStatus('The service needs a token: enter the content of its --token-file.', true);
    $('token').focus();
  });
  $('token-row').addEventListener('submit', (event) => {
    event.preventDefault();
    setToken($('token').value.trim());
    $('token').value = '';
    $('token-row').hidden = true;
    load();
  });
  $('ruleset').onchange = () => selectRuleset($('ruleset').value);
  $('download').onclick = download;
  $('copy-link').onclick = copyLink;
  $('decide').onclick = decide;
  $('call').onkeydown = (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      decide();
    }
  };
  $('call').oninput = () => {
    updateLink();
    warnHiddenInCall();
  };
  $('call-format').onchange = updateLink;
  $('history-pick').onchange = () => {
    const value = $('history-pick').value;
    if (value !== '') pickFromHistory({index: Number(value)});
  };
}

async function load() {
  let listed;
  try {
    listed = await request('/v1/rulesets');
  } catch (error) {
    // A 401 has shown the token field with its own words: kept.
    if (error.status === 401) return;
    setStatus(`${error.message}${error.help ? ` (${error.help})` : ''}`, true);
    return;
  }
  state.rulesets = listed.rulesets;
  const select = $('ruleset');
  select.replaceChildren(...state.rulesets.map((ruleset) => h('option', {value: ruleset.name}, ruleset.name)));
  select.disabled = state.rulesets.length === 0;
  if (!state.rulesets.length) {
    setStatus('No ruleset is served.', true);
    return;
  }
  const shared = readFragment(location.hash.slice(1));
  const fromLink = shared.ruleset && state.rulesets.some((ruleset) => ruleset.name === shared.ruleset);
  if (shared.ruleset && !fromLink) setStatus(`The link names ruleset \`${shared.ruleset}\`, which is not served here.`, true);
  if (fromLink) {
    if (shared.call !== undefined) {
      $('call').value = shared.call;
      warnHiddenInCall();
    }
    if (shared.input) $('call-format').value = shared.input;
  }
  const selected = await selectRuleset(fromLink ? shared.ruleset : state.rulesets[0].name, fromLink ? shared.rules : undefined);
  if (shared.ruleset && !fromLink && selected !== false) {
    // Said again: picking the first ruleset wrote its own status over it.
    setStatus(`The link names ruleset \`${shared.ruleset}\`, which is not served here: its rule text and call were not loaded. Showing ${state.ruleset}.rules.`, true);
  }
  if (fromLink && shared.call) await decide();
}

wire();
load();
