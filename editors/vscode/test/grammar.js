// Tests of the TextMate grammar, run with `npm test` in editors/vscode:
//
// 1. test/*.rules: scopes asserted token by token (vscode-tmgrammar-test);
// 2. every rule file the repository ships (rules/*.rules): every token gets
//    a scope of its own, and none is marked invalid.
//
// Exit status 1 when either fails.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const textmate = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const here = __dirname;
const repo = path.resolve(here, '..', '..', '..');
const grammarPath = path.join(here, '..', 'syntaxes', 'callassign.tmLanguage.json');

/** Whether every assertion of test/*.rules holds; the tool prints why not. */
function assertions() {
  const cli = require.resolve('vscode-tmgrammar-test/dist/unit.js');
  try {
    execFileSync(process.execPath, [cli, '-g', grammarPath, path.join(here, '*.rules')], {
      cwd: path.join(here, '..'),
      stdio: 'inherit',
    });
    return true;
  } catch {
    return false;
  }
}

function shippedRuleFiles() {
  const folder = path.join(repo, 'rules');
  return fs
    .readdirSync(folder)
    .filter((name) => name.endsWith('.rules'))
    .sort()
    .map((name) => path.join(folder, name));
}

async function coverage() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async () =>
      textmate.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath),
  });
  const grammar = await registry.loadGrammar('source.callassign');
  const files = shippedRuleFiles();
  const problems = [];
  for (const file of files) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    let stack = textmate.INITIAL;
    lines.forEach((line, index) => {
      const result = grammar.tokenizeLine(line, stack);
      stack = result.ruleStack;
      for (const token of result.tokens) {
        const text = line.slice(token.startIndex, token.endIndex);
        const where = `${path.relative(repo, file)}:${index + 1}:${token.startIndex + 1}`;
        if (token.scopes.some((scope) => scope.startsWith('invalid'))) {
          problems.push(`${where}: \`${text}\` is marked invalid`);
        } else if (text.trim() !== '' && token.scopes.length === 1) {
          problems.push(`${where}: \`${text}\` has no scope`);
        }
      }
    });
  }
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    return false;
  }
  console.log(`grammar covers every token of ${files.length} shipped rule files`);
  return true;
}

async function main() {
  const asserted = assertions();
  const covered = await coverage();
  process.exit(asserted && covered ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
