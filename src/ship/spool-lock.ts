import * as fs from 'node:fs';
import * as path from 'node:path';

/** Another live process (or another transport in this one) already uses the spool directory. */
export class SpoolLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`spool directory ${dir} is in use by process ${pid}`);
    this.name = 'SpoolLockedError';
  }
}

/** Directories this process holds, so two transports in one process cannot share a spool either. */
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take the spool directory's lock file (`spool.lock`, holding the pid). Two writers would interleave
 * records and corrupt the segments, so a live owner is refused; a lock left by a dead process is taken over.
 * A lock naming our own pid that this process does not hold is stale too (a container restarted as pid 1).
 */
export function acquireSpoolLock(dir: string): string {
  const resolved = path.resolve(dir);
  const lockPath = path.join(resolved, 'spool.lock');
  if (heldHere.has(resolved)) throw new SpoolLockedError(resolved, process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      try {
        fs.writeSync(fd, `${process.pid}\n`);
      } finally {
        fs.closeSync(fd);
      }
      heldHere.add(resolved);
      return lockPath;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number.parseInt(fs.readFileSync(lockPath, 'utf8').trim(), 10);
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
      throw new SpoolLockedError(resolved, owner);
    }
    fs.rmSync(lockPath, { force: true });
  }
  throw new SpoolLockedError(resolved, -1);
}

export function releaseSpoolLock(lockPath: string): void {
  heldHere.delete(path.dirname(lockPath));
  try {
    fs.rmSync(lockPath, { force: true });
  } catch {
    // The directory went away or became unwritable: nothing left to release.
  }
}
