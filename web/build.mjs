// Builds the workbench into dist/: the page, one script, one style sheet
// and the licenses of the packages bundled into the script. The build is
// reproducible (same lock file, same bytes): CI rebuilds and compares with
// the committed dist/, which `cargo build` embeds without needing Node.
//
//   npm ci && node build.mjs            build into dist/
//   node build.mjs --out DIR            build elsewhere (CI compares)
import * as esbuild from 'esbuild';
import {mkdirSync, readFileSync, writeFileSync, readdirSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = resolve(outAt >= 0 ? args[outAt + 1] : join(here, 'dist'));
mkdirSync(out, {recursive: true});

const built = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ['src/main.js'],
  bundle: true,
  format: 'iife',
  target: ['es2020'],
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  metafile: true,
  write: false,
  banner: {js: '/* callassign rule workbench; bundled packages and their licenses: licenses.txt */'},
  logLevel: 'warning',
});
const script = built.outputFiles[0].text;
writeFileSync(join(out, 'workbench.js'), script);

// The packages that went into the script, each with its license text.
const packages = new Map();
for (const input of Object.keys(built.metafile.inputs)) {
  const match = input.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) packages.set(match[1], join(here, 'node_modules', match[1]));
}
let licenses = 'The workbench script bundles these packages (from the npm registry,\npinned by web/package-lock.json):\n';
for (const [name, folder] of [...packages].sort(([a], [b]) => (a < b ? -1 : 1))) {
  const meta = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
  const file = readdirSync(folder).find((entry) => /^licen[cs]e/i.test(entry));
  if (!file) throw new Error(`${name} has no license file`);
  licenses += `\n${'='.repeat(72)}\n${name} ${meta.version} (${meta.license})\n${'='.repeat(72)}\n\n`;
  licenses += readFileSync(join(folder, file), 'utf8').trim() + '\n';
}
writeFileSync(join(out, 'licenses.txt'), licenses);

for (const file of ['index.html', 'workbench.css', 'favicon.svg']) {
  writeFileSync(join(out, file), readFileSync(join(here, 'src', file)));
}
console.log(`built ${out}: workbench.js ${script.length} bytes, ${packages.size} packages`);
