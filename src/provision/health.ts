// A Pi's health, read in one round trip: SoC temperature, throttling and under-voltage now and since
// boot, CPU frequency, load, free memory and disk, clock synchronisation, uptime. The throttle bits
// come from `vcgencmd get_throttled` or, where vcgencmd is absent (Ubuntu, a minimal image), the
// firmware's own sysfs file. Parsing is pure (data in, health out) so its words are testable alone.
import type { Transport } from '../transport/transport.js';

const THROTTLED_SYSFS = '/sys/devices/platform/soc/soc:firmware/get_throttled';

export const HEALTH_SCRIPT = [
  `if command -v vcgencmd >/dev/null 2>&1; then echo "throttled=$(vcgencmd get_throttled 2>/dev/null | sed 's/^throttled=//')"; elif [ -r ${THROTTLED_SYSFS} ]; then echo "throttled=0x$(cat ${THROTTLED_SYSFS})"; fi`,
  'echo "temp=$(cat /sys/class/thermal/thermal_zone0/temp 2>/dev/null)"',
  'echo "freq=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq 2>/dev/null)"',
  'echo "maxfreq=$(cat /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq 2>/dev/null)"',
  'echo "load=$(cut -d" " -f1-3 /proc/loadavg)"',
  `echo "memavail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)"`,
  `echo "memtotal=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"`,
  `echo "diskfree=$(df -Pk / 2>/dev/null | awk 'NR==2 {print $4}')"`,
  'echo "ntp=$(timedatectl show -p NTPSynchronized --value 2>/dev/null)"',
  'echo "uptime=$(cut -d" " -f1 /proc/uptime)"',
  'true',
].join('; ');

export interface Throttling {
  raw: string;
  underVoltageNow: boolean;
  underVoltageSinceBoot: boolean;
  freqCappedNow: boolean;
  freqCappedSinceBoot: boolean;
  throttledNow: boolean;
  throttledSinceBoot: boolean;
  softTempLimitNow: boolean;
  softTempLimitSinceBoot: boolean;
}

export interface Health {
  /** degrees Celsius */
  tempC?: number;
  throttling?: Throttling;
  cpuMHz?: number;
  maxMHz?: number;
  load?: [number, number, number];
  memAvailableMb?: number;
  memTotalMb?: number;
  diskFreeMb?: number;
  /** undefined where the host does not say (no timedatectl) */
  clockSynced?: boolean;
  uptimeS?: number;
  /** sentences for what is wrong, e.g. "under-voltage since boot: the power supply is too weak" */
  warnings: string[];
}

/** The firmware's get_throttled bits (Raspberry Pi documentation: vcgencmd). */
export function parseThrottled(raw: string): Throttling | undefined {
  const v = /^(0x)?[0-9a-f]+$/i.test(raw.trim()) ? parseInt(raw.trim().replace(/^0x/i, ''), 16) : NaN;
  if (!Number.isFinite(v)) return undefined;
  const bit = (n: number) => (v & (1 << n)) !== 0;
  return {
    raw: `0x${v.toString(16)}`,
    underVoltageNow: bit(0),
    freqCappedNow: bit(1),
    throttledNow: bit(2),
    softTempLimitNow: bit(3),
    underVoltageSinceBoot: bit(16),
    freqCappedSinceBoot: bit(17),
    throttledSinceBoot: bit(18),
    softTempLimitSinceBoot: bit(19),
  };
}

const num = (s: string | undefined) => (s !== undefined && s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : undefined);

export function parseHealth(stdout: string, host: string): Health {
  const kv = new Map(stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()] as const));
  const h: Health = { warnings: [] };
  const temp = num(kv.get('temp'));
  if (temp !== undefined) h.tempC = temp / 1000;
  const t = kv.get('throttled') ? parseThrottled(kv.get('throttled')!) : undefined;
  if (t) h.throttling = t;
  const freq = num(kv.get('freq'));
  if (freq !== undefined) h.cpuMHz = Math.round(freq / 1000);
  const max = num(kv.get('maxfreq'));
  if (max !== undefined) h.maxMHz = Math.round(max / 1000);
  const load = kv.get('load')?.split(/\s+/).slice(0, 3).map(Number);
  if (load?.length === 3 && load.every(Number.isFinite)) h.load = load as [number, number, number];
  const ma = num(kv.get('memavail'));
  if (ma !== undefined) h.memAvailableMb = Math.round(ma / 1024);
  const mt = num(kv.get('memtotal'));
  if (mt !== undefined) h.memTotalMb = Math.round(mt / 1024);
  const df = num(kv.get('diskfree'));
  if (df !== undefined) h.diskFreeMb = Math.round(df / 1024);
  const ntp = kv.get('ntp');
  if (ntp === 'yes' || ntp === 'no') h.clockSynced = ntp === 'yes';
  const up = num(kv.get('uptime')?.split(/\s+/)[0]);
  if (up !== undefined) h.uptimeS = up;
  h.warnings = healthWarnings(h, host);
  return h;
}

function when(now: boolean, since: boolean): string | undefined {
  return now ? 'now' : since ? 'since boot' : undefined;
}

/** What a Pi owner should know, in words, with what to do. */
export function healthWarnings(h: Health, host: string): string[] {
  const out: string[] = [];
  const t = h.throttling;
  const speed = h.cpuMHz !== undefined ? `; it runs at ${h.cpuMHz} MHz${h.maxMHz ? ` of ${h.maxMHz}` : ''}` : '';
  if (t) {
    const uv = when(t.underVoltageNow, t.underVoltageSinceBoot);
    if (uv) out.push(`${host}: under-voltage ${uv}: the power supply is too weak${speed}`);
    const th = when(t.throttledNow || t.freqCappedNow, t.throttledSinceBoot || t.freqCappedSinceBoot);
    if (th) out.push(`${host}: throttled ${th}${uv ? ' (by the under-voltage)' : ' (heat: a heatsink or a fan helps)'}${speed}`);
    const soft = when(t.softTempLimitNow, t.softTempLimitSinceBoot);
    if (soft && !th) out.push(`${host}: at the soft temperature limit ${soft}${h.tempC !== undefined ? ` (${h.tempC.toFixed(0)} °C)` : ''}`);
  }
  if (h.clockSynced === false) out.push(`${host}: clock not synchronised: apt refuses package lists "not valid yet" until it is (check NTP or set the date)`);
  if (h.diskFreeMb !== undefined && h.diskFreeMb < 200) out.push(`${host}: only ${h.diskFreeMb} MB free on / (a release needs about 50 MB)`);
  return out;
}

export async function readHealth(t: Transport, host: string): Promise<Health> {
  const r = await t.exec(HEALTH_SCRIPT, { timeoutMs: 30_000 });
  return parseHealth(r.stdout, host);
}
