/**
 * A minimal writer for the "newc" cpio format, the only archive format the kernel unpacks
 * into an initramfs. Written here so that the lab needs no `cpio` binary.
 */
import { Buffer } from 'node:buffer';

/** One archive member. Parents must be listed before their children. */
export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Uint8Array; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`cpio field out of range: ${n}`);
  return n.toString(16).padStart(8, '0');
}

function pad4(length: number): number {
  return (4 - (length % 4)) % 4;
}

function member(ino: number, mode: number, data: Uint8Array, name: string, rdev: [number, number] = [0, 0]): Buffer[] {
  // Paths inside the archive are relative ("bin/sh"); the kernel accepts either, tools prefer these.
  const nameBytes = Buffer.from(`${name.replace(/^\/+/, '')}\0`, 'utf8');
  const header = Buffer.from(
    '070701' +
      hex8(ino) +
      hex8(mode) +
      hex8(0) + // uid
      hex8(0) + // gid
      hex8((mode & 0o170000) === S_IFDIR ? 2 : 1) + // nlink
      hex8(0) + // mtime: fixed, so that equal inputs give equal archives
      hex8(data.length) +
      hex8(0) + // devmajor
      hex8(0) + // devminor
      hex8(rdev[0]) +
      hex8(rdev[1]) +
      hex8(nameBytes.length) +
      hex8(0), // check (only used by the "crc" variant)
    'latin1',
  );
  return [
    header,
    nameBytes,
    Buffer.alloc(pad4(header.length + nameBytes.length)),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    Buffer.alloc(pad4(data.length)),
  ];
}

/** Serializes entries into a newc archive, terminated by the `TRAILER!!!` member. */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    switch (e.type) {
      case 'dir':
        parts.push(...member(ino++, S_IFDIR | (e.mode ?? 0o755), new Uint8Array(0), e.path));
        break;
      case 'file':
        parts.push(...member(ino++, S_IFREG | (e.mode ?? 0o644), e.data, e.path));
        break;
      case 'symlink':
        parts.push(...member(ino++, S_IFLNK | 0o777, Buffer.from(e.target, 'utf8'), e.path));
        break;
      case 'chardev':
        parts.push(...member(ino++, S_IFCHR | (e.mode ?? 0o600), new Uint8Array(0), e.path, [e.major, e.minor]));
        break;
    }
  }
  parts.push(...member(0, 0, new Uint8Array(0), 'TRAILER!!!'));
  return Buffer.concat(parts);
}
