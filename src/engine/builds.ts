// Engine builds: which package really runs a block on a given CPU. onnxruntime's official aarch64
// binaries have changed what they require of the CPU from release to release (the README's table,
// from `npm run bench -- engine --arch arm64`), and 32-bit ARM has no onnxruntime build at all, so
// the build is chosen per host from the CPU the host reports, not once for the farm. A second
// onnxruntime release would be one more entry here (an npm alias lets two share the lockfile).
// Pure data and decisions: the control side chooses, the node only loads the module it is told.

export type BuildArch = 'x64' | 'arm64' | 'armhf';

export interface EngineBuild {
  /** what a user writes in farm.engine to force this build, e.g. "onnxruntime-node@1.30.0" */
  id: string;
  engine: 'onnx' | 'tfjs';
  /** the package the node imports (an npm alias lets two onnxruntime versions share a lockfile) */
  module: string;
  /** where it is measured to run */
  runsOn: BuildArch[];
  /** where it is known not to run, and why (said when a user forces it there) */
  failsOn: Partial<Record<BuildArch, string>>;
}

export const ORT_CURRENT: EngineBuild = {
  id: 'onnxruntime-node@1.30.0',
  engine: 'onnx',
  module: 'onnxruntime-node',
  // measured on emulated Cortex-A53, A72 and A76 (bench engine --arch arm64); releases differ here,
  // which is why the build is a per-host choice and every node gives a known answer before it is used
  runsOn: ['x64', 'arm64'],
  failsOn: { armhf: 'onnxruntime has no build for 32-bit ARM' },
};

export const TFJS_PORTABLE: EngineBuild = {
  id: 'tfjs',
  engine: 'tfjs',
  // tfjs-node where it installed, else the WebAssembly backend (engine/tfjs-backend.ts)
  module: '@tensorflow/tfjs',
  runsOn: ['x64', 'arm64', 'armhf'],
  failsOn: {},
};

export const ENGINE_BUILDS: EngineBuild[] = [ORT_CURRENT, TFJS_PORTABLE];

/** What farm.engine may say: a choice per host, an engine, or one build forced everywhere. */
export const ENGINE_CHOICES = ['auto', 'onnx', 'tfjs', ...ENGINE_BUILDS.filter((b) => b.engine === 'onnx').map((b) => b.id)];

/** The CPU as a host reports it (provision/facts.ts reads it; a test gives it as data). */
export interface CpuFacts {
  arch: BuildArch;
  /** e.g. "Cortex-A72", from /proc/cpuinfo's CPU part; absent where the kernel does not say */
  model?: string;
  /** the kernel's hardware capabilities (AT_HWCAP), e.g. fp asimd crc32 atomics asimddp */
  features: string[];
  /** the board, from the device tree: "Raspberry Pi 4 Model B Rev 1.4" */
  board?: string;
}

export class EngineChoiceError extends Error {
  readonly userFacing = true;
}

/** ARMv8.1 added the LSE atomics and ARMv8.2 fp16 and dot product; the A76 of a Pi 5 has all three. */
export function armLevel(cpu: CpuFacts): string {
  if (cpu.arch === 'armhf') return cpu.features.includes('vfpv4') ? 'ARMv7 (32-bit)' : 'ARMv6/7 (32-bit)';
  if (cpu.arch !== 'arm64') return 'x86-64';
  if (cpu.features.includes('asimddp') || cpu.features.includes('fphp')) return 'ARMv8.2';
  return cpu.features.includes('atomics') ? 'ARMv8.1' : 'ARMv8.0';
}

/** "Cortex-A72, ARMv8.0": the CPU as messages name it. */
export function describeCpu(cpu: CpuFacts): string {
  return [cpu.model ?? `${cpu.arch} CPU`, armLevel(cpu)].join(', ');
}

/** The build pifarm picks on this CPU unless the inventory forces one. */
export function defaultBuild(cpu: CpuFacts): EngineBuild {
  return ENGINE_BUILDS.find((b) => b.runsOn.includes(cpu.arch)) ?? TFJS_PORTABLE;
}

/**
 * The build for one host. `choice` is the host's engine (its own, else farm.engine): "auto" (the
 * default build of the CPU), "onnx" (the onnxruntime build for the CPU), "tfjs", or a build id. A
 * choice that cannot run on the CPU at all is refused here, before anything is sent to the host.
 */
export function chooseBuild(cpu: CpuFacts, choice = 'auto', host = 'host'): EngineBuild {
  const fallback = defaultBuild(cpu);
  if (choice === 'auto') return fallback;
  if (choice === 'tfjs') return TFJS_PORTABLE;
  const build = choice === 'onnx' ? (fallback.engine === 'onnx' ? fallback : ORT_CURRENT) : ENGINE_BUILDS.find((b) => b.id === choice);
  if (!build) throw new EngineChoiceError(`farm.engine: unknown engine "${choice}"; expected one of ${ENGINE_CHOICES.join(', ')}`);
  const why = build.failsOn[cpu.arch];
  if (why) throw new EngineChoiceError(`${host} (${describeCpu(cpu)}): engine ${choice} is forced, but ${why}; use engine: auto (pifarm picks ${fallback.id} here) or tfjs, in farm.engine or on the host`);
  return build;
}

/** The build a node config names: by module, defaulting to the engine's usual package. */
export function buildOfModule(engine: 'onnx' | 'tfjs', module?: string): EngineBuild {
  if (engine === 'tfjs') return TFJS_PORTABLE;
  return ENGINE_BUILDS.find((b) => b.module === module) ?? ORT_CURRENT;
}
