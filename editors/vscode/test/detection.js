// Which `.rules` files the extension claims, run with `npm test` in
// editors/vscode: its `filenamePatterns` (a project's rules folder) and its
// `firstLine` (a first line `ruleset NAME`), read from package.json, on
// callassign's files and on the udev, polkit and Snort files that share
// the extension. VS Code matches the patterns with its own glob code;
// minimatch reads these ones the same way.
//
// Exit status 1 when a file is claimed wrongly.
const fs = require('fs');
const path = require('path');
const minimatchModule = require('minimatch');

// minimatch 5 exports the function as the module, later versions by name.
const minimatch = minimatchModule.minimatch || minimatchModule;

const manifest = require('../package.json');
const [language] = manifest.contributes.languages;
const firstLine = new RegExp(language.firstLine);
const claimed = (file, text) =>
  language.filenamePatterns.some((pattern) => minimatch(file, pattern)) ||
  firstLine.test(text.split('\n')[0]);

const repo = path.resolve(__dirname, '..', '..', '..');
const shipped = fs
  .readdirSync(path.join(repo, 'rules'))
  .filter((name) => name.endsWith('.rules'))
  .map((name) => [path.join(repo, 'rules', name), fs.readFileSync(path.join(repo, 'rules', name), 'utf8'), true]);

const cases = [
  ...shipped,
  ['/home/ann/team/rules/zendesk.rules', '', true],
  ['/home/ann/zendesk.rules', 'ruleset zendesk extends default\n', true],
  ['/home/ann/zendesk.rules', '\uFEFFruleset zendesk\n', true],
  ['/etc/udev/rules.d/99-usb.rules', '# USB sticks\nACTION=="add", SUBSYSTEM=="usb"\n', false],
  ['/lib/udev/rules.d/60-block.rules', 'ACTION!="add|change", GOTO="end"\n', false],
  ['/usr/share/polkit-1/rules.d/50-admin.rules', 'polkit.addAdminRule(function(action, subject) {\n', false],
  ['/etc/snort/rules/local.rules', '', true], // a `rules` folder: see editors/README.md
  ['/etc/snort/local.rules', 'alert tcp any any -> any 80 (msg:"web"; sid:1000001;)\n', false],
  ['/home/ann/notes.rules', 'rulesets are great\n', false],
];

let failed = 0;
for (const [file, text, expected] of cases) {
  const got = claimed(file, text);
  if (got !== expected) {
    failed += 1;
    console.error(`${file}: ${expected ? 'not claimed' : 'claimed'} (first line ${JSON.stringify(text.split('\n')[0])})`);
  }
}
console.log(`${cases.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
