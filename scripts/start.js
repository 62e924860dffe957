#!/usr/bin/env node
// `npm start`: build if needed, then run the lab (`a09-lab demo`).
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(cli)) {
  const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
if (!existsSync(cli) || !require(cli).commandNames().includes('demo')) {
  console.log('a09-lab: lab not built yet (`a09-lab demo` lands with the lab issue).');
  process.exit(0);
}
const run = spawnSync(process.execPath, [cli, 'demo', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(run.status ?? 1);
