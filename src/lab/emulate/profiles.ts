// Pi profiles for emulation: how fast a Pi computes (effective GFLOPS as a DNN framework achieves
// them, not the chip's peak), how much memory it has and what power it draws. Every figure names
// its source. The CPU quota of an emulated Pi is derived from these (see quota.ts), so changing a
// figure here changes the emulation; `--gflops` overrides the compute figure for one run.
import { PAPER_DEVICES } from '../../report/paper-data.js';

/**
 * Seconds per VGG16 layer on a Raspberry Pi 3 with Keras/TensorFlow, as the paper's authors
 * measured them (public repository parallel-ml/fc, models/stats/vgg16_layerwise_pi_time; the
 * source's duplicated layer names mapped to ours).
 */
export const PI3_VGG16_LAYER_SECONDS: Record<string, number> = {
  conv1_1: 0.247, conv1_2: 1.249, pool1: 0.207,
  conv2_1: 0.501, conv2_2: 0.931, pool2: 0.099,
  conv3_1: 0.404, conv3_2: 0.765, conv3_3: 0.764, pool3: 0.06,
  conv4_1: 0.373, conv4_2: 0.701, conv4_3: 0.699, pool4: 0.039,
  conv5_1: 0.215, conv5_2: 0.218, conv5_3: 0.218, pool5: 0.013,
  flatten: 0.006, fc1: 2.483, fc2: 0.114, fc3: 0.063,
};

/** FLOPs (2 x MACs) of VGG16's layers (model/shapes.ts; fixed by the architecture). */
const VGG16_CONV_GFLOP = 30.7; // 13 conv layers, 15.35 GMAC
const VGG16_FC23_GFLOP = 0.0336 + 0.0082; // fc2 4096x4096, fc3 4096x1000

function sumOf(names: (n: string) => boolean): number {
  return Object.entries(PI3_VGG16_LAYER_SECONDS).filter(([n]) => names(n)).reduce((a, [, s]) => a + s, 0);
}

/** The paper's Pi 3: VGG16's 13 convs take 7.29 s (30.7 GFLOP) -> 4.2 effective GFLOPS. */
export const PI3_CONV_GFLOPS = VGG16_CONV_GFLOP / sumOf((n) => n.startsWith('conv'));
/**
 * Dense layers are memory-bound on a Pi (every weight is read once per frame): fc2 and fc3 take
 * 0.177 s for 0.042 GFLOP -> 0.24 GFLOPS. fc1 (2.48 s) is left out: its 411 MB of weights do not
 * fit beside the OS in 1 GB, so its time is mostly paging, which the memory limit stands for.
 */
export const PI3_DENSE_GFLOPS = VGG16_FC23_GFLOP / sumOf((n) => n === 'fc2' || n === 'fc3');

export interface PiProfile {
  name: string;
  /** effective GFLOPS on conv layers (the compute-bound part), the figure the CPU quota matches */
  gflops: number;
  /** effective GFLOPS on dense layers (memory-bound on a Pi): a stage of dense layers gets its quota from this */
  denseGflops: number;
  ramMb: number;
  cores: number;
  /**
   * how many times longer the Pi takes than one core of this machine for the runtime's own scalar
   * work (Avro, merging, sockets); the layers' ratios do not apply to it (see quota.ts)
   */
  runtimeSlowdown: number;
  power: { idleW: number; busyW: number };
  source: string;
}

// Pi 4 and Pi 5 relative to the Pi 3: CPU benchmarks of the same kind on all three boards.
// sysbench cpu, 4 threads (leoncode.co.uk/articles/raspberry-pi-benchmarks): Pi 3B+ 2459 events/s,
// Pi 4 5901; the Pi 3B+ runs at 1.4 GHz, the paper's Pi 3 at 1.2 GHz -> Pi 4 = 2.40 x 1.4/1.2 = 2.80 x Pi 3.
// HPL (github.com/geerlingguy/top500-benchmark README): Pi 4 @1.8 GHz 11.889 Gflops, Pi 5 @2.4 GHz
// 30.249 Gflops -> Pi 5 = 2.54 x Pi 4.
const PI4_OVER_PI3 = (5900.85 / 2459.22) * (1.4 / 1.2);
const PI5_OVER_PI4 = 30.249 / 11.889;
/**
 * A Pi 3's Cortex-A53 at 1.2 GHz against one core of a current x86 server on scalar JavaScript:
 * about 10x (the factor the cost model's per-hop overhead assumes too). An estimate, not measured
 * on a Pi; the later boards divide it by their speed-up.
 */
