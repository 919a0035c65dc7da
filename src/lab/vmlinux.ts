/**
 * Boot-time shortcut: hand QEMU the kernel's uncompressed ELF (`vmlinux`) instead of the
 * bzImage. Under TCG the bzImage's own decompressor (xz for Debian's 6.1, zstd for 6.12)
 * and real-mode setup take about 2 s of every boot; QEMU loads an ELF kernel that carries a
 * PVH entry note directly. The ELF is extracted once per kernel build and cached.
 *
 * Everything here is an optimization: when the payload cannot be extracted (unknown
 * compression, decompressor not installed, no PVH note, cache not writable) the caller boots
 * the bzImage as before.
 */
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

/** The compressed kernel inside a bzImage, located through the boot protocol header. */
export interface BzImagePayload {
  format: 'gzip' | 'xz' | 'zstd' | 'unknown';
  /** The compressed stream alone. */
  data: Buffer;
  /** Size of the decompressed kernel, which the kernel build appends to the stream. */
  size: number;
}

/** Finds the compressed kernel in a bzImage (boot protocol ≥ 2.08: `payload_offset` / `payload_length`). */
export function bzImagePayload(image: Buffer): BzImagePayload | undefined {
  if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  if (image.readUInt16LE(0x206) < 0x208) return undefined;
  const setupSects = image[0x1f1] || 4; // 0 means 4, for very old images
  const start = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  if (length === 0 || start + length > image.length) return undefined;
  if (length <= 4) return undefined;
  // The build appends the decompressed size (4 bytes, little-endian) to the stream; the
  // decompressors would call those bytes trailing garbage.
  const data = image.subarray(start, start + length - 4);
  const size = image.readUInt32LE(start + length - 4);
  const magic = data.subarray(0, 6);
  let format: BzImagePayload['format'] = 'unknown';
  if (magic[0] === 0x1f && magic[1] === 0x8b) format = 'gzip';
  else if (magic.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) format = 'xz';
  else if (magic.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) format = 'zstd';
  return { format, data, size };
}

/**
 * Whether an ELF kernel has the Xen PVH entry note (`XEN_ELFNOTE_PHYS32_ENTRY`), which QEMU
 * needs to boot an uncompressed kernel.
 */
export function hasPvhNote(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const PT_NOTE = 4;
  const XEN_ELFNOTE_PHYS32_ENTRY = 18;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 56 > elf.length || elf.readUInt32LE(ph) !== PT_NOTE) continue;
    let at = Number(elf.readBigUInt64LE(ph + 8));
    const end = at + Number(elf.readBigUInt64LE(ph + 32));
    while (at + 12 <= end && end <= elf.length) {
      const namesz = elf.readUInt32LE(at);
      const descsz = elf.readUInt32LE(at + 4);
      const type = elf.readUInt32LE(at + 8);
      const name = elf.toString('latin1', at + 12, at + 12 + Math.max(0, namesz - 1));
      if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
      at += 12 + Math.ceil(namesz / 4) * 4 + Math.ceil(descsz / 4) * 4;
    }
  }
  return false;
}

function decompress(payload: BzImagePayload): Buffer | undefined {
  const tool = { xz: 'xz', zstd: 'zstd' } as const;
  switch (payload.format) {
    case 'gzip':
      return zlib.gunzipSync(payload.data);
    case 'xz':
    case 'zstd':
      try {
        return execFileSync(tool[payload.format], ['-dc'], {
          input: payload.data,
          maxBuffer: 1024 * 1024 * 1024,
          stdio: ['pipe', 'pipe', 'ignore'],
        });
      } catch {
        return undefined;
      }
    default:
      return undefined;
  }
}

/**
 * The lab's cache directory: `$KCRYPTO_LAB_CACHE`, else `$XDG_CACHE_HOME/kcrypto/lab`, else
 * `~/.cache/kcrypto/lab`.
 */
export function labCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['KCRYPTO_LAB_CACHE'];
  if (explicit) return explicit;
  const base = env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(base, 'kcrypto', 'lab');
}

/** Removes cached extractions of earlier builds of the same release (they are ~60 MB each). */
function pruneOtherBuilds(dir: string, release: string, keep: string): void {
  for (const entry of fs.readdirSync(dir)) {
    if (entry !== keep && entry.startsWith(`vmlinux-${release}-`)) fs.rmSync(path.join(dir, entry), { force: true });
  }
}

/**
 * Returns the path of a PVH-bootable ELF for `image`, extracting and caching it on first
 * use, or `undefined` when the bzImage should be booted instead. `scratchDir` is used when
 * the cache directory cannot be written.
 */
export function pvhKernelFor(image: string, release: string, scratchDir: string, cacheDir = labCacheDir()): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(image);
  } catch {
    return undefined;
  }
  // Size and mtime in the name: a reinstalled kernel package gets a fresh extraction.
  const name = `vmlinux-${release}-${stat.size}-${Math.floor(stat.mtimeMs)}`;
  const cached = path.join(cacheDir, name);
  if (fs.existsSync(cached)) return cached;

  const payload = bzImagePayload(fs.readFileSync(image));
  const elf = payload ? decompress(payload) : undefined;
  if (!elf || elf.length !== payload?.size || !hasPvhNote(elf)) return undefined;
  for (const dir of [cacheDir, scratchDir]) {
    try {
      fs.mkdirSync(dir, { recursive: true });
      // Written under a private name and renamed: concurrent runs never see half a file.
      const partial = path.join(dir, `.${name}.${process.pid}`);
      fs.writeFileSync(partial, elf);
      const target = path.join(dir, name);
      fs.renameSync(partial, target);
      if (dir === cacheDir) pruneOtherBuilds(dir, release, name);
      return target;
    } catch {
      // not writable: try the next place
    }
  }
  return undefined;
}
