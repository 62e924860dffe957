/**
 * SQL-injection marks in a value that the application quotes into SQL (Juice Shop's login email).
 *
 * Decision on apostrophes: RFC 5322 allows `'` in an address (`o'brien@x.io`), so a quote inside a
 * well-formed address alone is NOT flagged — it would page on real customers. It is flagged when it comes
 * with SQL syntax (a comment, a statement separator, a keyword, a comparison). A value that is not an
 * address is flagged for a bare quote (the classic `'` probe) or for SQL syntax. A login failing with a
 * 500 on an unflagged quote is still recorded, as sys_error.
 */

export interface SqliVerdict {
  /** The marks found, e.g. `quote`, `comment`, `tautology`, `keyword:union`; empty when clean. */
  marks: string[];
}

const EMAIL_SHAPE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const QUOTE = /['"`\u02bc]/;
const COMMENT = /--|\/\*|\*\/|#|;/;
const TAUTOLOGY = /\b(?:or|and|xor)\b\s*[('"\d]|\|\||&&|\b(\w+)\s*=\s*\1\b|['"]\s*=\s*['"]|\d\s*[=<>]\s*\d/i;
/** Words that only SQL puts in a login field. */
const STRONG_KEYWORD =
  /\b(union|select|sleep|benchmark|waitfor|pg_sleep|randomblob|load_file|outfile|information_schema|sqlite_master|sqlite_version|extractvalue|updatexml|drop\s+table|exec(?:ute)?\s*\()/i;
/** Words that are SQL after a quote but ordinary English without one. */
const WEAK_KEYWORD = /\b(insert|update|delete|alter|create|char|chr|concat|cast|convert|having|order\s+by|group\s+by|case\s+when|like|limit|null)\b/i;

interface SyntaxMarks {
  marks: string[];
  /** Marks that betray SQL even with no quote to break out with. */
  strong: boolean;
}

function syntaxMarks(value: string): SyntaxMarks {
  const marks: string[] = [];
  let strong = false;
  if (COMMENT.test(value)) {
    marks.push('comment');
    if (value.includes('--') || value.includes('/*')) strong = true;
  }
  if (TAUTOLOGY.test(value)) {
    marks.push('tautology');
    strong = true;
  }
  const keyword = STRONG_KEYWORD.exec(value);
  if (keyword) {
    marks.push(`keyword:${keyword[1]!.toLowerCase().replace(/\s+/g, ' ').replace(/\s*\($/, '')}`);
    strong = true;
  } else {
    const weak = WEAK_KEYWORD.exec(value);
    if (weak) marks.push(`keyword:${weak[1]!.toLowerCase().replace(/\s+/g, ' ')}`);
  }
  return { marks, strong };
}

export function detectSqli(value: string): SqliVerdict {
  if (value === '') return { marks: [] };
  const hasQuote = QUOTE.test(value);
  if (EMAIL_SHAPE.test(value)) {
    // An address: only a quote that comes with SQL syntax is an attack (see the decision above).
    if (!hasQuote) return { marks: [] };
    const syntax = syntaxMarks(value);
    return { marks: syntax.marks.length > 0 ? ['quote', ...syntax.marks] : [] };
  }
  const syntax = syntaxMarks(value);
  if (hasQuote) return { marks: ['quote', ...syntax.marks] };
  // No quote (numeric-context payloads such as `1 OR 1=1`): only strong marks count.
  return { marks: syntax.strong ? syntax.marks : [] };
}
