import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAuditLogger, type AuditLogger } from '../../ship';
import { createShop, generateShopKeys, type CollectorAddress, type Shop, type ShopMode } from '../../shop';
import { UsageError, UserError, untilSignal, usageErrors, type Command } from '../command';

const MODES: readonly ShopMode[] = ['stock', 'naive', 'fixed'];

const USAGE = `a09-lab shop --mode stock|naive|fixed [--port N] [--host ADDR] [--collector URL] [--dir DIR]
a09-lab shop --juice-shop-dir PATH [--node PATH] [--mode stock|naive|fixed] [--port N] [--host ADDR] [--collector URL]

Starts a shop to attack, on loopback by default, until SIGINT or SIGTERM.
Without --juice-shop-dir: the practice shop (Juice Shop's routes and middleware order in Express 4).
With --juice-shop-dir: a Juice Shop you built (its build/app.js, run from that folder) with the a09 preload
(juice-shop-patch/register.cjs) in NODE_OPTIONS; Juice Shop binds all interfaces by itself, the preload
binds it to --host.

  --mode M            stock: as shipped; naive: express-winston + winston-syslog (UDP, RFC 3164);
                      fixed: the a09 middleware shipping audit events (default stock)
  --port N            default 3000 (0: a free port)
  --host ADDR         default 127.0.0.1
  --collector URL     fixed: tcp://, tls:// or udp://host:port; naive: udp://host:port
                      (default $A09_COLLECTOR; fixed without one writes JSON lines to --events-file)
  --events-file PATH  fixed mode without a collector (default <dir>/events.jsonl, or .a09/juice-shop-events.jsonl)
  --dir DIR           practice shop: its folder, like Juice Shop's: logs/, encryptionkeys/jwt.pub (default .a09/shop-<mode>)
  --spool DIR         fixed mode: the sender's spool (default $A09_SPOOL_DIR or <dir>/spool)
  --juice-shop-dir P  a Juice Shop checkout or release with build/app.js
  --node PATH         the node binary that runs that Juice Shop (default $A09_JUICE_SHOP_NODE, else the Node
                      running a09-lab); Juice Shop v20 wants Node 22-26 and its native modules built for it
Environment: A09_COLLECTOR, A09_SPOOL_DIR, A09_HMAC_KEY or A09_HMAC_KEY_FILE (email pseudonyms), and for
--juice-shop-dir A09_JUICE_SHOP_NODE and every A09_* setting of the preload (juice-shop-patch/README.md).`;

/** The package root: dist/src/cli/commands -> four levels up (the same from src/ under ts-jest). */
function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'juice-shop-patch'))) return dir;
    dir = path.dirname(dir);
  }
  throw new UserError('cannot find the a09-lab package folder (with juice-shop-patch/) above this command');
}

export function preloadPath(): string {
  return path.join(packageRoot(), 'juice-shop-patch', 'register.cjs');
}

/** NODE_OPTIONS with `--require <file>` appended (quoted: Node splits NODE_OPTIONS on spaces). */
export function withPreload(nodeOptions: string | undefined, file: string): string {
  const quoted = `--require "${file.replace(/(["\\])/g, '\\$1')}"`;
  return nodeOptions !== undefined && nodeOptions.trim() !== '' ? `${nodeOptions.trim()} ${quoted}` : quoted;
}

interface ShopFlags {
  mode: ShopMode;
  port: number;
  host: string;
  collector?: string;
  eventsFile?: string;
  dir?: string;
  spool?: string;
  juiceShopDir?: string;
  node?: string;
}

