#!/usr/bin/env node
'use strict';
// Summarise a V8 .cpuprofile (node --cpu-prof): self time by function and by file, and the inclusive time
// of frames matching --focus (a regex). When the profile comes from `bench/http-overhead.js --profile DIR`,
// the request count the server wrote beside it (<pid>.json) turns times into microseconds per request,
// and --against <other.cpuprofile> prints the difference per request by function (a09 minus bare).
//   node bench/profile-summary.js <file.cpuprofile> [--top 40] [--focus 'dist/'] [--against <bare.cpuprofile>]

const fs = require('node:fs');
const path = require('node:path');
const { option } = require('./lib/harness');

const IDLE = new Set(['(idle)', '(program)']);

function shortUrl(url) {
  if (!url) return '';
  const clean = url.replace(/^file:\/\//, '');
  const at = clean.lastIndexOf('node_modules/');
  const dist = clean.lastIndexOf('/dist/');
  if (dist >= 0) return clean.slice(dist + 1);
  return at >= 0 ? clean.slice(at + 'node_modules/'.length) : path.relative(process.cwd(), clean);
}

function frameLabel(frame) {
  return `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/** Self time per sampled node (us), the requests the profile covers (or undefined), and lookups. */
function load(file) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + delta);
  }
  const pid = /\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(file)?.[1];
  const countFile = pid === undefined ? undefined : path.join(path.dirname(file), `${pid}.json`);
  const requests = countFile !== undefined && fs.existsSync(countFile) ? JSON.parse(fs.readFileSync(countFile, 'utf8')).requests : undefined;
  return { nodes, parent, selfUs, requests };
}

function selfBy(loaded, keyOf) {
  const map = new Map();
  let busy = 0;
  for (const [id, us] of loaded.selfUs) {
    const frame = loaded.nodes.get(id).callFrame;
    if (IDLE.has(frame.functionName)) continue;
    busy += us;
    const key = keyOf(frame);
    map.set(key, (map.get(key) ?? 0) + us);
  }
  return { map, busy };
}

function main() {
  const argv = process.argv.slice(2);
  const file = argv[0];
  if (file === undefined) {
    console.error('usage: node bench/profile-summary.js <file.cpuprofile> [--top N] [--focus REGEX] [--against OTHER.cpuprofile]');
    process.exit(2);
  }
  const top = Number(option(argv, 'top', 40));
  const focus = option(argv, 'focus');
  const against = option(argv, 'against');
  const loaded = load(file);
  const per = loaded.requests ?? 1;
  const unit = loaded.requests === undefined ? 'ms total' : 'us/request';
  const scale = (us) => (loaded.requests === undefined ? us / 1000 : us / per);

  const byFunction = selfBy(loaded, frameLabel);
  const byFile = selfBy(loaded, (frame) => shortUrl(frame.url) || frame.functionName);
  const busy = byFunction.busy;
  const print = (title, map, scaleOf = scale) => {
    console.log(`\n${title}`);
    for (const [name, us] of [...map].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, top)) {
      console.log(`${((100 * us) / busy).toFixed(1).padStart(6)}% ${scaleOf(us).toFixed(1).padStart(8)} ${unit}  ${name}`);
    }
  };
  console.log(`${file}: ${(busy / 1e6).toFixed(2)} s busy${loaded.requests !== undefined ? `, ${loaded.requests} requests, ${(busy / per).toFixed(1)} us busy per request` : ''}`);
  print('self time by function', byFunction.map);
  print('self time by file', byFile.map);

  if (typeof focus === 'string') {
    // Inclusive: each sample counts once for every distinct matching frame on its stack.
    const pattern = new RegExp(focus);
    const inclusive = new Map();
    for (const [id, us] of loaded.selfUs) {
      const seen = new Set();
      for (let at = id; at !== undefined; at = loaded.parent.get(at)) {
        const frame = loaded.nodes.get(at).callFrame;
        const name = frameLabel(frame);
        if (seen.has(name) || !(pattern.test(frame.functionName) || pattern.test(frame.url))) continue;
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
    print(`inclusive time of frames matching /${focus}/`, inclusive);
  }

  if (typeof against === 'string') {
    const base = load(against);
    if (loaded.requests === undefined || base.requests === undefined) {
      console.error('--against needs both profiles from bench/http-overhead.js --profile (request counts)');
      process.exit(2);
    }
    const mine = selfBy(loaded, frameLabel).map;
    const theirs = selfBy(base, frameLabel).map;
    const diff = new Map();
    for (const key of new Set([...mine.keys(), ...theirs.keys()])) {
      diff.set(key, (mine.get(key) ?? 0) / loaded.requests - (theirs.get(key) ?? 0) / base.requests);
    }
    const baseBusy = selfBy(base, frameLabel).busy / base.requests;
    console.log(`\nper request: ${(busy / per).toFixed(1)} us busy here, ${baseBusy.toFixed(1)} us in ${path.basename(against)}`);
    console.log(`\nself time difference by function (us/request, this minus ${path.basename(against)})`);
    for (const [name, us] of [...diff].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, top)) {
      console.log(`${us.toFixed(1).padStart(8)}  ${name}`);
    }
  }
}

main();
