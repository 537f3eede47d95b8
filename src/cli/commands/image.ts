// `pifarm image prep | inspect | flash`: SD card images for the farm (issue 5). Parses flags,
// asks for secrets and confirmation, prints; the work is in src/image.
import { createInterface } from 'node:readline';
import { parseFlags, UsageError, type CliCommand } from '../command.js';
import { table as renderTable } from '../../report/text-table.js';
import { loadHosts } from '../../inventory/load.js';
import { ImageError } from '../../image/errors.js';
import { FORMATS, type Format } from '../../image/flavour.js';
import { rawFromFlags, rawFromInventory, type ImageOverrides } from '../../image/from-inventory.js';
import { inspectImage } from '../../image/inspect.js';
import { prepImages } from '../../image/prep.js';
import { resolveHosts, type SecretSource } from '../../image/settings.js';
import { checkTarget, flashImage } from '../../image/flash.js';
import { rawImage } from '../../image/source.js';

const HELP = `usage:
  pifarm image prep --image raspios.img[.xz] -i inventory.yaml (--host NAME... | --all) --out DIR
  pifarm image prep --image X (--host NAME | -i INV --host NAME) --in-place
  pifarm image inspect IMAGE [--json]
  pifarm image flash --image X --device /dev/sdX [--yes]

prep writes DIR/NAME.img per host (or patches the image / a card's device with --in-place):
host name, first user (password hash or locked), SSH with the farm's public key, Wi-Fi (PSK,
country), static address, time zone and keymap, from the inventory's image: settings; flags win.
  --format cloud-init|firstrun|legacy   override the mechanism detected from the image
  --hostname H  --user U  --password-hash HASH  --password-env VAR  --password-prompt  --lock-password
  --public-key FILE (default: the inventory's identity + .pub)
  --wifi-ssid S  --wifi-country CC  --wifi-passphrase-env VAR
  --static-address A/N  --gateway G  --dns A,B  --timezone TZ  --keymap gb
  --cache-dir DIR   where .img.xz files are decompressed (default ~/.cache/pifarm/images)
Plain secrets come only from the named environment variables or a prompt; they are hashed
(SHA-512 crypt, WPA PSK) and never written or printed.`;

const PREP_OPTIONS = {
  image: { type: 'string' }, inventory: { type: 'string', short: 'i' }, host: { type: 'string', multiple: true }, all: { type: 'boolean' },
  out: { type: 'string' }, 'in-place': { type: 'boolean' }, format: { type: 'string' }, 'cache-dir': { type: 'string' },
  hostname: { type: 'string' }, user: { type: 'string' }, 'password-hash': { type: 'string' }, 'password-env': { type: 'string' },
  'lock-password': { type: 'boolean' }, 'password-prompt': { type: 'boolean' }, 'public-key': { type: 'string' }, 'wifi-ssid': { type: 'string' }, 'wifi-country': { type: 'string' }, 'wifi-passphrase-env': { type: 'string' },
  'static-address': { type: 'string' }, gateway: { type: 'string' }, dns: { type: 'string' }, timezone: { type: 'string' }, keymap: { type: 'string' },
} as const;

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    process.stderr.write(question);
    out._writeToOutput = () => {}; // swallow the echo of typed characters
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

function promptLine(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    rl.question(question, (a) => {
      rl.close();
      resolve(a.trim());
    });
  });
}

function secretSource(): SecretSource {
  return process.stdin.isTTY ? { env: process.env, prompt: promptHidden } : { env: process.env };
}

async function prep(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, PREP_OPTIONS, HELP, false);
  if (!v.image) throw new UsageError(`image prep: --image is required\n\n${HELP}`);
  const format = v.format as Format | undefined;
  if (format !== undefined && !FORMATS.includes(format)) throw new UsageError(`--format: expected one of ${FORMATS.join(', ')}, got "${format}"`);
  const o: ImageOverrides = {
    hostname: v.hostname, user: v.user, passwordHash: v['password-hash'], passwordEnv: v['password-env'], lockPassword: v['lock-password'], passwordPrompt: v['password-prompt'], publicKeyFile: v['public-key'],
    wifiSsid: v['wifi-ssid'], wifiCountry: v['wifi-country'], wifiPassphraseEnv: v['wifi-passphrase-env'],
    staticAddress: v['static-address'], gateway: v.gateway, dns: v.dns?.split(',').map((s) => s.trim()).filter(Boolean), timezone: v.timezone, keymap: v.keymap,
  };
  for (const k of Object.keys(o) as (keyof ImageOverrides)[]) if (o[k] === undefined) delete o[k];
  const hosts = v.host ?? [];
  if (v.all && hosts.length) throw new UsageError('give --host NAME or --all, not both');
  let raws;
  if (v.inventory) {
    if (!v.all && hosts.length === 0) throw new UsageError('image prep: give --host NAME (repeatable) or --all');
    // image prep needs the hosts' settings only: no farm section, no topology that fits
    raws = rawFromInventory(loadHosts(v.inventory), v.all ? 'all' : hosts, o);
  } else {
    if (v.all || hosts.length !== 1) throw new UsageError('image prep without -i INVENTORY: give exactly one --host NAME (it becomes the host name)');
    raws = [rawFromFlags(hosts[0]!, o)];
  }
  const resolved = await resolveHosts(raws, secretSource());
  const results = await prepImages({
    image: v.image, hosts: resolved, outDir: v.out, inPlace: v['in-place'], format, cacheDir: v['cache-dir'],
    log: (m) => console.error(m),
  });
  console.log(renderTable(['host', 'image', 'format', 'files written'], results.map((r) => [r.host, r.output, r.format, r.files.join(' ')])));
  console.log(`detected: ${results[0]!.reason}`);
  for (const w of new Set(results.flatMap((r) => r.warnings))) console.error(`warning: ${w}`);
  return 0;
}