function flagsFrom(argv: string[]): ShopFlags | 'help' {
  const { values } = usageErrors(() =>
    parseArgs({
      args: argv,
      options: {
        mode: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        collector: { type: 'string' },
        'events-file': { type: 'string' },
        dir: { type: 'string' },
        spool: { type: 'string' },
        'juice-shop-dir': { type: 'string' },
        node: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) return 'help';
  const mode = (values.mode ?? 'stock') as ShopMode;
  if (!MODES.includes(mode)) throw new UsageError(`--mode must be stock, naive or fixed, not '${values.mode}'`);
  const port = Number(values.port ?? 3000);
  if (!/^\d{1,5}$/.test(values.port ?? '3000') || port > 65535) throw new UsageError(`--port wants a number 0..65535, not '${values.port}'`);
  const host = values.host ?? '127.0.0.1';
  if (host.trim() === '') throw new UsageError('--host is empty');
  // $A09_COLLECTOR is the preload's setting too: a stock shop under the preload must not take it as its own.
  const collector = values.collector ?? (mode !== 'stock' ? process.env.A09_COLLECTOR || undefined : undefined);
  if (collector !== undefined) checkCollector(collector, mode);
  for (const flag of ['events-file', 'dir', 'spool', 'juice-shop-dir', 'node'] as const) {
    if (values[flag] !== undefined && values[flag].trim() === '') throw new UsageError(`--${flag} is empty`);
  }
  if (values.node !== undefined && values['juice-shop-dir'] === undefined) throw new UsageError('--node says which Node runs your Juice Shop: it goes with --juice-shop-dir');
  return {
    mode,
    port,
    host,
    ...(collector !== undefined && { collector }),
    ...(values['events-file'] !== undefined && { eventsFile: values['events-file'] }),
    ...(values.dir !== undefined && { dir: values.dir }),
    ...(values.spool !== undefined && { spool: values.spool }),
    ...(values['juice-shop-dir'] !== undefined && { juiceShopDir: values['juice-shop-dir'] }),
    ...(values.node !== undefined && { node: values.node }),
  };
}

function checkCollector(url: string, mode: ShopMode): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--collector wants tcp://, tls:// or udp://host:port, not '${url}'`);
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!['tcp', 'tls', 'udp'].includes(scheme) || parsed.hostname === '' || parsed.port === '') {
    throw new UsageError(`--collector wants tcp://, tls:// or udp://host:port, not '${url}'`);
  }
  if (mode === 'naive' && scheme !== 'udp') throw new UsageError(`naive mode sends RFC 3164 over UDP: --collector udp://${parsed.host}`);
  if (mode === 'stock') throw new UsageError('stock mode sends nothing anywhere: drop --collector (or choose --mode naive or fixed)');
}

function hmacKey(): string | undefined {
  const inline = process.env.A09_HMAC_KEY || undefined;
  const file = process.env.A09_HMAC_KEY_FILE || undefined;
  if (inline !== undefined) return inline;
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new UserError(`A09_HMAC_KEY_FILE ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Is the a09 preload already mounting into this process? Then the practice shop must stay stock. */
function preloadActive(): boolean {
  const options = process.env.NODE_OPTIONS ?? '';
  return options.includes('register.cjs') && (process.env.A09_MODE ?? 'fixed') !== 'off';
}

function listenFailure(error: unknown, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new UserError(`cannot listen on ${host}:${port}: address in use`);
  if (code === 'EACCES') return new UserError(`cannot listen on ${host}:${port}: permission denied`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new UserError(`cannot listen on ${host}:${port}: address not available`);
  return error instanceof Error ? error : new Error(String(error));
}

async function runPracticeShop(flags: ShopFlags): Promise<number> {
  if (preloadActive() && flags.mode !== 'stock') {
    throw new UsageError(`the a09 preload is in NODE_OPTIONS and mounts a09 itself: use --mode stock with it, not --mode ${flags.mode}`);
  }
  const dir = path.resolve(flags.dir ?? path.join('.a09', `shop-${flags.mode}`));
  const spoolDir = path.resolve(flags.spool ?? (process.env.A09_SPOOL_DIR || path.join(dir, 'spool')));
  const eventsFile = flags.eventsFile !== undefined ? path.resolve(flags.eventsFile) : flags.collector === undefined ? path.join(dir, 'events.jsonl') : undefined;
  // The shop's folder, like Juice Shop's: its public key at encryptionkeys/jwt.pub, its logs in logs/.
  mkdirSync(path.join(dir, 'encryptionkeys'), { recursive: true });
  const keys = generateShopKeys();
  writeFileSync(path.join(dir, 'encryptionkeys', 'jwt.pub'), keys.publicKeyPem);
  // Relative paths (a preload reading encryptionkeys/jwt.pub, as in Juice Shop) resolve in the shop's folder.
  process.chdir(dir);

  let logger: AuditLogger | undefined;
  let sink = '';
  let naiveCollector: CollectorAddress | undefined;
  if (flags.mode === 'fixed') {
    const key = hmacKey();
    try {
      logger = createAuditLogger({
        app: 'juice-shop',
        spoolDir,
        ...(flags.collector !== undefined && { collector: flags.collector }),
        ...(eventsFile !== undefined && { file: eventsFile }),
        ...(key !== undefined && { hmacKey: key }),
      });
    } catch (error) {
      throw new UserError(`cannot start the event sender: ${(error as Error).message}`);
    }
    sink = [flags.collector !== undefined ? `events -> ${flags.collector} (spool ${spoolDir})` : '', eventsFile !== undefined ? `events file ${eventsFile}` : '']
      .filter(Boolean)
      .join(', ');
  } else if (flags.mode === 'naive' && flags.collector !== undefined) {
    const url = new URL(flags.collector);
    naiveCollector = { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) };
    sink = `winston-syslog -> ${flags.collector} (RFC 3164)`;
  }

  let shop: Shop;
  try {
    shop = await createShop({
      mode: flags.mode,
      logDir: path.join(dir, 'logs'),
      keys,
      ...(naiveCollector !== undefined && { collector: naiveCollector }),
      ...(logger !== undefined && { fixed: { emitter: logger, close: () => logger.close() } }),
    });
  } catch (error) {
    await logger?.close();
    throw error;
  }
  let url: string;
  try {
    url = (await shop.listen(flags.port, flags.host)).url;
  } catch (error) {
    await shop.close();
    throw listenFailure(error, flags.host, flags.port);
  }
  const stopped = untilSignal();
  console.log(`Practice shop (${flags.mode}) listening on ${url}`);
  console.log(`  folder ${dir}${sink !== '' ? `; ${sink}` : ''}`);
  const signal = await stopped;
  console.log(`a09-lab shop: ${signal}, stopping`);
  await shop.close();
  return 0;
}

function checkJuiceShopDir(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`--juice-shop-dir ${dir}: no such folder`);
  const entry = path.join(dir, 'build', 'app.js');
  if (!existsSync(entry)) {
    throw new UserError(`--juice-shop-dir ${dir}: no build/app.js (a Juice Shop release, or a checkout after \`npm install\`, which builds it)`);
  }
  return entry;
}

/**
 * The node binary for Juice Shop: --node, else $A09_JUICE_SHOP_NODE, else the Node running this command.
 * Checked here so a wrong path is one clear line, not a spawn error.
 */
export function juiceShopNode(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const fromEnv = env.A09_JUICE_SHOP_NODE || undefined;
  const [value, source] = flag !== undefined ? [flag, '--node'] : fromEnv !== undefined ? [fromEnv, 'A09_JUICE_SHOP_NODE'] : [process.execPath, 'this Node'];
  const file = path.resolve(value);
  let problem: string | undefined;
  try {
    if (!statSync(file).isFile()) problem = 'not a file';
    else accessSync(file, constants.X_OK);
  } catch (error) {
    problem = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not executable';
  }
  if (problem !== undefined) throw new UserError(`${source} ${value}: ${problem} (give the path of the node binary that runs your Juice Shop)`);
  return file;
}

const CRASH_SIGNALS: readonly string[] = ['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGABRT'];

/**
 * Watches Juice Shop's early output for why it would stop at once on the wrong Node: its own version check
 * (lib/startup/validatePreconditions.ts, through winston to stdout, exit 1), a native module built for
 * another Node (ERR_DLOPEN_FAILED), or a crash before it listens (what a mismatched sqlite3 addon can do).
 */
export class JuiceShopStartWatch {
  private early = '';
  private listening = false;

  feed(chunk: string): void {
    if (this.listening) return;
    this.early = (this.early + chunk).slice(-65536);
    if (/Server listening on|^a09 preload .*listening on/m.test(this.text())) this.listening = true;
  }

  /** Juice Shop colours its lines (colors.bold around the version); a chunk may end inside a colour code. */
  private text(): string {
    return this.early.replace(/\x1b\[[0-9;]*m/g, '');
  }

  /** One line for the user after Juice Shop exited with this code or signal, when the cause is recognised. */
  hint(code: number | null, signal: NodeJS.Signals | null, node: string): string | undefined {
    if (code === 0 || this.listening) return undefined;
    const choose = '(--node PATH or A09_JUICE_SHOP_NODE)';
    const text = this.text();
    const version = /Detected Node version (v\S+) is not in the supported version range of (.+?) \(/.exec(text);
    if (version !== null) return `a09-lab shop: Juice Shop refused Node ${version[1]} (it supports ${version[2]}): give it a Node in that range ${choose}`;
    if (/was compiled against a different Node\.js version/.test(text)) {
      return `a09-lab shop: a native module of this Juice Shop was built for another Node than ${node}: run it on the Node it was built with ${choose}`;
    }
    if (signal !== null && CRASH_SIGNALS.includes(signal)) {
      return `a09-lab shop: Juice Shop crashed (${signal}) at start on ${node}; a native module (sqlite3) built for another Node does this: run it on the Node it was built with ${choose}`;
    }
    return undefined;
  }
}

/** The environment for a Juice Shop child process with the preload. */
export function juiceShopEnvironment(flags: ShopFlags, base: NodeJS.ProcessEnv, preload: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    NODE_OPTIONS: withPreload(base.NODE_OPTIONS, preload),
    A09_MODE: flags.mode === 'stock' ? 'off' : flags.mode,
    A09_BIND_HOST: flags.host,
    PORT: String(flags.port),
  };
  if (flags.collector !== undefined) env.A09_COLLECTOR = flags.collector;
  if (flags.mode === 'fixed' && flags.collector === undefined) {
    env.A09_EVENTS_FILE = path.resolve(flags.eventsFile ?? base.A09_EVENTS_FILE ?? path.join('.a09', 'juice-shop-events.jsonl'));
  }
  if (flags.spool !== undefined) env.A09_SPOOL_DIR = path.resolve(flags.spool);
  return env;
}

async function runJuiceShop(flags: ShopFlags & { juiceShopDir: string }): Promise<number> {
  const dir = path.resolve(flags.juiceShopDir);
  const entry = checkJuiceShopDir(dir);
  const node = juiceShopNode(flags.node, process.env);
  const preload = preloadPath();
  if (!existsSync(preload)) throw new UserError(`the preload ${preload} is missing from this a09-lab package`);
  const env = juiceShopEnvironment(flags, process.env, preload);
  if (env.A09_EVENTS_FILE !== undefined) mkdirSync(path.dirname(env.A09_EVENTS_FILE), { recursive: true });
  // Its output goes through us (to recognise a wrong Node): keep its colours on a terminal.
  if (process.stdout.isTTY && env.FORCE_COLOR === undefined) env.FORCE_COLOR = '1';
  console.log(`a09-lab shop: starting Juice Shop from ${dir} (${flags.mode}) on ${flags.host}:${flags.port} with ${preload}, node ${node}`);
  const child = spawn(node, [entry], { cwd: dir, env, stdio: ['inherit', 'pipe', 'pipe'] });
  const watch = new JuiceShopStartWatch();
  for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
    from.setEncoding('utf8').on('data', (chunk: string) => watch.feed(chunk));
    from.pipe(to, { end: false });
  }
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', (error) => reject(new UserError(`cannot start ${entry} with ${node}: ${error.message}`)));
      child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    });
    // Let its last output through first, without waiting on a grandchild that may hold the pipes.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
    clearTimeout(timer);
    const hint = watch.hint(code, signal, node);
    if (hint !== undefined) console.error(hint);
    return code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1);
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

export const shopCommand: Command = {
  name: 'shop',
  summary: 'start the practice shop (stock, naive or fixed) or your own Juice Shop with the a09 preload, on loopback',
  usage: USAGE,
  async run(argv) {
    const flags = flagsFrom(argv);
    if (flags === 'help') {
      console.log(this.usage);
      return 0;
    }
    if (flags.juiceShopDir !== undefined) return runJuiceShop({ ...flags, juiceShopDir: flags.juiceShopDir });
    return runPracticeShop(flags);
  },
};
