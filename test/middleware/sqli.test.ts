import fc from 'fast-check';
import { detectSqli } from '../../middleware';

/** Payloads seen against Juice Shop's login and what sqlmap sends for a string parameter. */
const ATTACKS: readonly string[] = [
  "' OR 1=1--",
  "' or 1=1 --",
  "admin@juice-sh.op'--",
  "admin@juice-sh.op' --",
  "' OR '1'='1",
  "' OR '1'='1' --",
  "') OR ('1'='1",
  "' OR 1=1#",
  "'/**/OR/**/1=1/**/--",
  "x' UNION SELECT * FROM Users--",
  "' UNION SELECT NULL,NULL,NULL--",
  "1' AND SLEEP(5)#",
  "1' AND (SELECT 2*(IF((SELECT * FROM (SELECT CONCAT(0x71,(SELECT (ELT(1=1,1))),0x71))s), 8446744073709551610, 8446744073709551610)))-- qxyz",
  "' AND 1=CAST((CHR(113)||CHR(122))||(SELECT (CASE WHEN (1=1) THEN 1 ELSE 0 END))::text AS NUMERIC)-- abcd",
  "'||(SELECT 0x4a4b WHERE 1=1 AND 3432=3432)||'",
  "1';WAITFOR DELAY '0:0:5'--",
  "' AND 5650=(SELECT 5650 FROM PG_SLEEP(5))--",
  "' AND 1=RANDOMBLOB(500000000/2)--",
  "1; DROP TABLE Users",
  "1 OR 1=1",
  "-1 UNION SELECT sqlite_version()",
  "'",
  "''",
  "\"",
  "admin'/*",
  "' AND extractvalue(1,concat(0x7e,version()))--",
  "bender@juice-sh.op'--",
];

/** Real addresses and ordinary text that must not page anyone. */
const BENIGN: readonly string[] = [
  'admin@juice-sh.op',
  'jim@juice-sh.op',
  "o'brien@x.io", // RFC 5322 allows the apostrophe: documented decision, not flagged
  "d'angelo.smith@example.com",
  'union@x.io',
  'select.all@example.org',
  'a--b@example.com',
  'or@or.example',
  'user+tag@example.com',
  'Mary-Ann@Example.COM',
  'john smith',
  '',
  'orlando',
  'create account',
];

describe('detectSqli', () => {
  it.each(ATTACKS)('flags %p', (payload) => {
    expect(detectSqli(payload).marks.length).toBeGreaterThan(0);
  });

  it.each(BENIGN)('does not flag %p', (value) => {
    expect(detectSqli(value).marks).toEqual([]);
  });

  it('names what it found', () => {
    expect(detectSqli("' OR 1=1--").marks).toEqual(expect.arrayContaining(['quote', 'comment', 'tautology']));
    expect(detectSqli("x' UNION SELECT * FROM Users--").marks).toContain('keyword:union');
  });

  it('never flags a quote-free well-formed address (property)', () => {
    const local = fc.stringMatching(/^[a-z0-9][a-z0-9.+_-]{0,20}$/);
    const label = fc.stringMatching(/^[a-z0-9]{1,10}$/);
    fc.assert(
      fc.property(local, label, label, (user, domain, tld) => {
        expect(detectSqli(`${user}@${domain}.${tld}`).marks).toEqual([]);
      }),
    );
  });

  it('flags any login payload built from a quote and a comment or tautology (property)', () => {
    const prefix = fc.stringMatching(/^[a-z0-9@.]{0,12}$/);
    const tail = fc.constantFrom("'--", "' OR 1=1--", "' OR 'a'='a", "'; --", "' /*", "' OR 2>1#");
    fc.assert(
      fc.property(prefix, tail, (head, attack) => {
        expect(detectSqli(head + attack).marks.length).toBeGreaterThan(0);
      }),
    );
  });
});
