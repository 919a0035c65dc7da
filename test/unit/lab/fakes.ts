// Fakes shared by the lab's unit tests (no tests here).
import type { HostFs } from '../../../src/lab/kernels.js';

/** A fake filesystem: file path → contents (directories are implied by the paths). */
export function fakeFs(files: Record<string, string | Buffer>): HostFs {
  const paths = Object.keys(files);
  return {
    readdir(dir) {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`;
      const names = paths.filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length).split('/')[0] ?? '');
      return [...new Set(names)];
    },
    exists(file) {
      return paths.some((p) => p === file || p.startsWith(`${file}/`));
    },
    readFile(file) {
      const v = files[file];
      return v === undefined ? undefined : Buffer.isBuffer(v) ? v : Buffer.from(v);
    },
  };
}

/** A bzImage header carrying `release` as its kernel_version string. */
export function fakeBzImage(release: string): Buffer {
  const image = Buffer.alloc(0x1000);
  image.write('HdrS', 0x202, 'latin1');
  image.writeUInt16LE(0x0800 - 0x200, 0x20e);
  image.write(`${release} (builder@example) #1 SMP`, 0x800, 'latin1');
  return image;
}

/**
 * A minimal little-endian ELF64 image with the given program header types. A `PT_NOTE` (4)
 * header points at one note, by default the Xen PVH entry note.
 */
export function fakeElf(types: number[], note: { name: string; type: number } = { name: 'Xen', type: 18 }): Buffer {
  const phoff = 64;
  const noteAt = phoff + types.length * 56;
  const name = Buffer.from(`${note.name}\0`);
  const namePadded = Math.ceil(name.length / 4) * 4;
  const noteSize = 12 + namePadded + 4;
  const elf = Buffer.alloc(noteAt + noteSize);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2; // ELFCLASS64
  elf[5] = 1; // little-endian
  elf.writeBigUInt64LE(BigInt(phoff), 0x20);
  elf.writeUInt16LE(56, 0x36);
  elf.writeUInt16LE(types.length, 0x38);
  types.forEach((type, i) => {
    const ph = phoff + i * 56;
    elf.writeUInt32LE(type, ph);
    if (type === 4) {
      elf.writeBigUInt64LE(BigInt(noteAt), ph + 8);
      elf.writeBigUInt64LE(BigInt(noteSize), ph + 32);
    }
  });
  elf.writeUInt32LE(name.length, noteAt);
  elf.writeUInt32LE(4, noteAt + 4);
  elf.writeUInt32LE(note.type, noteAt + 8);
  name.copy(elf, noteAt + 12);
  return elf;
}
