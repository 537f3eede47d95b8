// The CPU facts a host's engine build is chosen by (engine/builds.ts): the kernel's hardware
// capabilities and the CPU's name. The capabilities come from the ELF auxiliary vector as glibc's
// loader prints it (LD_SHOW_AUXV): it is what the kernel, or qemu's user-mode emulation of a CPU,
// tells programs, and what onnxruntime's own CPU detection reads. /proc/cpuinfo names the core.
import type { BuildArch, CpuFacts } from '../engine/builds.js';

/** Shell lines whose output cpuFactsOf parses: run in the facts round trip. */
export const CPU_SCRIPT = [
  `LD_SHOW_AUXV=1 /bin/true 2>/dev/null | sed -n 's/^AT_HWCAP:[[:space:]]*/hwcap=/p'`,
  `{ grep -m1 '^CPU part' /proc/cpuinfo || grep -m1 '^model name' /proc/cpuinfo; } 2>/dev/null | sed 's/^[^:]*:[[:space:]]*/cpupart=/'`,
  `[ -r /proc/device-tree/model ] && echo "board=$(tr -d '\\0' < /proc/device-tree/model)"`,
];

/** AT_HWCAP bits of arm64 (the kernel's arch/arm64/include/uapi/asm/hwcap.h), by bit number. */
const ARM64_HWCAPS = ['fp', 'asimd', 'evtstrm', 'aes', 'pmull', 'sha1', 'sha2', 'crc32', 'atomics', 'fphp', 'asimdhp', 'cpuid', 'asimdrdm', 'jscvt', 'fcma',
  'lrcpc', 'dcpop', 'sha3', 'sm3', 'sm4', 'asimddp', 'sha512', 'sve', 'asimdfhm', 'dit', 'uscat', 'ilrcpc', 'flagm', 'ssbs', 'sb', 'paca', 'pacg'];

/** ARM's primary part numbers (MIDR) of the cores Raspberry Pis and their kin use. */
const ARM_PARTS: Record<string, string> = {
  '0xb76': 'ARM1176', '0xc07': 'Cortex-A7', '0xc0f': 'Cortex-A15', '0xd03': 'Cortex-A53', '0xd04': 'Cortex-A35', '0xd05': 'Cortex-A55',
  '0xd07': 'Cortex-A57', '0xd08': 'Cortex-A72', '0xd09': 'Cortex-A73', '0xd0b': 'Cortex-A76', '0xd0d': 'Cortex-A77',
};

function hwcaps(arch: BuildArch, raw: string | undefined): string[] {
  if (!raw || arch === 'x64') return [];
  const v = raw.trim();
  // glibc prints names on 32-bit ARM and a hex mask on arm64
  if (!/^(0x)?[0-9a-f]+$/i.test(v)) return v.split(/\s+/);
  const mask = BigInt(v.startsWith('0x') ? v : `0x${v}`);
  return ARM64_HWCAPS.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

export function cpuFactsOf(arch: BuildArch, kv: Map<string, string>): CpuFacts {
  const cpu: CpuFacts = { arch, features: hwcaps(arch, kv.get('hwcap')) };
  const part = kv.get('cpupart')?.trim().toLowerCase();
  const model = part ? ARM_PARTS[part] : undefined;
  // an x86 "model name" under an emulated ARM host names the emulator's machine, not the Pi's CPU
  if (model) cpu.model = model;
  else if (arch === 'x64' && part) cpu.model = kv.get('cpupart')!.trim();
  const board = kv.get('board')?.trim();
  if (board) cpu.board = board;
  return cpu;
}
