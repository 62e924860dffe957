import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { EVENT_TYPES, OUTCOMES, type OwaspLevel, type Severity } from '../events';
import type { DetectionConfig, DetectionSettings, KeyKind, MatchConfig, RuleConfig, RuleKind } from './config-types';
import defaultRulesJson from './default-rules.json';

export type { DetectionConfig, DetectionSettings, KeyKind, MatchConfig, RuleConfig, RuleKind } from './config-types';

/** A configuration that cannot be used; `problems` name the rule and field of each fault. */
export class DetectionConfigError extends Error {
  constructor(
    readonly problems: readonly string[],
    readonly source: string,
  ) {
    super(`invalid detection rules in ${source}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DetectionConfigError';
  }
}

const RULE_KINDS: readonly RuleKind[] = ['immediate', 'threshold', 'distinct', 'sequence', 'silence', 'gap'];
const KEY_KINDS: readonly KeyKind[] = ['ip', 'account', 'source'];
const LEVELS: readonly OwaspLevel[] = ['INFO', 'WARN', 'CRITICAL'];
const RULE_FIELDS = [
  'id', 'kind', 'enabled', 'title', 'description', 'references', 'alert', 'severity', 'level', 'key', 'perSource', 'match',
  'windowMs', 'threshold', 'distinct', 'after', 'intervalMs', 'graceMs',
] as const;
const MATCH_FIELDS = ['types', 'outcomes', 'status', 'url', 'userAgent', 'raw'] as const;
const SETTINGS_FIELDS: readonly (keyof DetectionSettings)[] = [
  'maxKeysPerRule', 'maxOpenAlerts', 'maxEvidence', 'updateIntervalMs', 'quietMs', 'timeSource', 'maxSources', 'capacityAlert',
];
/** Rings hold `threshold` entries per key: a bound keeps a typo from reserving gigabytes. */
const MAX_THRESHOLD = 1000;
const MAX_WINDOW_MS = 7 * 24 * 3600 * 1000;
const ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const ALERT_PATTERN = /^(\$type|[a-z0-9][a-z0-9_.-]{0,63})$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Expand `prefix_*` and `*` against the event vocabulary. */
export function expandTypes(patterns: readonly string[]): string[] {
  const types = new Set<string>();
  for (const pattern of patterns) {
    if (pattern.endsWith('*')) {
      const prefix = pattern.slice(0, -1);
      for (const type of EVENT_TYPES) if (type.startsWith(prefix)) types.add(type);
    } else if ((EVENT_TYPES as readonly string[]).includes(pattern)) {
      types.add(pattern);
    }
  }
  return [...types];
}

/** Collects problems for one rule, each prefixed with where it is. */
class Problems {
  readonly list: string[] = [];
  add(where: string, message: string): void {
    this.list.push(`${where}: ${message}`);
  }
}

function checkInteger(problems: Problems, where: string, field: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.add(where, `${field} must be an integer from ${min} to ${max} (got ${show(value)})`);
    return undefined;
  }
  return value;
}

function checkStringList(problems: Problems, where: string, field: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.length === 0)) {
    problems.add(where, `${field} must be a list of non-empty strings (got ${show(value)})`);
    return undefined;
  }
  return value as string[];
}

function checkPatterns(problems: Problems, where: string, field: string, value: unknown): string[] | undefined {
  const list = checkStringList(problems, where, field, value);
  if (list === undefined) return undefined;
  for (const source of list) {
    try {
      new RegExp(source, 'i');
    } catch (error) {
      problems.add(where, `${field} has an invalid regular expression ${show(source)}: ${(error as Error).message}`);
    }
  }
  return list;
}

function checkMatch(problems: Problems, where: string, field: string, value: unknown): MatchConfig | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    problems.add(where, `${field} must be an object (got ${show(value)})`);
    return undefined;
  }
  for (const name of Object.keys(value)) {
    if (!(MATCH_FIELDS as readonly string[]).includes(name)) {
      problems.add(where, `${field}.${name} is not a known field (known: ${MATCH_FIELDS.join(', ')})`);
    }
  }
  const match: MatchConfig = {};
  const types = checkStringList(problems, where, `${field}.types`, value.types);
  if (types !== undefined) {
    for (const type of types) {
      if (expandTypes([type]).length === 0) problems.add(where, `${field}.types: ${show(type)} is not an event type of the vocabulary`);
    }
    match.types = types;
  }
  const outcomes = checkStringList(problems, where, `${field}.outcomes`, value.outcomes);
  if (outcomes !== undefined) {
    for (const outcome of outcomes) {
      if (!(OUTCOMES as readonly string[]).includes(outcome)) {
        problems.add(where, `${field}.outcomes: ${show(outcome)} is not one of ${OUTCOMES.join(', ')}`);
      }
    }
    match.outcomes = outcomes;
  }
  if (value.status !== undefined) {
    const status = value.status;
    if (!isObject(status)) {
      problems.add(where, `${field}.status must be an object { min, max } (got ${show(status)})`);
    } else {
      const min = checkInteger(problems, where, `${field}.status.min`, status.min ?? 100, 100, 599);
      const max = checkInteger(problems, where, `${field}.status.max`, status.max ?? 599, 100, 599);
      if (min !== undefined && max !== undefined) {
        if (min > max) problems.add(where, `${field}.status.min (${min}) is above ${field}.status.max (${max})`);
        match.status = { min, max };
      }
    }
  }
  const url = checkPatterns(problems, where, `${field}.url`, value.url);
  if (url !== undefined) match.url = url;
  const userAgent = checkPatterns(problems, where, `${field}.userAgent`, value.userAgent);
  if (userAgent !== undefined) match.userAgent = userAgent;
  if (value.raw !== undefined) {
    if (typeof value.raw !== 'boolean') problems.add(where, `${field}.raw must be true or false (got ${show(value.raw)})`);
    else match.raw = value.raw;
  }
  return match;
}

function checkKey(problems: Problems, where: string, value: unknown): KeyKind[] | undefined {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((item) => !(KEY_KINDS as readonly unknown[]).includes(item))) {
    problems.add(where, `key must be one of ${KEY_KINDS.join(', ')} or a list of them (got ${show(value)})`);
    return undefined;
  }
  return list as KeyKind[];
}

function checkRule(problems: Problems, index: number, raw: unknown): RuleConfig | undefined {
  const fallbackWhere = `rules[${index}]`;
  if (!isObject(raw)) {
    problems.add(fallbackWhere, `must be an object (got ${show(raw)})`);
    return undefined;
  }
  const idValid = typeof raw.id === 'string' && ID_PATTERN.test(raw.id);
  const where = idValid ? `rule "${raw.id as string}" (rules[${index}])` : fallbackWhere;
  if (!idValid) problems.add(where, `id must be lower-case letters, digits, _ . - (up to 64) (got ${show(raw.id)})`);
  for (const name of Object.keys(raw)) {
    if (!(RULE_FIELDS as readonly string[]).includes(name)) problems.add(where, `${name} is not a known field (known: ${RULE_FIELDS.join(', ')})`);
  }
  const kind = raw.kind;
  if (!(RULE_KINDS as readonly unknown[]).includes(kind)) {
    problems.add(where, `kind must be one of ${RULE_KINDS.join(', ')} (got ${show(kind)})`);
    return undefined;
  }
  const ruleKind = kind as RuleKind;
  const before = problems.list.length;
  if (raw.enabled !== undefined && typeof raw.enabled !== 'boolean') problems.add(where, `enabled must be true or false (got ${show(raw.enabled)})`);
  if (raw.title !== undefined && (typeof raw.title !== 'string' || raw.title.length === 0)) problems.add(where, `title must be a non-empty string (got ${show(raw.title)})`);
  if (raw.description !== undefined && typeof raw.description !== 'string') problems.add(where, `description must be a string (got ${show(raw.description)})`);
  const references = checkStringList(problems, where, 'references', raw.references) ?? [];
  const alert = raw.alert ?? raw.id;
  if (typeof alert !== 'string' || !ALERT_PATTERN.test(alert)) problems.add(where, `alert must be a name like authn_login_fail_max or $type (got ${show(alert)})`);
  const severity = checkInteger(problems, where, 'severity', raw.severity, 0, 7);
  if (raw.severity === undefined) problems.add(where, 'severity is missing (RFC 5424, 0 emergency .. 7 debug)');
  if (raw.level !== undefined && !(LEVELS as readonly unknown[]).includes(raw.level)) problems.add(where, `level must be one of ${LEVELS.join(', ')} (got ${show(raw.level)})`);
  const sourceOnly = ruleKind === 'silence' || ruleKind === 'gap';
  const key = checkKey(problems, where, raw.key ?? (sourceOnly ? 'source' : undefined));
  if (sourceOnly && key !== undefined && (key.length !== 1 || key[0] !== 'source')) problems.add(where, `key must be source for a ${ruleKind} rule (got ${show(raw.key)})`);
  if (raw.perSource !== undefined) {
    if (typeof raw.perSource !== 'boolean') problems.add(where, `perSource must be true or false (got ${show(raw.perSource)})`);
    else if (sourceOnly && raw.perSource) problems.add(where, `perSource does not apply to a ${ruleKind} rule (it is keyed by the source already)`);
  }
  const match = checkMatch(problems, where, 'match', raw.match ?? {}) ?? {};
  const windowed = ruleKind === 'threshold' || ruleKind === 'distinct' || ruleKind === 'sequence';
  const windowMs = checkInteger(problems, where, 'windowMs', raw.windowMs, 1, MAX_WINDOW_MS);
  const threshold = checkInteger(problems, where, 'threshold', raw.threshold, 1, MAX_THRESHOLD);
  if (windowed) {
    if (raw.windowMs === undefined) problems.add(where, `windowMs is missing (a ${ruleKind} rule counts within a window)`);
    if (raw.threshold === undefined) problems.add(where, `threshold is missing (a ${ruleKind} rule needs a count)`);
  } else {
    for (const field of ['windowMs', 'threshold'] as const) {
      if (raw[field] !== undefined) problems.add(where, `${field} does not apply to a ${ruleKind} rule`);
    }
  }
  let distinct: KeyKind | undefined;
  if (ruleKind === 'distinct') {
    if (!(KEY_KINDS as readonly unknown[]).includes(raw.distinct)) problems.add(where, `distinct must be one of ${KEY_KINDS.join(', ')} (got ${show(raw.distinct)})`);
    else distinct = raw.distinct as KeyKind;
  } else if (raw.distinct !== undefined) {
    problems.add(where, `distinct does not apply to a ${ruleKind} rule`);
  }
  let after: MatchConfig | undefined;
  if (ruleKind === 'sequence') {
    after = checkMatch(problems, where, 'after', raw.after);
    if (raw.after === undefined) problems.add(where, 'after is missing (the events that must come first)');
    else if (after !== undefined && (after.types === undefined || after.types.length === 0)) problems.add(where, 'after.types is missing');
    if (after?.raw === true) problems.add(where, 'after.raw does not apply: sequences follow events');
  } else if (raw.after !== undefined) {
    problems.add(where, `after does not apply to a ${ruleKind} rule`);
  }
  let intervalMs: number | undefined;
  let graceMs: number | undefined;
  if (ruleKind === 'silence') {
    intervalMs = checkInteger(problems, where, 'intervalMs', raw.intervalMs, 1, MAX_WINDOW_MS);
    graceMs = checkInteger(problems, where, 'graceMs', raw.graceMs ?? 0, 0, MAX_WINDOW_MS);
    if (raw.intervalMs === undefined) problems.add(where, 'intervalMs is missing (the heartbeat interval)');
  } else {
    for (const field of ['intervalMs', 'graceMs'] as const) {
      if (raw[field] !== undefined) problems.add(where, `${field} does not apply to a ${ruleKind} rule`);
    }
  }
  if (!sourceOnly) {
    const hasCondition = match.types !== undefined || match.url !== undefined || match.userAgent !== undefined;
    if (!hasCondition) problems.add(where, 'match needs types, url or userAgent: a rule on every record is a mistake');
    if (match.types === undefined && match.raw !== true) problems.add(where, 'match.types is missing');
  } else if (Object.keys(match).length > 0) {
    problems.add(where, `match does not apply to a ${ruleKind} rule`);
  }
  if (match.raw === true) {
    if (ruleKind !== 'immediate') problems.add(where, 'match.raw applies to immediate rules only');
    if (match.url === undefined && match.userAgent === undefined) problems.add(where, 'match.raw needs url or userAgent patterns to test the message against');
  }
  if (problems.list.length > before || !idValid || severity === undefined || key === undefined) return undefined;
  const level = (raw.level as OwaspLevel | undefined) ?? (severity <= 2 ? 'CRITICAL' : severity <= 4 ? 'WARN' : 'INFO');
  const rule: RuleConfig = {
    id: raw.id as string,
    kind: ruleKind,
    enabled: (raw.enabled as boolean | undefined) ?? true,
    title: (raw.title as string | undefined) ?? (raw.id as string),
    references,
    alert: alert as string,
    severity: severity as Severity,
    level,
    key,
    match,
  };
  if (typeof raw.description === 'string') rule.description = raw.description;
  if (raw.perSource === true) rule.perSource = true;
  if (windowMs !== undefined) rule.windowMs = windowMs;
  if (threshold !== undefined) rule.threshold = threshold;
  if (distinct !== undefined) rule.distinct = distinct;
  if (after !== undefined) rule.after = after;
  if (intervalMs !== undefined) rule.intervalMs = intervalMs;
  if (graceMs !== undefined) rule.graceMs = graceMs;
  return rule;
}

function checkSettings(problems: Problems, value: unknown, base: DetectionSettings | undefined): DetectionSettings | undefined {
  const where = 'settings';
  if (value !== undefined && !isObject(value)) {
    problems.add(where, `must be an object (got ${show(value)})`);
    return undefined;
  }
  const given: Json = value ?? {};
  for (const name of Object.keys(given)) {
    if (!(SETTINGS_FIELDS as readonly string[]).includes(name)) problems.add(where, `${name} is not a known setting (known: ${SETTINGS_FIELDS.join(', ')})`);
  }
  const merged: Json = { ...base, ...given };
  const before = problems.list.length;
  for (const [field, min, max] of [
    ['maxKeysPerRule', 1, 10_000_000],
    ['maxOpenAlerts', 1, 1_000_000],
    ['maxEvidence', 1, 1000],
    ['updateIntervalMs', 0, MAX_WINDOW_MS],
    ['quietMs', 1, MAX_WINDOW_MS],
    ['maxSources', 1, 1_000_000],
  ] as const) {
    if (merged[field] === undefined) problems.add(where, `${field} is missing`);
    else checkInteger(problems, where, field, merged[field], min, max);
  }
  if (merged.timeSource !== 'event' && merged.timeSource !== 'received') problems.add(where, `timeSource must be event or received (got ${show(merged.timeSource)})`);
  if (typeof merged.capacityAlert !== 'boolean') problems.add(where, `capacityAlert must be true or false (got ${show(merged.capacityAlert)})`);
  if (problems.list.length > before) return undefined;
  return merged as unknown as DetectionSettings;
}

/**
 * Check a parsed configuration and fill in defaults. With `extends: default`, settings and rules are laid
 * over the shipped defaults: a rule with a default rule's id changes only the fields it gives (for instance
 * `{ id: brute_force_account, threshold: 10 }` or `enabled: false`), a new id adds a rule.
 * Throws DetectionConfigError listing every problem, each naming the rule and field.
 */
export function validateDetectionConfig(value: unknown, source = 'configuration'): DetectionConfig {
  const problems = new Problems();
  if (!isObject(value)) throw new DetectionConfigError([`the top level must be an object with rules (got ${show(value)})`], source);
  for (const name of Object.keys(value)) {
    if (!['version', 'extends', 'settings', 'rules'].includes(name)) problems.add('top level', `${name} is not a known field (known: version, extends, settings, rules)`);
  }
  if (value.version !== undefined && value.version !== 1) problems.add('top level', `version must be 1 (got ${show(value.version)})`);
  let base: DetectionConfig | undefined;
  if (value.extends !== undefined) {
    if (value.extends !== 'default') problems.add('top level', `extends must be "default" (got ${show(value.extends)})`);
    else base = defaultDetectionConfig();
  }
  // Settings are tuning knobs: whatever a file leaves out keeps the shipped value, with or without extends.
  const settings = checkSettings(problems, value.settings, (base?.settings ?? defaultRulesJson.settings) as DetectionSettings);
  const rawRules = value.rules ?? (base !== undefined ? [] : undefined);
  if (!Array.isArray(rawRules)) {
    problems.add('top level', `rules must be a list (got ${show(rawRules)})`);
    throw new DetectionConfigError(problems.list, source);
  }
  const layered: unknown[] = base !== undefined ? base.rules.map((rule) => ({ ...rule })) : [];
  const baseIds = base !== undefined ? base.rules.map((rule) => rule.id) : [];
  const overridden = new Set<number>();
  for (const rule of rawRules) {
    // A user rule with a default rule's id changes that rule (once); anything else is a rule of its own.
    const over = isObject(rule) && typeof rule.id === 'string' ? baseIds.indexOf(rule.id) : -1;
    if (over >= 0 && !overridden.has(over) && isObject(rule)) {
      layered[over] = { ...(layered[over] as Json), ...rule };
      overridden.add(over);
    } else {
      layered.push(rule);
    }
  }
  const rules: RuleConfig[] = [];
  const seen = new Set<string>();
  layered.forEach((raw, index) => {
    if (isObject(raw) && typeof raw.id === 'string') {
      if (seen.has(raw.id)) problems.add(`rule "${raw.id}" (rules[${index}])`, 'id is used by an earlier rule');
      seen.add(raw.id);
    }
    const rule = checkRule(problems, index, raw);
    if (rule !== undefined) rules.push(rule);
  });
  if (problems.list.length > 0 || settings === undefined) throw new DetectionConfigError(problems.list, source);
  return { version: 1, settings, rules };
}

/** Parse YAML or JSON text (JSON is YAML) and validate it. */
export function parseDetectionConfig(text: string, source = 'configuration'): DetectionConfig {
  const lines = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (document.errors.length > 0) {
    const problems = document.errors.map((error) => {
      const position = lines.linePos(error.pos[0]);
      const at = `line ${position.line}, column ${position.col}`;
      return `${at}: ${error.message.split('\n')[0]}`;
    });
    throw new DetectionConfigError(problems, source);
  }
  return validateDetectionConfig(document.toJS(), source);
}

/** Read, parse and validate a rules file (YAML or JSON). */
export function loadDetectionConfig(path: string): DetectionConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new DetectionConfigError([`cannot read the file (${code})`], path);
  }
  return parseDetectionConfig(text, path);
}

/** The shipped defaults (src/detect/default-rules.json), validated; a fresh copy each call. */
export function defaultDetectionConfig(): DetectionConfig {
  return validateDetectionConfig(JSON.parse(JSON.stringify(defaultRulesJson)) as unknown, 'default-rules.json');
}
