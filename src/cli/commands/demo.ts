import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  CollectorApiError,
  CollectorClient,
  LabSetupError,
  LabStartError,
  ProgressDisplay,
  SCENARIO_IDS,
  runScenarios,
  startLab,
  useColour,
  type Lab,
} from '../../attacks';
import { UsageError, UserError, untilSignal, usageErrors, type Command } from '../command';
import { printRun } from '../report';
import { scenarioSelection } from './attack';

const USAGE = `a09-lab demo [--exit] [--scenario ID ...] [--report-dir DIR] [--tools] [--keep]

Starts the whole lab on free loopback ports, without Docker: the collector (syslog in, SQLite store,
detection, dashboard) and three practice shops: stock (Juice Shop as shipped), naive (winston-syslog over
UDP to the collector) and fixed (the a09 middleware, RFC 5424 over TCP with a spool). Runs every attack
scenario against all three, prints the verdict table, writes the report, then keeps the dashboard up.

  --exit             stop after the report (exit code 1 if a verdict on the fixed shop failed)
  --scenario ID      run only these (repeat): ${SCENARIO_IDS.join(', ')}
  --report-dir DIR   where index.html and report.json go (default a09-report)
  --tools            also run hydra, sqlmap and gobuster when installed
  --keep             keep the lab's folder (collector store, shop logs, consoles) after it stops`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'start the collector and three practice shops, run every attack scenario, report, keep the dashboard up',
  usage: USAGE,
  async run(argv) {
    const { values } = usageErrors(() =>
      parseArgs({
        args: argv,
        options: {
          exit: { type: 'boolean' },
          scenario: { type: 'string', multiple: true },
          'report-dir': { type: 'string' },
          tools: { type: 'boolean' },
          keep: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }),
    );
    if (values.help) {
      console.log(this.usage);
      return 0;
    }
    if (values['report-dir'] === '') throw new UsageError('--report-dir is empty');
    const scenarios = scenarioSelection(values.scenario);
    const reportDir = values['report-dir'] ?? 'a09-report';
    const dir = mkdtempSync(path.join(tmpdir(), 'a09-lab-demo-'));
    const cleanup = (): void => {
      if (!values.keep) rmSync(dir, { recursive: true, force: true });
    };

    console.log('a09-lab demo: starting the collector and three practice shops (stock, naive, fixed) ...');
    let lab: Lab | undefined;
    let keepingUp = false;
    const stopped = untilSignal();
    // Ctrl-C while the lab starts or the scenarios run: stop the lab's processes and leave at once.
    void stopped.then(async (signal) => {
      if (keepingUp) return;
      console.log(`\na09-lab demo: ${signal}, stopping the lab`);
      await lab?.close();
      cleanup();
      process.exit(130);
    });
    try {
      lab = await startLab({ dir });
    } catch (error) {
      cleanup();
      if (error instanceof LabStartError) throw new UserError(error.message);
      throw error;
    }

    let exitCode: number;
    try {
      console.log(`  collector ${lab.collectorUrl} (store ${lab.dbPath})`);
      for (const shop of lab.shops) console.log(`  shop ${shop.kind.padEnd(5)} ${shop.url}`);
      console.log(`running ${scenarios.length} scenario${scenarios.length === 1 ? '' : 's'} against the three shops:`);
      const display = ProgressDisplay.forStdout(useColour());
      const report = await runScenarios({
        targets: lab.shops.map((shop) => ({ name: shop.kind, spec: { url: shop.url, kind: shop.kind }, lab: shop.lab })),
        collector: new CollectorClient(lab.collectorUrl, lab.token),
        scenarios,
        lab: lab.control,
        tools: values.tools === true,
        progress: (event) => display.handle(event),
      });
      exitCode = printRun(report, reportDir).exitCode;
    } catch (error) {
      await lab.close();
      cleanup();
      if (error instanceof LabSetupError || error instanceof CollectorApiError) throw new UserError(error.message);
      throw error;
    }

    if (values.exit) {
      await lab.close();
      cleanup();
      return exitCode;
    }
    console.log('');
    console.log(`dashboard: ${lab.collectorUrl}`);
    console.log(`token:     ${lab.token}`);
    console.log(`shops:     ${lab.shops.map((shop) => `${shop.kind} ${shop.url}`).join(', ')}`);
    console.log(`verify:    a09-lab verify --db ${lab.dbPath}`);
    console.log('The lab keeps running: attack the shops yourself and watch the dashboard. Ctrl-C stops it.');
    keepingUp = true;
    const signal = await stopped;
    console.log(`\na09-lab demo: ${signal}, stopping the lab`);
    await lab.close();
    cleanup();
    console.log('a09-lab demo: stopped');
    return exitCode;
  },
};
