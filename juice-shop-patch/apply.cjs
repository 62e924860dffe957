'use strict';
/**
 * juice-shop-patch/apply: for a Juice Shop built from a source checkout, the alternative to the preload.
 * Adds explicit lines to server.ts, each block between `// a09-lab:begin <id>` and `// a09-lab:end <id>`:
 *   setup              after `const app = express()`: the settings, the first middleware, app.param
 *   after-json-parser  after the `app.use(function jsonParser (...) {...})` block: the body snapshot
 *   morgan             before `app.use(morgan('combined', ...))`: morgan's url/referrer tokens redacted
 *   error-handler      before `app.use(errorhandler())`: the error audit with generic replies
 * Nothing else in the file changes. Idempotent; `--check` exits 1 unless every block is there; `--revert`
 * removes exactly the marked blocks. The anchors are checked before anything is written: all or nothing.
 *
 *   juice-shop-patch/apply [--check | --revert] [--module SPEC] [server.ts | juice-shop-folder]
 */
const fs = require('node:fs');
const path = require('node:path');

const BLOCK_IDS = ['setup', 'after-json-parser', 'morgan', 'error-handler'];
const BEGIN = (id) => `// a09-lab:begin ${id}`;
const END = (id) => `// a09-lab:end ${id}`;
const MARKER = /^\s*\/\/ a09-lab:(begin|end) ([a-z-]+)\s*$/;

class AnchorError extends Error {}

function findLine(lines, pattern, from = 0) {
  for (let i = from; i < lines.length; i++) {
    const match = pattern.exec(lines[i]);
    if (match !== null) return { index: i, match };
  }
  return undefined;
}

/** Blocks already in the file: id -> { begin, end } line indexes. Unbalanced markers are an error. */
function markedBlocks(lines) {
  const blocks = new Map();
  let open;
  lines.forEach((line, index) => {
    const match = MARKER.exec(line);
    if (match === null) return;
    const [, kind, id] = match;
    if (kind === 'begin') {
      if (open !== undefined) throw new AnchorError(`line ${index + 1}: a09-lab block '${id}' begins inside block '${open.id}'`);
      open = { id, begin: index };
    } else {
      if (open === undefined || open.id !== id) throw new AnchorError(`line ${index + 1}: a09-lab block '${id}' ends without its begin`);
      blocks.set(id, { begin: open.begin, end: index });
      open = undefined;
    }
  });
  if (open !== undefined) throw new AnchorError(`line ${open.begin + 1}: a09-lab block '${open.id}' never ends`);
  return blocks;
}

/**
 * Where each block goes in Juice Shop's server.ts, found by anchors that have been stable across releases:
 * the module-level `const app = express()`, the named `jsonParser` middleware, `morgan('combined'` and
 * `app.use(<errorhandler>())` with the name server.ts gave `require('errorhandler')`.
 * Returns id -> { at: insert before this line index, indent, lines: [...] }.
 */
