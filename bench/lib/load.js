'use strict';
// The load generator in its own process (so its CPU is not the server's): autocannon, one run per
// `run` command. Reply: completed requests, requests/s, latency p50/p99 (ms), status counts, errors.

const autocannon = require('autocannon');
const { serveCommands } = require('./harness');

function run({ url, method = 'GET', headers = {}, body, connections = 10, duration = 3, overallRate }) {
  return new Promise((resolve, reject) => {
    const options = { url, method, headers, connections, duration, pipelining: 1 };
    if (body !== undefined) options.body = body;
    if (overallRate !== undefined) options.overallRate = overallRate;
    autocannon(options, (error, result) => {
      if (error) {
        reject(error);
        return;
      }
      const statuses = {};
      for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stat.count;
      resolve({
        completed: result.requests.total,
        seconds: result.duration,
        rps: result.requests.total / result.duration,
        latencyP50: result.latency.p50,
        latencyP99: result.latency.p99,
        latencyMax: result.latency.max,
        errors: result.errors,
        timeouts: result.timeouts,
        statuses,
      });
    });
  });
}

serveCommands({ run });
process.send({ ready: true });
