import { existsSync } from 'node:fs';
import { verifyChain } from '../../collector';
import { parseArgs } from 'node:util';
import { UsageError, UserError, usageErrors, type Command } from '../command';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'walk the collector store\'s hash chain and report the first deleted, altered or inserted record',
  usage: `a09-lab verify --db <collector.db> [--json]

  --db PATH    the collector's SQLite store (default: $A09_DB or .a09/collector.db)
  --key KEY    the chain key the collector ran with, if any (default: $A09_CHAIN_KEY)
  --json       print the report as JSON
Exit code: 0 when the chain is intact, 3 when it was tampered with.`,
  async run(argv) {
    const { values } = usageErrors(() =>
      parseArgs({ args: argv, options: { db: { type: 'string' }, key: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }),
    );
    if (values.help) {
      console.log(this.usage);
      return 0;
    }
    const db = values.db ?? process.env.A09_DB ?? '.a09/collector.db';
    if (db.length === 0) throw new UsageError('--db is empty');
    if (!existsSync(db)) throw new UserError(`no collector store at ${db}`);
    const key = values.key ?? process.env.A09_CHAIN_KEY;
    const report = verifyChain(db, key === undefined ? {} : { chainKey: key });
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
    } else if (report.ok) {
      console.log(`chain intact: ${report.checked} records checked`);
    } else {
      const first = report.first;
      console.log(`chain BROKEN after ${report.checked} records checked`);
      if (first) console.log(`first problem: record ${first.id} ${first.kind}: ${first.detail}`);
      if (report.problems.length > 1) console.log(`${report.problems.length} problems in all (use --json to list them)`);
    }
    for (const warning of report.warnings) console.log(`warning: ${warning}`);
    return report.ok ? 0 : 3;
  },
};
