import Database from 'better-sqlite3';
import { GENESIS_HASH, canonicalContent, chainHash } from './chain';
import { columnsAtOdds, rowValues, type EventRow } from './rows';
import { APPEND_ONLY_TRIGGERS, isLegacy, legacyRowValues, type LegacyEventRow } from './schema';

/**
 * - `altered`: the row's content no longer matches its hash, or a query column (ip, type, ...) no longer
 *   matches the content (edited apart, so that searches find a different story than the chain keeps);
 * - `relinked`: the row's link to the previous one is wrong although both rows match their own hashes
 *   (the previous row was altered and re-hashed, or this row's prev_hash was edited);
 * - `deleted`: ids are missing (in the middle, or at the end according to the chain head);
 * - `inserted`: a row the chain head does not cover, or an id out of sequence.
 */
export type ChainProblemKind = 'altered' | 'relinked' | 'deleted' | 'inserted';

export interface ChainProblem {
  kind: ChainProblemKind;
  /** The row concerned: for `deleted`, the first missing id. */
  id: number;
  detail: string;
}

export interface ChainReport {
  ok: boolean;
  /** Rows walked. */
  checked: number;
  /** The chain head recorded by the store (last id and its hash), when present. */
  head?: { lastId: number; lastHash: string };
  /** The first problem in id order (the answer to "where was the log touched?"). */
  first?: ChainProblem;
  /** Up to maxProblems problems in id order. */
  problems: ChainProblem[];
  /** Weaker signs: append-only triggers dropped, head missing. */
  warnings: string[];
}

export interface VerifyOptions {
  /** The store's chain key, when it had one. */
  chainKey?: string | Buffer;
  /** Stop collecting after this many problems (default 100). */
  maxProblems?: number;
}

/** Walk the events table of a collector store and report where the hash chain breaks. Read-only. */
export function verifyChain(dbPath: string, options: VerifyOptions = {}): ChainReport {
  const maxProblems = options.maxProblems ?? 100;
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const problems: ChainProblem[] = [];
    const warnings: string[] = [];
    const add = (problem: ChainProblem): void => {
      if (problems.length < maxProblems) problems.push(problem);
    };
    const headRow = db.prepare('SELECT last_id, last_hash FROM chain_head WHERE id = 1').get() as
      | { last_id: number; last_hash: Buffer }
      | undefined;
    if (headRow === undefined) warnings.push('the chain head is missing: insertions and deletions at the end cannot be told apart');
    const triggers = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[];
    for (const name of APPEND_ONLY_TRIGGERS) {
      if (!triggers.includes(name)) warnings.push(`trigger ${name} is missing: someone turned off the append-only guard`);
    }

    const headId = headRow?.last_id ?? Number.MAX_SAFE_INTEGER;
    let expectedId = 1;
    let previousHash: Buffer = GENESIS_HASH;
    let previousIntact = true;
    let checked = 0;
    let lastHashAtHead: Buffer | undefined;
    // A version 1 file (not yet opened by a collector that migrates it) is checked as it is.
    const legacy = isLegacy(db);
    for (const row of db.prepare('SELECT * FROM events ORDER BY id').iterate() as IterableIterator<EventRow>) {
      checked++;
      if (row.id < expectedId || row.id > headId) {
        add({
          kind: 'inserted',
          id: row.id,
          detail: row.id > headId ? `row ${row.id} lies beyond the chain head (${headId})` : `row ${row.id} is out of sequence`,
        });
        continue;
      }
      let linkReported = false;
      if (row.id > expectedId) {
        const last = row.id - 1;
        add({ kind: 'deleted', id: expectedId, detail: expectedId === last ? `row ${expectedId} is missing` : `rows ${expectedId}..${last} are missing` });
        linkReported = true;
      }
      const content = legacy ? canonicalContent(legacyRowValues(row as unknown as LegacyEventRow)) : row.content;
      const hashed = typeof content === 'string' && Buffer.isBuffer(row.hash) && chainHash(row.prev_hash, content, options.chainKey).equals(row.hash);
      // The content matches its hash; the columns queries read must still say what it says.
      const values = hashed && !legacy ? rowValues(row) : undefined;
      const odd = values === undefined ? [] : columnsAtOdds(row, values);
      const intact = hashed && (legacy || (values !== undefined && odd.length === 0));
      if (hashed && !intact) {
        add({
          kind: 'altered',
          id: row.id,
          detail: values === undefined ? `row ${row.id} matches its hash but does not read as a record` : `row ${row.id}: ${odd.join(', ')} no longer match the record the hash covers`,
        });
      }
      if (!linkReported && !(Buffer.isBuffer(row.prev_hash) && row.prev_hash.equals(previousHash))) {
        // Both rows match their own hashes but do not link: one of them was rewritten with a fresh hash.
        if (previousIntact && intact) {
          add({ kind: 'relinked', id: row.id, detail: `row ${row.id} does not link to row ${row.id - 1}: one of them was rewritten and re-hashed` });
        } else if (!hashed) {
          add({ kind: 'altered', id: row.id, detail: `row ${row.id} does not match its hash nor link to row ${row.id - 1}` });
        }
        // Otherwise: the previous row is already reported as altered and this one links to what it was, or
        // this one is, above (its columns).
      } else if (!hashed) {
        add({ kind: 'altered', id: row.id, detail: `row ${row.id} does not match its hash` });
      }
      previousIntact = intact;
      previousHash = Buffer.isBuffer(row.hash) ? row.hash : GENESIS_HASH;
      expectedId = row.id + 1;
      if (row.id === headId) lastHashAtHead = previousHash;
    }
    if (headRow !== undefined) {
      if (expectedId <= headRow.last_id) {
        add({
          kind: 'deleted',
          id: expectedId,
          detail: `rows ${expectedId}..${headRow.last_id} are missing (the chain head says ${headRow.last_id})`,
        });
      } else if (lastHashAtHead !== undefined && !lastHashAtHead.equals(headRow.last_hash)) {
        add({ kind: 'altered', id: headRow.last_id, detail: `row ${headRow.last_id} is not the row the chain head recorded` });
      }
    }
    problems.sort((a, b) => a.id - b.id);
    const report: ChainReport = { ok: problems.length === 0, checked, problems, warnings };
    if (headRow !== undefined) report.head = { lastId: headRow.last_id, lastHash: headRow.last_hash.toString('hex') };
    if (problems.length > 0) report.first = problems[0];
    return report;
  } finally {
    db.close();
  }
}
