/**
 * Open file descriptors of this process, to show that sessions (and failed attempts to open
 * them) give back every socket they took.
 */
import { readdirSync, readlinkSync } from 'node:fs';

/** fd number → what it points at (`socket:[1234]`, a path, `anon_inode:…`). */
export function openFds(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      fds.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // closed since the listing: the directory handle readdirSync itself used
    }
  }
  return fds;
}

/** The fds open in `after` that were not open (to the same target) in `before`, described. */
export function leakedFds(before: Map<number, string>, after: Map<number, string>): string[] {
  const leaked: string[] = [];
  for (const [fd, target] of after) if (before.get(fd) !== target) leaked.push(`${fd} → ${target}`);
  return leaked;
}

/** Whether this system exposes /proc/self/fd. */
export function canCountFds(): boolean {
  try {
    readdirSync('/proc/self/fd');
    return true;
  } catch {
    return false;
  }
}
