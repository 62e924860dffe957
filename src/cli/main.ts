#!/usr/bin/env node
import { UsageError, UserError, type Command } from './command';
import { attackCommand } from './commands/attack';
import { collectorCommand } from './commands/collector';
import { demoCommand } from './commands/demo';
import { shopCommand } from './commands/shop';
import { verifyCommand } from './commands/verify';

const COMMANDS: Command[] = [demoCommand, attackCommand, collectorCommand, shopCommand, verifyCommand];

export const commandNames = (): string[] => COMMANDS.map((c) => c.name);

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'a09-lab: a training lab and drop-in defence for OWASP A09 (Security Logging and Monitoring Failures)',
    '',
    'Usage: a09-lab <command> [options]   (a09-lab <command> --help for its options)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    console.error(`a09-lab: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`a09-lab ${command.name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    if (error instanceof UserError || process.env.A09_DEBUG === undefined) {
      console.error(`a09-lab ${command.name}: ${(error as Error).message ?? String(error)}`);
      return 1;
    }
    throw error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
