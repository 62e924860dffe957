/**
 * The lab manual (docs/) against the code, so it cannot drift silently:
 * - every relative link resolves to a file or folder of the repository (and a `#heading` to a heading);
 * - every scenario of the catalogue has its page, every page a scenario, the index links them all, and each
 *   page quotes the scenario's A09 point and CWE exactly as the catalogue (and so the report) says them;
 * - every `a09-lab <command>` written as code is a command of the CLI, every flag written after it is in
 *   that command's --help, every CLI command is documented, and the codemod's flags exist;
 * - every A09_* variable is read somewhere in the source (src/, middleware/, juice-shop-patch/, docker/,
 *   docker-compose.yml, .env.example, scripts/);
 * - every event or alert type written as code exists, every snake_case identifier written as code
 *   (rule ids, reasons, tables) occurs in the source, and every Juice Shop or API route written as code
 *   has its static part in the source.
 */
import fs from 'node:fs';
import path from 'node:path';
import { commandNames, main } from '../../src/cli/main';
import { VOCABULARY } from '../../src/events';

const ROOT = path.resolve(__dirname, '..', '..');
const DOCS = path.join(ROOT, 'docs');

/** The scenario ids issue 5 lists: the fallback until src/attacks lands. */
const ISSUE_SCENARIO_IDS = [
  'brute-force', 'password-spraying', 'sqli-login', 'log-injection', 'secrets-in-logs', 'missing-context', 'basket-idor',
  'error-leakage', 'log-exposure', 'forged-token', 'dast-scan', 'collector-outage', 'real-time', 'log-tampering',
];

interface ScenarioText {
  id: string;
  a09: string;
  cwe: string;
}

interface Doc {
  file: string;
  text: string;
  /** The text with fenced code blocks blanked and inline code replaced by a placeholder: where links live. */
  prose: string;
  /** Fenced code lines (continuations joined) and inline code spans. */
  code: string[];
}

function filesUnder(dir: string, accept: (file: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') out.push(...filesUnder(full, accept));
    } else if (accept(full)) {
      out.push(full);
    }
  }
  return out;
}

