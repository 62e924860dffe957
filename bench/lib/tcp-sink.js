'use strict';
// A light syslog receiver in its own process, so that its CPU is not the server's: an "ack" listener
// that reads octet-counted RFC 5424 frames and acknowledges them as the project's collector does
// (`ACK <instance> <seq>\n`, so the a09 transport trims its spool as in production), and a "drain"
// listener that only counts LF-terminated messages (winston-syslog over TCP).
// Child of bench scripts: replies { ack, drain } ports; command `counts` -> { frames, lines, bytes }.

const { Buffer } = require('node:buffer');
const net = require('node:net');
const { setInterval, clearInterval } = require('node:timers');
const { serveCommands } = require('./harness');

const ACK_EVERY_MS = 20;
const counts = { frames: 0, lines: 0, bytes: 0 };

function ackListener() {
  return net.createServer((socket) => {
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    /** Highest seq per instance not yet acknowledged. */
    const toAck = new Map();
    const timer = setInterval(() => {
      if (toAck.size === 0 || socket.destroyed) return;
      let lines = '';
      for (const [instance, seq] of toAck) lines += `ACK ${instance} ${seq}\n`;
      toAck.clear();
      socket.write(lines);
    }, ACK_EVERY_MS);
    socket.on('close', () => clearInterval(timer));
    socket.on('data', (chunk) => {
      counts.bytes += chunk.length;
      const buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      let last;
      for (;;) {
        const space = buf.indexOf(32, at);
        if (space === -1 || space - at > 10) break;
        const length = Number(buf.toString('latin1', at, space));
        if (!Number.isInteger(length) || buf.length < space + 1 + length) break;
        counts.frames++;
        last = [space + 1, space + 1 + length];
        at = space + 1 + length;
      }
      if (last !== undefined) {
        // Acknowledge up to the last complete frame (TCP keeps order): its instance and sequenceId.
        const text = buf.toString('latin1', last[0], Math.min(last[1], last[0] + 2048));
        const instance = /instance="([^"]+)"/.exec(text)?.[1];
        const seq = /sequenceId="(\d+)"/.exec(text)?.[1];
        if (instance !== undefined && seq !== undefined) toAck.set(instance, Number(seq));
      }
      pending = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
    });
  });
}

function drainListener() {
  return net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      counts.bytes += chunk.length;
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) counts.lines++;
    });
  });
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

async function main() {
  const ack = await listen(ackListener());
  const drain = await listen(drainListener());
  serveCommands({
    counts: () => ({ ...counts }),
  });
  process.send({ ack, drain });
}

main();
