#!/usr/bin/env node
// A solc-compatible front for the solcjs (WebAssembly) compiler from npm, so that py-solc-x and
// brownie compile offline. It implements only what they call: `--version` and `--standard-json`
// (input on stdin, imports resolved against --base-path / --include-path and the repository's
// node_modules, --allow-paths ignored).
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require(path.join(__dirname, '..', 'node_modules', 'solc'));

const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('solc-shim: only --version and --standard-json are supported\n');
  process.exit(2);
}
const roots = [];
args.forEach((arg, i) => {
  if (arg === '--base-path' || arg === '--include-path') roots.push(args[i + 1]);
});
if (roots.length === 0) roots.push(process.cwd());
// Packages from npm (e.g. @openzeppelin/contracts) resolve without a remapping, as in Hardhat.
roots.push(path.join(__dirname, '..', 'node_modules'));

function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));