const FENCE = /^\s*(```|~~~)/;
const INLINE_CODE = /`([^`\n]+)`/g;

function readDoc(file: string): Doc {
  const text = fs.readFileSync(file, 'utf8');
  const proseLines: string[] = [];
  const code: string[] = [];
  let inFence = false;
  let pending = '';
  for (const line of text.split('\n')) {
    if (FENCE.test(line)) {
      inFence = !inFence;
      proseLines.push('');
      continue;
    }
    if (inFence) {
      // A shell continuation joins the command's lines, so flags after `\` belong to it.
      if (line.endsWith('\\')) {
        pending += `${line.slice(0, -1)} `;
      } else {
        code.push(pending + line);
        pending = '';
      }
      proseLines.push('');
      continue;
    }
    for (const match of line.matchAll(INLINE_CODE)) code.push(match[1]!);
    proseLines.push(line.replace(INLINE_CODE, 'code'));
  }
  return { file, text, prose: proseLines.join('\n'), code };
}

const docs = filesUnder(DOCS, (file) => file.endsWith('.md')).map(readDoc);
const rel = (file: string): string => path.relative(ROOT, file);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (FENCE.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) continue;
    const base = heading[1]!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .trim()
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Source text the docs may name things from (not tests, not docs). */
function sourceCorpus(): string {
  const roots = ['src', 'middleware', 'juice-shop-patch', 'docker', 'scripts'].map((dir) => path.join(ROOT, dir));
  const files = roots.flatMap((dir) => filesUnder(dir, (file) => /\.(ts|cjs|js|json|md|yml|yaml)$/.test(file) || !path.extname(file)));
  for (const file of ['docker-compose.yml', '.env.example']) if (fs.existsSync(path.join(ROOT, file))) files.push(path.join(ROOT, file));
  return files.map((file) => fs.readFileSync(file, 'utf8')).join('\n');
}

const corpus = sourceCorpus();

function occursAsToken(token: string, text: string): boolean {
  const escaped = token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![A-Za-z0-9_])${escaped}(?![A-Za-z0-9_])`).test(text);
}

async function loadScenarios(): Promise<{ ids: string[]; texts?: ScenarioText[]; from: string }> {
  const catalogue = path.join(ROOT, 'src', 'attacks', 'catalogue.ts');
  if (!fs.existsSync(catalogue)) return { ids: ISSUE_SCENARIO_IDS, from: 'issue 5 (src/attacks not present)' };
  const loaded = (await import(catalogue)) as { SCENARIOS: readonly ScenarioText[] };
  const texts = loaded.SCENARIOS.map(({ id, a09, cwe }) => ({ id, a09, cwe }));
  return { ids: texts.map((s) => s.id), texts, from: 'src/attacks/catalogue.ts' };
}

async function usageOf(command: string): Promise<string> {
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  try {
    const code = await main([command, '--help']);
    expect(code).toBe(0);
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}

/** `a09-lab <command> ...rest` in a piece of code, with the rest up to a shell separator or comment. */
function cliInvocations(code: string): Array<{ command: string; rest: string }> {
  const found: Array<{ command: string; rest: string }> = [];
  for (const match of code.matchAll(/(?:^|[\s(`])a09-lab\s+([a-z][a-z-]*)(?![\w])([^#|;&\n]*)/g)) {
    found.push({ command: match[1]!, rest: match[2] ?? '' });
  }
  return found;
}

const flagsIn = (text: string): string[] => [...text.matchAll(/(?:^|\s)(--[a-z][\w-]*)/g)].map((m) => m[1]!);

describe('the lab manual (docs/)', () => {
  it('has its pages', () => {
    const names = docs.map((doc) => rel(doc.file));
    for (const page of ['docs/index.md', 'docs/a09-writeup.md', 'docs/juice-shop.md', 'docs/operations.md']) expect(names).toContain(page);
  });

  it('links only to files that exist, and to headings that exist', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const doc of docs) {
      for (const match of doc.prose.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const target = match[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        checked++;
        const [filePart, anchor] = target.split('#', 2) as [string, string | undefined];
        const resolved = filePart === '' ? doc.file : path.resolve(path.dirname(doc.file), decodeURIComponent(filePart));
        if (!resolved.startsWith(ROOT + path.sep)) {
          broken.push(`${rel(doc.file)}: ${target} leaves the repository`);
          continue;
        }
        if (!fs.existsSync(resolved)) {
          broken.push(`${rel(doc.file)}: ${target} (no ${rel(resolved)})`);
          continue;
        }
        if (anchor !== undefined && anchor !== '' && resolved.endsWith('.md') && !anchorsOf(fs.readFileSync(resolved, 'utf8')).has(anchor)) {
          broken.push(`${rel(doc.file)}: ${target} (no heading #${anchor} in ${rel(resolved)})`);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it('has one page per scenario of the catalogue, quoting its A09 point and CWE, all linked from the index', async () => {
    const { ids, texts, from } = await loadScenarios();
    expect(ids.length).toBeGreaterThanOrEqual(ISSUE_SCENARIO_IDS.length);
    const pagesDir = path.join(DOCS, 'scenarios');
    const pages = fs.readdirSync(pagesDir).filter((name) => name.endsWith('.md')).map((name) => name.slice(0, -3));
    expect({ from, missingPages: ids.filter((id) => !pages.includes(id)) }).toEqual({ from, missingPages: [] });
    expect({ from, pagesWithoutScenario: pages.filter((page) => !ids.includes(page)) }).toEqual({ from, pagesWithoutScenario: [] });

    const index = docs.find((doc) => rel(doc.file) === 'docs/index.md')!;
    expect(ids.filter((id) => !index.prose.includes(`](scenarios/${id}.md)`))).toEqual([]);

    const mismatches: string[] = [];
    for (const id of ids) {
      const page = fs.readFileSync(path.join(pagesDir, `${id}.md`), 'utf8');
      if (!page.split('\n')[0]!.includes(`(\`${id}\`)`)) mismatches.push(`${id}: the title line does not name (\`${id}\`)`);
      const scenario = texts?.find((s) => s.id === id);
      if (scenario === undefined) continue;
      const row = (label: string): string | undefined => new RegExp(`^\\| ${label} \\| (.*) \\|$`, 'm').exec(page)?.[1];
      if (row('A09 point') !== scenario.a09) mismatches.push(`${id}: A09 point is "${row('A09 point')}", the catalogue says "${scenario.a09}"`);
      if (row('CWE \\(catalogue\\)') !== scenario.cwe) mismatches.push(`${id}: CWE is "${row('CWE \\(catalogue\\)')}", the catalogue says "${scenario.cwe}"`);
    }
    expect(mismatches).toEqual([]);
  });

  it('names only CLI commands and flags that exist, and documents every command', async () => {
    const commands = commandNames();
    const usages = new Map<string, string>();
    for (const command of commands) usages.set(command, await usageOf(command));
    const problems: string[] = [];
    const mentioned = new Set<string>();
    for (const doc of docs) {
      for (const code of doc.code) {
        for (const { command, rest } of cliInvocations(code)) {
          mentioned.add(command);
          const usage = usages.get(command);
          if (usage === undefined) {
            problems.push(`${rel(doc.file)}: a09-lab ${command} is not a command (${commands.join(', ')})`);
            continue;
          }
          for (const flag of flagsIn(rest)) {
            if (flag !== '--help' && !occursAsToken(flag, usage)) problems.push(`${rel(doc.file)}: a09-lab ${command} has no ${flag} (in: ${code.trim().slice(0, 100)})`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(commands.filter((command) => !mentioned.has(command))).toEqual([]);
  });

  it("names only the codemod's flags", () => {
    const apply = fs.readFileSync(path.join(ROOT, 'juice-shop-patch', 'apply.cjs'), 'utf8');
    const problems: string[] = [];
    for (const doc of docs) {
      for (const code of doc.code) {
        for (const match of code.matchAll(/juice-shop-patch\/apply\b([^#|;&\n]*)/g)) {
          for (const flag of flagsIn(match[1]!)) if (!apply.includes(`'${flag}'`) && !apply.includes(`"${flag}"`)) problems.push(`${rel(doc.file)}: apply has no ${flag}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('names only A09_* variables the source reads', () => {
    const named = new Set(docs.flatMap((doc) => [...doc.text.matchAll(/\bA09_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0])));
    expect(named.size).toBeGreaterThan(10);
    expect([...named].filter((name) => !occursAsToken(name, corpus))).toEqual([]);
  });

  it('names only event types, alert types and rule ids that exist', () => {
    const rules = JSON.parse(fs.readFileSync(path.join(ROOT, 'src', 'detect', 'default-rules.json'), 'utf8')) as { rules: Array<{ id: string; alert: string }> };
    const known = new Set<string>([...Object.keys(VOCABULARY), ...rules.rules.map((r) => r.alert), ...rules.rules.map((r) => r.id), 'detector_capacity']);
    const unknown: string[] = [];
    for (const doc of docs) {
      for (const code of doc.code) {
        const token = code.trim();
        if (/^(authn|authz|malicious|sensitive|sys|input|http|order)_[a-z0-9_]+$/.test(token) && !known.has(token)) unknown.push(`${rel(doc.file)}: ${token}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('names only identifiers that occur in the source (rule ids, reasons, tables)', () => {
    const missing = new Set<string>();
    for (const doc of docs) {
      for (const code of doc.code) {
        for (const match of code.matchAll(/(?<![\w./-])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w/-])/g)) {
          if (!occursAsToken(match[1]!, corpus)) missing.add(`${rel(doc.file)}: ${match[1]}`);
        }
      }
    }
    expect([...missing]).toEqual([]);
  });

  it('names only routes whose static part is in the source', () => {
    const missing = new Set<string>();
    let checked = 0;
    for (const doc of docs) {
      for (const code of doc.code) {
        for (const match of code.matchAll(/(?<![\w.])(\/(?:rest|api|support|encryptionkeys)\b[^\s`?"'),]*)/g)) {
          const segments = match[1]!.split('/').slice(1);
          const kept: string[] = [];
          for (const segment of segments) {
            // Ids, parameters, placeholders and file names are data, not the route.
            if (segment === '' || /[\d:<…*{.]/.test(segment)) break;
            kept.push(segment);
          }
          const prefix = `/${kept.join('/')}`;
          checked++;
          if (!corpus.includes(prefix)) missing.add(`${rel(doc.file)}: ${match[1]} (${prefix})`);
        }
      }
    }
    expect([...missing]).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });
});
