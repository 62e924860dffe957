import { parseArgs } from 'node:util';
import {
  CollectorApiError,
  CollectorClient,
  LabSetupError,
  ProgressDisplay,
  SCENARIO_IDS,
  TargetSyntaxError,
  parseTargetSpec,
  runScenarios,
  selectScenarios,
  useColour,
  type LabTarget,
} from '../../attacks';
import { UsageError, UserError, usageErrors, type Command } from '../command';
import { printRun } from '../report';

const USAGE = `a09-lab attack --target [stock|naive|fixed=]URL [--target ...] --collector URL --token TOKEN
               [--scenario ID ...] [--tools] [--json] [--report-dir DIR | --no-report]

Runs the A09 attack scenarios against running shops (the practice shop, or a real Juice Shop with or
without the a09 preload) and judges each by what reached the collector and what the attacker could see.

  --target [KIND=]URL   a shop's base URL; KIND says what it is meant to be (stock, naive, fixed); without
                        it the kind is inferred from what reaches the collector. Repeat for several shops.
  --collector URL       the collector's HTTP API (a09-lab collector: http://127.0.0.1:8514)
  --token TOKEN         its API token (default: $A09_COLLECTOR_TOKEN)
  --scenario ID         run only these (repeat); default all:
                        ${SCENARIO_IDS.join(', ')}
                        (collector-outage and log-tampering need the lab's own collector: a09-lab demo)
  --tools               also run hydra, sqlmap and gobuster when installed (loopback or private targets)
  --json                print the report as JSON instead of the table
  --report-dir DIR      where index.html and report.json go (default a09-report); --no-report for none
Exit code: 0 when every verdict is as expected for fixed targets, 1 when a fixed target failed, 2 for bad usage.`;

export function collectorUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--collector wants the collector's HTTP API URL (http://host:port), not '${text}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--collector wants an http:// or https:// URL (the API, not the syslog port), not '${text}'`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

export function scenarioSelection(ids: readonly string[] | undefined): ReturnType<typeof selectScenarios>['scenarios'] {
  const selection = selectScenarios(ids);
  if (selection.unknown.length > 0) throw new UsageError(`unknown scenario ${selection.unknown.map((id) => `'${id}'`).join(', ')} (known: ${SCENARIO_IDS.join(', ')})`);
  return selection.scenarios;
}

export const attackCommand: Command = {
  name: 'attack',
  summary: 'run the A09 attack scenarios against running shops (a real Juice Shop too) and judge them',
  usage: USAGE,
  async run(argv) {
    const { values } = usageErrors(() =>
      parseArgs({
        args: argv,
        options: {
          target: { type: 'string', multiple: true },
          collector: { type: 'string' },
          token: { type: 'string' },
          scenario: { type: 'string', multiple: true },
          tools: { type: 'boolean' },
          json: { type: 'boolean' },
          'report-dir': { type: 'string' },
          'no-report': { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }),
    );
    if (values.help) {
      console.log(this.usage);
      return 0;
    }
    if (values.target === undefined || values.target.length === 0) throw new UsageError('give at least one --target URL');
    if (values.collector === undefined) throw new UsageError('--collector URL is required (the collector tells what each target logged)');
    const token = values.token ?? (process.env.A09_COLLECTOR_TOKEN || undefined);
    if (token === undefined || token === '') throw new UsageError('--token (or $A09_COLLECTOR_TOKEN) is required');
    if (values['report-dir'] !== undefined && values['no-report']) throw new UsageError('--report-dir and --no-report exclude each other');
    if (values['report-dir'] === '') throw new UsageError('--report-dir is empty');
    let targets: LabTarget[];
    try {
      targets = values.target.map((text) => ({ spec: parseTargetSpec(text) }));
    } catch (error) {
      if (error instanceof TargetSyntaxError) throw new UsageError(error.message);
      throw error;
    }
    const scenarios = scenarioSelection(values.scenario);
    const collector = new CollectorClient(collectorUrl(values.collector), token);
    const json = values.json === true;
    const display = ProgressDisplay.forStdout(useColour());
    let report;
    try {
      report = await runScenarios({
        targets,
        collector,
        scenarios,
        tools: values.tools === true,
        progress: json ? (event) => void (event.kind === 'line' && process.stderr.write(`${event.text}\n`)) : (event) => display.handle(event),
      });
    } catch (error) {
      if (error instanceof LabSetupError || error instanceof CollectorApiError) throw new UserError(error.message);
      throw error;
    }
    const reportDir = values['no-report'] ? undefined : (values['report-dir'] ?? 'a09-report');
    if (json) {
      console.log(JSON.stringify(report, null, 2));
      return printRun(report, reportDir, (line) => process.stderr.write(`${line}\n`)).exitCode;
    }
    return printRun(report, reportDir).exitCode;
  },
};
