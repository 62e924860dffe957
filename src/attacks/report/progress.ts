import { neutralise } from '../../sanitize';
import type { ProgressEvent } from '../runner';
import { cellText } from './table';

const GREEN = '\u001b[32m';
const YELLOW = '\u001b[33m';
const RED = '\u001b[31m';
const RESET = '\u001b[0m';
const CLEAR_LINE = '\r\u001b[2K';

/**
 * The demo's progress: one line per scenario, rewritten in place on a terminal ("[3/14] sqli-login …"
 * becomes the verdicts when it is done); plain lines otherwise.
 */
export class ProgressDisplay {
  private started = 0;
  private pending = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
    private readonly colour: boolean,
  ) {}

  static forStdout(colour: boolean): ProgressDisplay {
    return new ProgressDisplay((text) => process.stdout.write(text), process.stdout.isTTY === true, colour);
  }

  handle(event: ProgressEvent): void {
    switch (event.kind) {
      case 'target':
        this.line(`  target ${event.target.name} ${event.target.url} (${event.target.kind}${event.target.kindSource === 'inferred' ? ', inferred' : ''}): ${event.target.instrumentation}`);
        break;
      case 'scenario-start':
        this.started = Date.now();
        if (this.tty) {
          this.write(`${CLEAR_LINE}  [${event.index + 1}/${event.total}] ${event.scenario.id} …`);
          this.pending = true;
        }
        break;
      case 'line':
        this.line(`      ${neutralise(event.text, 300)}`);
        break;
      case 'scenario-done': {
        const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
        const cells = event.result.results.map((result) => {
          const text = `${result.target}: ${cellText(result, 60)}`;
          if (!this.colour) return text;
          const colour = result.verdict.status === 'fixed' ? GREEN : result.verdict.status === 'failure shown' || result.verdict.status === 'not run' ? YELLOW : RED;
          return `${colour}${text}${RESET}`;
        });
        this.line(`  [${event.index + 1}/${event.total}] ${event.result.scenario.id.padEnd(18)} ${cells.join('  ')}  ${seconds} s`);
        break;
      }
    }
  }

  private line(text: string): void {
    if (this.pending) {
      this.write(CLEAR_LINE);
      this.pending = false;
    }
    this.write(`${text}\n`);
  }
}
