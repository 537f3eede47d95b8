// Reads an image's partition table (MBR, and GPT behind a protective MBR) and finds the FAT boot
// partition the Pi firmware reads. Only reads; byte offsets are what mtools' IMAGE@@OFFSET needs.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { ImageError } from './errors.js';

const SECTOR = 512;

export interface Partition {
  index: number;
  /** byte offset and length */
  start: number;
  size: number;
  /** MBR type byte as hex ("0c"), or the GPT type GUID */
  type: string;
  scheme: 'mbr' | 'gpt';
  /** GPT partition name, if any */
  name?: string;
}

export interface FatInfo {
  label: string;
  fatType: 'FAT12' | 'FAT16' | 'FAT32';
  clusterBytes: number;
}

export interface PartitionTable {
  scheme: 'mbr' | 'gpt';
  partitions: Partition[];
  /** bytes of the image or device */
  size: number;
}

const FAT_MBR_TYPES = new Set(['01', '04', '06', '0b', '0c', '0e', 'ef']);
const GPT_BASIC_DATA = 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7';
const GPT_ESP = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';

function readAt(fd: number, pos: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  const n = readSync(fd, b, 0, len, pos);
  return b.subarray(0, n);
}

/** Size of a regular file or a block device (fstat gives 0 for the latter: ask sysfs). */
export function byteSize(fd: number): number {
  const st = fstatSync(fd);
  if (!st.isBlockDevice()) return st.size;
  const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & 0xfff00n));
  try {
    return Number(readFileSync(`/sys/dev/block/${major}:${minor}/size`, 'utf8').trim()) * SECTOR; // always 512-byte units
  } catch {
    // no sysfs: find the last readable sector by bisection
    const one = Buffer.alloc(1);
    let lo = 0;
    let hi = 1;
    while (readSync(fd, one, 0, 1, hi * SECTOR) === 1) hi *= 2;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (readSync(fd, one, 0, 1, mid * SECTOR) === 1) lo = mid;
      else hi = mid;
    }
    return (lo + 1) * SECTOR;
  }
}

function guid(b: Buffer): string {
  const h = b.toString('hex');
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function readPartitionTable(path: string): PartitionTable {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new ImageError(`${path}: cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const size = byteSize(fd);
    const mbr = readAt(fd, 0, SECTOR);
    if (mbr.length < SECTOR || mbr[510] !== 0x55 || mbr[511] !== 0xaa) {
      throw new ImageError(`${path}: no partition table (no MBR signature 55 AA at byte 510); is this a disk image?`);
    }
    const parts: Partition[] = [];
    let protective = false;
    for (let i = 0; i < 4; i++) {
      const e = mbr.subarray(446 + i * 16, 446 + (i + 1) * 16);
      const type = e[4]!;
      const lba = e.readUInt32LE(8);
      const count = e.readUInt32LE(12);
      if (type === 0 || count === 0) continue;
      if (type === 0xee) protective = true;
      parts.push({ index: i + 1, start: lba * SECTOR, size: count * SECTOR, type: type.toString(16).padStart(2, '0'), scheme: 'mbr' });
    }
    let table: PartitionTable = { scheme: 'mbr', partitions: parts, size };
    if (protective) table = readGpt(fd, path, size);
    for (const p of table.partitions) {
      if (p.start + p.size > size) {
        throw new ImageError(`${path}: truncated: partition ${p.index} ends at byte ${p.start + p.size} but the image has only ${size} bytes; download or decompress it again`);
      }
    }
    return table;
  } finally {
    closeSync(fd);
  }
}

function readGpt(fd: number, path: string, size: number): PartitionTable {
  const hdr = readAt(fd, SECTOR, SECTOR);
  if (hdr.subarray(0, 8).toString('latin1') !== 'EFI PART') throw new ImageError(`${path}: protective MBR but no GPT header at LBA 1`);
  const entriesLba = Number(hdr.readBigUInt64LE(72));
  const count = hdr.readUInt32LE(80);
  const esize = hdr.readUInt32LE(84);
  if (esize < 128 || count > 1024) throw new ImageError(`${path}: GPT header has an implausible entry table (${count} entries of ${esize} bytes)`);
  const table = readAt(fd, entriesLba * SECTOR, count * esize);
  if (table.length < count * esize) throw new ImageError(`${path}: truncated: the GPT entry table runs past the end of the image`);
  const parts: Partition[] = [];
  for (let i = 0; i < count; i++) {
    const e = table.subarray(i * esize, (i + 1) * esize);
    if (e.subarray(0, 16).every((b) => b === 0)) continue;
    const first = Number(e.readBigUInt64LE(32));
    const last = Number(e.readBigUInt64LE(40));
    const name = e.subarray(56, 128).toString('utf16le').replace(/\0.*$/s, '');
    parts.push({ index: i + 1, start: first * SECTOR, size: (last - first + 1) * SECTOR, type: guid(e.subarray(0, 16)), scheme: 'gpt', name });
  }
  return { scheme: 'gpt', partitions: parts, size };
}

/** The FAT boot sector's facts, or undefined when the partition does not hold a FAT file system. */
export function readFatInfo(path: string, p: Partition): FatInfo | undefined {
  const fd = openSync(path, 'r');
  try {
    const bs = readAt(fd, p.start, SECTOR);
    if (bs.length < SECTOR || bs[510] !== 0x55 || bs[511] !== 0xaa) return undefined;
    const bytesPerSector = bs.readUInt16LE(11);
    const secPerCluster = bs[13]!;
    if (![512, 1024, 2048, 4096].includes(bytesPerSector) || secPerCluster === 0 || (secPerCluster & (secPerCluster - 1)) !== 0) return undefined;
    const fat32 = bs.readUInt16LE(22) === 0; // sectors per FAT (16-bit) is 0 on FAT32
    const typeStr = bs.subarray(fat32 ? 82 : 54, fat32 ? 90 : 62).toString('latin1');
    if (!typeStr.startsWith('FAT')) return undefined;
    const label = bs.subarray(fat32 ? 71 : 43, fat32 ? 82 : 54).toString('latin1').trim();
    const fatType = fat32 ? 'FAT32' : typeStr.startsWith('FAT12') ? 'FAT12' : 'FAT16';
    return { label: label === 'NO NAME' ? '' : label, fatType, clusterBytes: bytesPerSector * secPerCluster };
  } finally {
    closeSync(fd);
  }
}

/** The first partition of a FAT type that holds a FAT file system: what the Pi boots from. */
export function findBootPartition(path: string, table: PartitionTable): { part: Partition; fat: FatInfo } {
  for (const p of table.partitions) {
    const typed = p.scheme === 'mbr' ? FAT_MBR_TYPES.has(p.type) : p.type === GPT_BASIC_DATA || p.type === GPT_ESP;
    if (!typed) continue;
    const fat = readFatInfo(path, p);
    if (fat) return { part: p, fat };
  }
  const seen = table.partitions.map((p) => `${p.index}:${p.type}`).join(', ') || 'none';
  throw new ImageError(`${path}: no FAT boot partition (partitions: ${seen}); is this a Raspberry Pi OS or Ubuntu image?`);
}
