'use strict';
// Records as the collector hands them to the detector (ids and seqs counting up from 1), for the detector
// benchmarks: one of our events over TCP, or a raw RFC 3164 line (the naive shop's winston-syslog).

const INSTANCE = '7f8c0e7a-1111-4222-8333-944455556666';

function recordMaker() {
  let id = 0;
  return {
    /** An a09 event record; `level`/`severity` default to INFO/6. */
    event(type, outcome, who, where, at, { level = 'INFO', severity = 6 } = {}) {
      id++;
      const time = new Date(at).toISOString();
      return {
        id,
        receivedAt: time,
        transport: 'tcp',
        peer: '127.0.0.1:40000',
        format: 'rfc5424',
        host: 'shop-1',
        app: 'juice-shop',
        message: '',
        event: { type, level, severity, time, seq: id, instance: INSTANCE, app: 'juice-shop', host: 'shop-1', outcome, description: type, who, where, detail: {} },
      };
    },
    raw(message, at) {
      id++;
      return { id, receivedAt: new Date(at).toISOString(), transport: 'udp', peer: '127.0.0.1:51514', format: 'rfc3164', host: 'naive-shop', app: 'juice-shop', message };
    },
  };
}

module.exports = { recordMaker, INSTANCE };
