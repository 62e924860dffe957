import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** `YYYY-MM-DD` in local time, as file-stream-rotator formats `%DATE%`. */
export function localDateStamp(date = new Date()): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

interface AuditEntry {
  date: number;
  name: string;
  hash: string;
}

/**
 * Juice Shop's access log sink: `logs/access.log.<date>` rotated daily, with file-stream-rotator's
 * `logs/audit.json` beside it. Written synchronously so a line is on disk when morgan's callback returns
 * (file-stream-rotator is asynchronous; only the timing differs, not the content).
 */
export class DailyAccessLog {
  private fd: number | undefined;
  private openStamp: string | undefined;
  private readonly auditPath: string;
  private readonly audit: AuditEntry[] = [];

  constructor(readonly directory: string) {
    fs.mkdirSync(directory, { recursive: true });
    this.auditPath = path.join(directory, 'audit.json');
  }

  pathFor(date = new Date()): string {
    return path.resolve(this.directory, `access.log.${localDateStamp(date)}`);
  }

  /** morgan's `stream.write(line)`. */
  write(line: string): void {
    const stamp = localDateStamp();
    if (this.fd === undefined || stamp !== this.openStamp) this.rotate(stamp);
    if (this.fd !== undefined) fs.writeSync(this.fd, line);
  }

  /** Opens today's file now, so the directory listing shows it before the first request completes. */
  open(): void {
    this.rotate(localDateStamp());
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private rotate(stamp: string): void {
    this.close();
    const file = path.resolve(this.directory, `access.log.${stamp}`);
    this.fd = fs.openSync(file, 'a');
    this.openStamp = stamp;
    const now = Date.now();
    this.audit.push({ date: now, name: file, hash: crypto.createHash('md5').update(file + now).digest('hex') });
    const audit = { keep: { days: true, amount: 2 }, auditLog: path.resolve(this.auditPath), files: this.audit, hashType: 'md5' };
    fs.writeFileSync(this.auditPath, JSON.stringify(audit, null, 4));
  }
}