async function inspect(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { 'cache-dir': { type: 'string' }, json: { type: 'boolean' } }, HELP);
  if (positionals.length !== 1) throw new UsageError(`image inspect: give one IMAGE\n\n${HELP}`);
  const r = await inspectImage(positionals[0]!, values['cache-dir']);
  if (values.json) {
    console.log(JSON.stringify(r, null, 2));
    return 0;
  }
  console.log(`${r.image}: ${r.table.scheme.toUpperCase()}, ${r.table.size} bytes`);
  console.log(renderTable(['#', 'start', 'size', 'type', ''], r.table.partitions.map((p) => [String(p.index), String(p.start), String(p.size), p.type, p === r.boot.part ? `boot: ${r.boot.fat.fatType} "${r.boot.fat.label}"` : (p.name ?? '')])));
  console.log(`\nboot partition files:`);
  console.log(renderTable(['name', 'size'], r.files.map((f) => [f.dir ? `${f.name}/` : f.name, f.dir ? '' : String(f.size)])));
  console.log(`\nflavour: ${r.flavour.format} - ${r.flavour.reason}`);
  if (r.os) console.log(`os: ${r.os}`);
  console.log(`customisation present: ${r.customisation.length ? '' : 'none'}`.trimEnd());
  for (const c of r.customisation) console.log(`  ${c}`);
  return 0;
}

function human(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

function bar(phase: string, done: number, total: number): string {
  const pct = total ? done / total : 1;
  const width = 30;
  const filled = Math.round(pct * width);
  return `${phase.padEnd(6)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(pct * 100).toFixed(0).padStart(3)}% ${(done / 2 ** 20).toFixed(0)}/${(total / 2 ** 20).toFixed(0)} MiB`;
}

async function flash(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, { image: { type: 'string' }, device: { type: 'string' }, yes: { type: 'boolean' }, 'cache-dir': { type: 'string' } }, HELP, false);
  if (!v.image || !v.device) throw new UsageError(`image flash: --image and --device are required\n\n${HELP}`);
  const target = checkTarget(v.device);
  const raw = await rawImage(v.image, v['cache-dir'], (m) => console.error(m));
  if (!v.yes) {
    if (!process.stdin.isTTY) throw new ImageError(`refusing to overwrite ${v.device} without confirmation: stdin is not a terminal; add --yes`);
    const a = await promptLine(`Write ${v.image} to ${v.device} (${human(target.size)})? Everything on it is lost. Type yes: `);
    if (a !== 'yes') {
      console.error('not confirmed; nothing written');
      return 1;
    }
  }
  const tty = process.stderr.isTTY;
  let lastPct = -1;
  const res = flashImage(raw, target, (phase, done, total) => {
    const pct = Math.floor((done / total) * 100);
    if (tty) process.stderr.write(`\r${bar(phase, done, total)}`);
    else if (pct % 25 === 0 && pct !== lastPct) console.error(bar(phase, done, total));
    lastPct = pct;
  });
  if (tty) process.stderr.write('\n');
  console.log(`wrote and verified ${res.bytes} bytes to ${v.device} in ${res.seconds.toFixed(1)} s (sha256 ${res.sha256})`);
  return 0;
}

export const command: CliCommand = {
  name: 'image',
  summary: 'prepare per-host SD card images (prep), look inside one (inspect), write one to a card (flash)',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'prep') return prep(rest);
    if (sub === 'inspect') return inspect(rest);
    if (sub === 'flash') return flash(rest);
    if (sub === '--help' || sub === '-h') {
      console.log(HELP);
      return 0;
    }
    throw new UsageError(HELP);
  },
};
