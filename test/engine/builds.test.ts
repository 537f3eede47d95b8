// Which engine build a host gets, from its CPU facts (data in, choice out), and how the facts are
// read from what a host prints (glibc's LD_SHOW_AUXV and /proc/cpuinfo, as real Pis and qemu show them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { armLevel, chooseBuild, describeCpu, type CpuFacts } from '../../src/engine/builds.js';
import { cpuFactsOf } from '../../src/provision/cpu-facts.js';

const kv = (o: Record<string, string>) => new Map(Object.entries(o));
const PI3: CpuFacts = cpuFactsOf('arm64', kv({ hwcap: '8fb', cpupart: '0xd03' }));
const PI5: CpuFacts = cpuFactsOf('arm64', kv({ hwcap: '119ffb', cpupart: '0xd0b', board: 'Raspberry Pi 5 Model B Rev 1.0' }));
const ARMHF: CpuFacts = cpuFactsOf('armhf', kv({ hwcap: 'half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt', cpupart: '0xd03' }));
const X64: CpuFacts = cpuFactsOf('x64', kv({ hwcap: '1f8bfbff', cpupart: 'Intel(R) Xeon(R) CPU' }));

test('CPU facts: arm64 hardware capabilities decoded from the auxv mask, the core named by its part number', () => {
  assert.deepEqual(PI3, { arch: 'arm64', features: ['fp', 'asimd', 'aes', 'pmull', 'sha1', 'sha2', 'crc32', 'cpuid'], model: 'Cortex-A53' });
  assert.ok(PI5.features.includes('atomics') && PI5.features.includes('asimddp') && PI5.features.includes('fphp'));
  assert.equal(PI5.board, 'Raspberry Pi 5 Model B Rev 1.0');
  assert.equal(ARMHF.model, 'Cortex-A53', 'a Pi 3 on 32-bit Pi OS');
  assert.ok(ARMHF.features.includes('neon'));
  assert.deepEqual(X64.features, [], 'x86 capability bits are not ARM features');
  // an x86 model name seen from an emulated ARM host is not the Pi's CPU
  assert.equal(cpuFactsOf('arm64', kv({ hwcap: '8fb', cpupart: 'Intel(R) Xeon(R) CPU' })).model, undefined);
});

test('the CPU in words: core and architecture level', () => {
  assert.equal(describeCpu(PI3), 'Cortex-A53, ARMv8.0');
  assert.equal(describeCpu(PI5), 'Cortex-A76, ARMv8.2');
  assert.equal(armLevel({ arch: 'arm64', features: ['fp', 'asimd', 'atomics'] }), 'ARMv8.1');
  assert.equal(describeCpu({ arch: 'arm64', features: ['fp'] }), 'arm64 CPU, ARMv8.0');
  assert.equal(describeCpu(ARMHF), 'Cortex-A53, ARMv7 (32-bit)');
});

test('auto: onnxruntime where a build runs (x64, every arm64 CPU measured), tfjs on armhf', () => {
  assert.equal(chooseBuild(PI3).id, 'onnxruntime-node@1.30.0');
  assert.equal(chooseBuild(PI5).id, 'onnxruntime-node@1.30.0');
  assert.equal(chooseBuild(X64).id, 'onnxruntime-node@1.30.0');
  assert.equal(chooseBuild(ARMHF).id, 'tfjs');
  assert.equal(chooseBuild(PI3, 'onnx').module, 'onnxruntime-node');
  assert.equal(chooseBuild(X64, 'tfjs').engine, 'tfjs');
});

test('a forced build is kept where it may run and refused, before anything is sent, where it cannot', () => {
  assert.equal(chooseBuild(PI3, 'onnxruntime-node@1.30.0').id, 'onnxruntime-node@1.30.0');
  assert.throws(() => chooseBuild(ARMHF, 'onnx', 'pi7'), /^Error: pi7 \(Cortex-A53, ARMv7 \(32-bit\)\): engine onnx is forced, but onnxruntime has no build for 32-bit ARM; use engine: auto \(pifarm picks tfjs here\) or tfjs, in farm\.engine or on the host$/);
  assert.throws(() => chooseBuild(ARMHF, 'onnxruntime-node@1.30.0'), /engine onnxruntime-node@1\.30\.0 is forced, but onnxruntime has no build for 32-bit ARM/);
  assert.throws(() => chooseBuild(X64, 'tensorrt'), /unknown engine "tensorrt"; expected one of auto, onnx, tfjs, onnxruntime-node@1\.30\.0$/);
});

test('the build table names the onnxruntime-node release that is installed (a version bump updates both)', () => {
  const installed = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  assert.equal(chooseBuild(X64).id, `onnxruntime-node@${installed}`);
});