function plan(lines, moduleSpecifier) {
  const semi = (anchor) => (/;\s*$/.test(anchor) ? ';' : '');
  const app = findLine(lines, /^const\s+([A-Za-z_$][\w$]*)\s*=\s*express\(\)\s*;?\s*$/);
  if (app === undefined) throw new AnchorError("no module-level `const app = express()` line");
  const appName = app.match[1];
  const s = semi(lines[app.index]);

  const parser = findLine(lines, new RegExp(`^(\\s*)${appName}\\.use\\(function\\s+jsonParser\\s*\\(`));
  if (parser === undefined) throw new AnchorError(`no \`${appName}.use(function jsonParser (...\` middleware`);
  const parserIndent = parser.match[1];
  const parserEnd = findLine(lines, new RegExp(`^${parserIndent}\\}\\)\\s*;?\\s*$`), parser.index + 1);
  if (parserEnd === undefined) throw new AnchorError('the jsonParser middleware has no closing `})` at its own indentation');

  const morgan = findLine(lines, new RegExp(`^(\\s*)${appName}\\.use\\(([A-Za-z_$][\\w$]*)\\(\\s*'combined'`));
  if (morgan === undefined) throw new AnchorError(`no \`${appName}.use(morgan('combined', ...))\` line`);
  const morganName = morgan.match[2];

  const required = findLine(lines, /^\s*const\s+([A-Za-z_$][\w$]*)\s*=\s*require\(\s*['"]errorhandler['"]\s*\)/);
  if (required === undefined) throw new AnchorError("no `const errorhandler = require('errorhandler')` line");
  const errorhandlerName = required.match[1];
  const mount = findLine(lines, new RegExp(`^(\\s*)${appName}\\.use\\(${errorhandlerName}\\(\\)\\)\\s*;?\\s*$`));
  if (mount === undefined) throw new AnchorError(`no \`${appName}.use(${errorhandlerName}())\` line`);

  const req = `require(${JSON.stringify(moduleSpecifier)}).fromEnvironment()`;
  return new Map([
    ['setup', {
      at: app.index + 1,
      indent: '',
      lines: [
        `const a09Lab = ${req}${s} // eslint-disable-line`,
        `${appName}.use(a09Lab.first)${s}`,
        `a09Lab.param(${appName})${s}`,
      ],
    }],
    ['after-json-parser', { at: parserEnd.index + 1, indent: parserIndent, lines: [`${appName}.use(a09Lab.afterJsonParser)${s}`] }],
    ['morgan', {
      at: morgan.index,
      indent: morgan.match[1],
      lines: [`${morganName}.token('url', a09Lab.morganUrl)${s}`, `${morganName}.token('referrer', a09Lab.morganReferrer)${s}`],
    }],
    ['error-handler', {
      at: mount.index,
      indent: mount.match[1],
      lines: [`${appName}.use(a09Lab.errorHandler(() => ${errorhandlerName}.title))${s}`],
    }],
  ]);
}

function splitLines(source) {
  const eol = source.includes('\r\n') ? '\r\n' : '\n';
  return { eol, lines: source.split(/\r?\n/) };
}

/** Which blocks the file has. */
function checkPatch(source) {
  const { lines } = splitLines(source);
  const blocks = markedBlocks(lines);
  return { applied: BLOCK_IDS.filter((id) => blocks.has(id)), missing: BLOCK_IDS.filter((id) => !blocks.has(id)) };
}

/**
 * The file with every missing block added (present ones are left as they are).
 * @returns {{ text: string, added: string[] }}
 */
function applyPatch(source, moduleSpecifier) {
  const { eol, lines } = splitLines(source);
  const blocks = markedBlocks(lines);
  const missing = BLOCK_IDS.filter((id) => !blocks.has(id));
  if (missing.length === 0) return { text: source, added: [] };
  // Anchors are looked for in the file without our blocks, so a half-applied file is planned like a clean one.
  const clean = stripBlocks(lines, blocks);
  const where = plan(clean.lines, moduleSpecifier);
  const inserts = missing.map((id) => ({ id, ...where.get(id) })).map((insert) => ({ ...insert, at: clean.toOriginal(insert.at) }));
  // Insert bottom-up so earlier indexes stay valid.
  inserts.sort((a, b) => b.at - a.at);
  const out = [...lines];
  for (const insert of inserts) {
    const block = [BEGIN(insert.id), ...insert.lines, END(insert.id)].map((line) => insert.indent + line);
    out.splice(insert.at, 0, ...block);
  }
  return { text: out.join(eol), added: missing };
}

/** `lines` without the marked blocks, and a map from an index there to the index in `lines`. */
function stripBlocks(lines, blocks) {
  const kept = [];
  const origin = [];
  const inBlock = new Set();
  for (const { begin, end } of blocks.values()) for (let i = begin; i <= end; i++) inBlock.add(i);
  lines.forEach((line, index) => {
    if (!inBlock.has(index)) {
      kept.push(line);
      origin.push(index);
    }
  });
  return { lines: kept, toOriginal: (index) => (index < origin.length ? origin[index] : lines.length) };
}

/** The file without the marked blocks. */
function revertPatch(source) {
  const { eol, lines } = splitLines(source);
  const blocks = markedBlocks(lines);
  if (blocks.size === 0) return { text: source, removed: [] };
  return { text: stripBlocks(lines, blocks).lines.join(eol), removed: BLOCK_IDS.filter((id) => blocks.has(id)).concat([...blocks.keys()].filter((id) => !BLOCK_IDS.includes(id))) };
}

const USAGE = `usage: juice-shop-patch/apply [--check | --revert] [--module SPEC] [server.ts | juice-shop-folder]

Adds the a09 middleware to Juice Shop's server.ts as explicit, marked lines (an alternative to the preload
for source builds; rebuild Juice Shop afterwards with \`npm run build:server\` or \`npm start\`).
  --check        exit 0 when every block is in place, 1 when not (nothing is written)
  --revert       remove exactly the marked blocks
  --module SPEC  what the added require() loads (default: this package's explicit.cjs by absolute path;
                 e.g. a09-lab/juice-shop-patch/explicit.cjs when a09-lab is installed in Juice Shop)
Settings at run time: the A09_* variables (juice-shop-patch/README.md).`;

function parseArgs(argv) {
  const options = { check: false, revert: false, module: path.join(__dirname, 'explicit.cjs'), target: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--check') options.check = true;
    else if (arg === '--revert') options.revert = true;
    else if (arg === '--module') {
      options.module = argv[++i];
      if (options.module === undefined || options.module === '') throw new AnchorError('--module needs a value');
    } else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg.startsWith('-')) throw new AnchorError(`unknown option ${arg}`);
    else if (options.target === undefined) options.target = arg;
    else throw new AnchorError(`one file at a time (got ${options.target} and ${arg})`);
  }
  if (options.check && options.revert) throw new AnchorError('--check and --revert do not go together');
  return options;
}

function resolveTarget(target) {
  const given = path.resolve(target ?? '.');
  if (fs.existsSync(given) && fs.statSync(given).isDirectory()) return path.join(given, 'server.ts');
  return given;
}

/** The command: returns the exit code (0 done or applied, 1 not applied or anchors missing, 2 usage). */
function main(argv, io = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) }) {
  let options;
  try {
    options = parseArgs(argv);
  } catch (error) {
    io.err(`apply: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    io.out(USAGE);
    return 0;
  }
  const file = resolveTarget(options.target);
  let source;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch (error) {
    io.err(`apply: cannot read ${file}: ${error.code ?? error.message}`);
    return 1;
  }
  try {
    if (options.check) {
      const { applied, missing } = checkPatch(source);
      if (missing.length === 0) {
        io.out(`apply --check: ${file}: applied (${applied.join(', ')})`);
        return 0;
      }
      io.out(`apply --check: ${file}: NOT applied${applied.length > 0 ? ` (partly: missing ${missing.join(', ')})` : ''}`);
      return 1;
    }
    if (options.revert) {
      const { text, removed } = revertPatch(source);
      if (removed.length === 0) {
        io.out(`apply --revert: ${file}: nothing to remove`);
        return 0;
      }
      fs.writeFileSync(file, text);
      io.out(`apply --revert: ${file}: removed ${removed.join(', ')}`);
      return 0;
    }
    const { text, added } = applyPatch(source, options.module);
    if (added.length === 0) {
      io.out(`apply: ${file}: already applied`);
      return 0;
    }
    fs.writeFileSync(file, text);
    io.out(`apply: ${file}: added ${added.join(', ')} (require ${options.module}); rebuild Juice Shop to take effect`);
    return 0;
  } catch (error) {
    if (error instanceof AnchorError) {
      io.err(`apply: ${file}: ${error.message}; nothing was written (is this Juice Shop's server.ts?)`);
      return 1;
    }
    throw error;
  }
}

module.exports = { applyPatch, checkPatch, revertPatch, main, BLOCK_IDS, AnchorError };
