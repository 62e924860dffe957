#!/usr/bin/env node
// `npm start`: build if needed, then run the lab (`a09-lab demo`), passing signals on to it.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const root = join(__dirname, '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
// Incremental: a few seconds when dist/ is current, and never a stale lab after a pull.
const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
if (!existsSync(cli) || !require(cli).commandNames().includes('demo')) {
  console.log('a09-lab: lab not built yet (`a09-lab demo` lands with the lab issue).');
  process.exit(0);
}
const demo = spawn(process.execPath, [cli, 'demo', ...process.argv.slice(2)], { stdio: 'inherit' });
// A `kill -INT` aimed at npm start alone must still stop the lab: forward it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => demo.kill(signal));
demo.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
