import { parentPort, workerData } from 'node:worker_threads';
import type { ThreadReply, ThreadRequest } from './ship-thread';
import { AuditSinks, type SinkOptions, type SinkStats } from './sinks';

/**
 * The shipping thread: sanitizes the events the application's thread created and hands them to the sinks
 * (spool, RFC 5424 over the network, JSON-lines file). Started by ShippingThread through worker-thread.ts.
 */
const port = parentPort;
if (port === null) throw new Error('ship-worker runs only as a worker thread');

const STATS_EVERY_MS = 250;

const reply = (message: ThreadReply): void => port.postMessage(message);
const sinks = new AuditSinks((workerData as { data: SinkOptions }).data, (sink, change) =>
  reply({ type: 'monitor', sink, change }),
);

let lastStats = '';
let lastStatsAt = 0;
/** The sinks' counters when they changed (cheap to compare as JSON: a dozen numbers). */
function freshStats(): SinkStats | undefined {
  const stats = sinks.stats();
  const text = JSON.stringify(stats);
  if (text === lastStats) return undefined;
  lastStats = text;
  lastStatsAt = Date.now();
  return stats;
}

// Counters move without events too (ACKs, reconnects): the application's heartbeat reads them.
const statsTimer = setInterval(() => {
  const stats = freshStats();
  if (stats !== undefined) reply({ type: 'stats', stats });
}, STATS_EVERY_MS);
statsTimer.unref();

let failureReported = false;
/** Batches delivered this turn, confirmed together after the sinks' own end-of-turn writes (the spool's writev). */
let delivered: number[] = [];
let failed = 0;
let firstError: string | undefined;

function confirm(): void {
  if (delivered.length === 0) return;
  const stats = Date.now() - lastStatsAt >= STATS_EVERY_MS ? freshStats() : undefined;
  reply({ type: 'accepted', ids: delivered, failed, ...(stats !== undefined && { stats }) });
  if (firstError !== undefined && !failureReported) {
    failureReported = true;
    reply({ type: 'warn', line: `a09-lab: audit logging failed (reported once): ${firstError}` });
  }
  delivered = [];
  failed = 0;
}

port.on('message', (message: ThreadRequest) => {
  if (message.type === 'batch') {
    for (let i = 0; i < message.events.length; i++) {
      try {
        sinks.deliver(message.events[i], message.priority.includes(i), message.sanitized.includes(i));
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
    // Scheduled after the spool's flush (setImmediate runs in order): confirmed means written to the file.
    if (delivered.length === 0) setImmediate(confirm);
    delivered.push(message.id);
    return;
  }
  if (message.type === 'close') {
    clearInterval(statsTimer);
    void sinks
      .close()
      .catch(() => undefined)
      .then(() => {
        confirm();
        reply({ type: 'closed', stats: sinks.stats() });
        port.close();
      });
  }
});