export const PI3_RUNTIME_SLOWDOWN = 10;

/** Busy power the way the paper's Pi 3 relates average to idle and full power. */
function busyLikePaper(idleW: number, fullW: number): number {
  const d = PAPER_DEVICES['raspberry-pi-3'];
  return Math.round((idleW + ((d.averageW - d.idleW) / (d.fullW - d.idleW)) * (fullW - idleW)) * 100) / 100;
}

export const PROFILES: Record<string, PiProfile> = {
  pi3: {
    name: 'pi3',
    gflops: PI3_CONV_GFLOPS,
    denseGflops: PI3_DENSE_GFLOPS,
    ramMb: PAPER_DEVICES['raspberry-pi-3'].ramMb,
    cores: 4,
    runtimeSlowdown: PI3_RUNTIME_SLOWDOWN,
    // busy: the paper's average power of a Pi 3 running the pipeline (3.0 W), not its stress-test
    // maximum (6.5 W): with it, the paper's dynamic energies follow from the layer times
    power: { idleW: PAPER_DEVICES['raspberry-pi-3'].idleW, busyW: PAPER_DEVICES['raspberry-pi-3'].averageW },
    source: "the paper's own Raspberry Pi 3 (Keras): VGG16 per-layer times from parallel-ml/fc; power from the paper",
  },
  pi4: {
    name: 'pi4',
    gflops: PI3_CONV_GFLOPS * PI4_OVER_PI3,
    denseGflops: PI3_DENSE_GFLOPS * PI4_OVER_PI3,
    ramMb: 4096,
    cores: 4,
    runtimeSlowdown: PI3_RUNTIME_SLOWDOWN / PI4_OVER_PI3,
    // idle about 2.7 W as commonly measured; full load 7.2 W (HPL, top500-benchmark); busy placed
    // between them like the paper's Pi 3 (average 3.0 W is 33% of the way from 1.3 idle to 6.5 full)
    power: { idleW: 2.7, busyW: busyLikePaper(2.7, 7.2) },
    source: 'pi3 x 2.80 (sysbench cpu 4 threads Pi 4 vs Pi 3B+, leoncode.co.uk, clock-corrected to 1.2 GHz); 4 GB model',
  },
  pi5: {
    name: 'pi5',
    gflops: PI3_CONV_GFLOPS * PI4_OVER_PI3 * PI5_OVER_PI4,
    denseGflops: PI3_DENSE_GFLOPS * PI4_OVER_PI3 * PI5_OVER_PI4,
    ramMb: 4096,
    cores: 4,
    runtimeSlowdown: PI3_RUNTIME_SLOWDOWN / PI4_OVER_PI3 / PI5_OVER_PI4,
    // idle about 2.7 W as commonly measured; full load 11 W (HPL, top500-benchmark); busy as for pi4
    power: { idleW: 2.7, busyW: busyLikePaper(2.7, 11) },
    source: 'pi4 x 2.54 (HPL Pi 5 30.249 / Pi 4 11.889 Gflops, geerlingguy/top500-benchmark); 4 GB model',
  },
};

export class ProfileError extends Error {}

/** A profile by name, with an optional compute override (`--gflops`). */
export function findProfile(name: string, gflops?: number): PiProfile {
  const p = PROFILES[name];
  if (!p) throw new ProfileError(`unknown Pi profile "${name}"; valid profiles: ${Object.keys(PROFILES).join(', ')} (or override the speed with --gflops)`);
  if (gflops === undefined) return p;
  if (!(gflops > 0)) throw new ProfileError(`--gflops must be a positive number, got ${gflops}`);
  // Dense speed scales with the override so the conv/dense ratio of the profile is kept.
  return { ...p, gflops, denseGflops: p.denseGflops * (gflops / p.gflops), runtimeSlowdown: p.runtimeSlowdown * (p.gflops / gflops), source: `${p.source}; compute overridden to ${gflops} GFLOPS` };
}
