// `pifarm emulate ...`: emulated Pis on this machine. profiles; calibrate (measured CPU quota vs a
// profile); net apply|remove (the shared Wi-Fi medium on the virtual-Pi bridge).
import { parseFlags, numberFlag, UsageError, type CliCommand } from '../command.js';
import { BRIDGE } from '../../lab/vpi/cleanup.js';
import { table } from '../../report/text-table.js';
import { PROFILES, findProfile } from '../../lab/emulate/profiles.js';
import { calibrate } from '../../lab/emulate/calibrate.js';
import { applyNetEmulation, removeNetEmulation, WIFI_DEFAULTS } from '../../lab/emulate/network.js';

const HELP = `usage: pifarm emulate profiles
       pifarm emulate calibrate [--profile pi3|pi4|pi5] [--gflops N] [--layer conv3_1] [--repeats 5] [--json]
       pifarm emulate net apply [--bridge ${BRIDGE}] [--rate 300] [--delay 3] [--loss 0]
       pifarm emulate net remove [--bridge ${BRIDGE}]

profiles   the Pi profiles: effective GFLOPS, memory, power, and where each figure comes from
calibrate  times one VGG16 layer on one core of this machine, sets a CPU quota for the profile's
           speed, times the layer again under the quota and prints achieved vs profile (root)
net        the shared Wi-Fi medium on the virtual-Pi bridge: one rate limit (Mbit/s) for all
           traffic of all devices, plus delay (ms) and loss (%) where the kernel has sch_netem (root)`;

const FLAGS = {
  profile: { type: 'string' },
  gflops: { type: 'string' },
  layer: { type: 'string' },
  repeats: { type: 'string' },
  json: { type: 'boolean' },
  bridge: { type: 'string' },
  rate: { type: 'string' },
  delay: { type: 'string' },
  loss: { type: 'string' },
} as const;

export const command: CliCommand = {
  name: 'emulate',
  summary: 'emulated Pis: profiles, CPU quota calibration, the shared Wi-Fi medium on the bridge',
  async run(argv) {
    const { values, positionals } = parseFlags(argv, FLAGS, HELP);
    const [sub, action] = positionals;
    if (sub === 'profiles') {
      const rows = Object.values(PROFILES).map((p) => [p.name, p.gflops.toFixed(2), p.denseGflops.toFixed(3), String(p.ramMb), `${p.power.idleW}/${p.power.busyW}`, p.source]);
      console.log(table(['profile', 'conv GFLOPS', 'dense GFLOPS', 'RAM MB', 'idle/busy W', 'source'], rows));
      return 0;
    }
    if (sub === 'calibrate') {
      const gflops = values.gflops === undefined ? undefined : numberFlag(values.gflops, 'gflops', 0, { min: 0.001 });
      const profile = findProfile(values.profile ?? 'pi3', gflops);
      const c = await calibrate(profile, { layer: values.layer ?? 'conv3_1', repeats: numberFlag(values.repeats, 'repeats', 5, { min: 1, integer: true }) });
      if (values.json) {
        console.log(JSON.stringify(c, null, 2));
        return 0;
      }
      console.log(`${c.model} ${c.layer}: ${c.unthrottled.gflop.toFixed(3)} GFLOP per frame`);
      console.log(`this machine, one core: ${c.unthrottled.medianCpuMs.toFixed(1)} ms CPU per run -> ${c.unthrottled.cpuGflops.toFixed(1)} GFLOPS (wall ${c.unthrottled.medianMs.toFixed(1)} ms)`);
      console.log(`profile ${c.profile}: ${c.profileGflops.toFixed(2)} GFLOPS -> quota ${(c.quotaCores * 100).toFixed(2)}% of one core, period ${c.periodUs / 1000} ms`);
      console.log(`under the quota: ${c.throttled.medianMs.toFixed(0)} ms per run -> ${c.throttled.gflops.toFixed(2)} GFLOPS achieved, x${c.ratio.toFixed(3)} of the profile (${c.throttledPeriods} periods throttled)`);
      return 0;
    }
    if (sub === 'net' && (action === 'apply' || action === 'remove')) {
      const bridge = values.bridge ?? BRIDGE;
      if (action === 'remove') {
        await removeNetEmulation(bridge);
        console.log(`network emulation removed from ${bridge}`);
        return 0;
      }
      const n = {
        bridge,
        rateMbit: numberFlag(values.rate, 'rate', WIFI_DEFAULTS.rateMbit, { min: 0.001 }),
        delayMs: numberFlag(values.delay, 'delay', WIFI_DEFAULTS.delayMs, { min: 0 }),
        lossPct: numberFlag(values.loss, 'loss', WIFI_DEFAULTS.lossPct, { min: 0 }),
      };
      const r = await applyNetEmulation(n);
      console.log(`${bridge}: ${n.rateMbit} Mbit/s shared by ${r.ports.length} ports (${r.ports.join(', ') || 'none yet'}) and the host${r.netem ? `, ${n.delayMs} ms, ${n.lossPct}% loss` : ''}`);
      for (const w of r.warnings) console.log(`warning: ${w}`);
      return 0;
    }
    throw new UsageError(HELP);
  },
};
