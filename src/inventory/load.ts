// Inventory YAML -> a typed, checked Inventory. Pleasant to write (a host may be just an address,
// defaults and group vars fill the rest) and strict to read: every problem is collected and
// reported together as FILE:LINE:COL: field.path: what was expected.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { modelNames } from '../model/spec.js';
import { defaultModelsDir, isImportedModel } from '../model/imported.js';
import { DEFAULT_SEED } from '../model/weights.js';
import { YamlCheckError, YamlSource, type Issue } from './yaml-source.js';
import { HOST_KEYS, SETTING_KEYS, Fields, addressProblem, expandPath, mergeSettings, readSettings, type HostSettings } from './host-settings.js';
import { checkFarmTopology } from './farm-check.js';
import type { FarmSpec, HostSpec, HostsInventory, Inventory } from './types.js';
import { ENGINE_CHOICES } from '../engine/builds.js';
import { reachOf, readSshConfig, userSshConfig, type SshConfigSource } from './ssh-config.js';

export class InventoryError extends YamlCheckError {}

export const DEFAULT_PORTS = { node: 12345, sender: 9999 } as const;
export const DEFAULT_USER = 'pi';
export const DEFAULT_SSH_PORT = 22;
/** the name `farm.sender` uses for the control machine */
export const LOCAL = 'local';

const TOP_KEYS = ['hosts', 'defaults', 'groups', 'farm', 'ssh'];
const FARM_KEYS = ['model', 'topology', 'assignment', 'sender', 'ports', 'engine', 'threads', 'seed', 'models', 'source'];
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function loadInventory(file: string): Inventory {
  return parseInventory(readInventoryText(file), resolve(file), file);
}

/**
 * The hosts of an inventory, for commands that need nothing else (image prep of one new Pi): the
 * farm section may be absent, and a topology that does not fit these hosts is not their concern.
 */
export function loadHosts(file: string): HostsInventory {
  return parseInventory(readInventoryText(file), resolve(file), file, { hostsOnly: true });
}

/** The inventory's ssh.config (relative to it), else the user's ~/.ssh/config. */
function sshConfigFile(src: YamlSource, raw: unknown, dir: string): string {
  if (raw === undefined) return userSshConfig();
  if (!isMapping(raw) || typeof raw.config !== 'string' || !raw.config.trim()) {
    src.add(['ssh'], 'expected { config: FILE }, the ssh client config to read instead of ~/.ssh/config');
    return userSshConfig();
  }
  src.checkKeys(['ssh'], raw, ['config']);
  const p = expandPath(raw.config, dir);
  if (!existsSync(p)) src.add(['ssh', 'config'], `no such file: ${p}`);
  return p;
}

function readInventoryText(file: string): string {
  try {
    return readFileSync(resolve(file), 'utf8');
  } catch (e) {
    throw new InventoryError([{ file, line: 1, col: 1, field: '', message: `cannot read the inventory: ${(e as Error).message}` }]);
  }
}

/** `file` is the absolute path (relative topology files and keys resolve from it); `shown` names it in messages. */
export interface ParseOptions {
  /** only the hosts (loadHosts) */
  hostsOnly?: boolean;
  /** the ssh client config to consult (null: none); default the inventory's ssh.config, else ~/.ssh/config */
  sshConfig?: SshConfigSource | null;
}

export function parseInventory(text: string, file: string, shown?: string, o?: ParseOptions & { hostsOnly?: false }): Inventory;
export function parseInventory(text: string, file: string, shown: string, o: ParseOptions & { hostsOnly: true }): HostsInventory;
export function parseInventory(text: string, file: string, shown = file, o: ParseOptions = {}): Inventory | HostsInventory {
  const src = new YamlSource(shown, text);
  if (src.issues.length) throw new InventoryError(src.issues);
  const fail = (): never => {
    throw new InventoryError(src.issues);
  };
  const rawRoot = src.toJS();
  if (!isMapping(rawRoot)) {
    src.add([], 'expected a mapping with hosts, defaults, groups and farm');
    return fail();
  }
  const root = rawRoot;
  const dir = dirname(file);
  src.checkKeys([], root, TOP_KEYS);
  src.checkDuplicateKeys([], 'key');

  const defaults = isMapping(root.defaults) ? readSettings(src, ['defaults'], root.defaults, SETTING_KEYS, dir) : {};
  if (root.defaults !== undefined && !isMapping(root.defaults)) src.add(['defaults'], `expected a mapping of host settings: ${SETTING_KEYS.join(', ')}`);

  // hosts
  const hostLayers = new Map<string, HostSettings>();
  if (!isMapping(root.hosts) || Object.keys(root.hosts).length === 0) {
    src.add(['hosts'], 'expected a mapping of host name -> address or {address, port, user, ...}');
  } else {
    src.checkDuplicateKeys(['hosts'], 'host name');
    for (const [name, raw] of Object.entries(root.hosts)) {
      const at = ['hosts', name];
      if (!HOST_NAME.test(name)) src.add(at, 'expected a host name of letters, digits, ".", "-" or "_"', true);
      if (typeof raw === 'string') {
        const bad = addressProblem(raw);
        if (bad) src.add(at, bad);
        hostLayers.set(name, { address: raw }); // kept, so the host's other uses add no errors of their own
      }
      else if (isMapping(raw)) hostLayers.set(name, readSettings(src, at, raw, HOST_KEYS, dir));
      else if (raw === null || raw === undefined) hostLayers.set(name, {});
      else src.add(at, 'expected an address, or a mapping {address, port, user, identity, ...}');
    }
  }

  // groups: name -> {hosts: [...], vars: {...settings}} or name -> [hosts]
  const groups: Record<string, string[]> = {};
  const groupSettings: { name: string; settings: HostSettings }[] = [];
  if (root.groups !== undefined) {
    if (!isMapping(root.groups)) src.add(['groups'], 'expected a mapping of group name -> {hosts, vars}');
    else {
      src.checkDuplicateKeys(['groups'], 'group name');
      for (const [g, raw] of Object.entries(root.groups)) {
        const at = ['groups', g];
        let members: unknown = raw;
        let settings: HostSettings = {};
        if (isMapping(raw)) {
          src.checkKeys(at, raw, ['hosts', 'vars']);
          members = raw.hosts;
          if (raw.vars !== undefined) {
            if (isMapping(raw.vars)) settings = readSettings(src, [...at, 'vars'], raw.vars, SETTING_KEYS, dir);
            else src.add([...at, 'vars'], `expected a mapping of host settings: ${SETTING_KEYS.join(', ')}`);
          }
        }
        const hostsAt = isMapping(raw) ? [...at, 'hosts'] : at;
        if (!Array.isArray(members) || !members.every((m) => typeof m === 'string')) {
          src.add(hostsAt, 'expected a list of host names');
          continue;
        }
        members.forEach((m, i) => {
          if (!hostLayers.has(m as string)) src.add([...hostsAt, i], `unknown host "${String(m)}"; hosts: ${[...hostLayers.keys()].join(', ')}`);
        });
        groups[g] = members as string[];
        groupSettings.push({ name: g, settings });
      }
    }
  }

  const ssh = o.sshConfig !== undefined ? o.sshConfig ?? undefined : readSshConfig(sshConfigFile(src, root.ssh, dir));
  const hosts: HostSpec[] = [];
  for (const [name, own] of hostLayers) {
    const inGroups = groupSettings.filter((g) => groups[g.name]!.includes(name));
    const s = mergeSettings([defaults, ...inGroups.map((g) => g.settings), own]);
    const at = ['hosts', name];
    const reach = reachOf(s, name, s.local ? undefined : ssh, { user: DEFAULT_USER, port: DEFAULT_SSH_PORT }, new Set(hostLayers.keys()));
    if (!reach.address && !s.local) {
      const hint = ssh ? ` (${ssh.file} has no HostName for "${name}")` : '';
      src.add([...at, 'address'], `expected the host's address (an IP address or DNS name), a HostName for it in ~/.ssh/config, or local: true for the control machine${hint}`, true, at);
      continue;
    }
    if (name === LOCAL && !s.local) src.add(at, '"local" names the control machine; add local: true or choose another name', true);
    if (s.jump !== undefined && !/[@.:]/.test(s.jump)) {
      if (!hostLayers.has(s.jump)) src.add([...at, 'jump'], `unknown host "${s.jump}"; expected an inventory host name or user@host:port`);
      else if (s.jump === name) src.add([...at, 'jump'], 'a host cannot be its own jump host');
    }
    const h: HostSpec = {
      name,
      address: reach.address ?? '127.0.0.1',
      port: reach.port,
      user: reach.user,
      agent: s.agent ?? false,
      groups: inGroups.map((g) => g.name),
      vars: s.vars ?? {},
    };
    for (const k of ['arch', 'ramMb', 'cores', 'gflops', 'power', 'slots', 'local', 'engine', 'image'] as const) {
      if (s[k] !== undefined) (h as unknown as Record<string, unknown>)[k] = s[k];
    }
    // the inventory's key must exist; the ssh config's are tried in order, missing ones passed over as ssh does
    if (s.identity) h.identity = s.identity;
    else if (reach.identities.length) h.identities = reach.identities;
    if (reach.identitiesOnly) h.identitiesOnly = true;
    if (reach.jump !== undefined) h.jump = reach.jump;
    if (!s.local) h.origin = reach.origin;
    hosts.push(h);
  }

  if (o.hostsOnly) {
    if (src.issues.length) fail();
    return { file, hosts, groups };
  }
  const farm = readFarm(src, root.farm, file, hosts);
  if (src.issues.length) fail();
  return { file, hosts, groups, farm: farm! };
}

function readFarm(src: YamlSource, raw: unknown, file: string, hosts: HostSpec[]): FarmSpec | undefined {
  if (!isMapping(raw)) {
    src.add(['farm'], 'expected a mapping {model, topology, assignment, sender, ports, engine}');
    return undefined;
  }
  src.checkKeys(['farm'], raw, FARM_KEYS);
  const f = new Fields(src, ['farm'], raw);
  const models = modelNames();
  const model = raw.model;
  const modelsDir = typeof raw.models === 'string' ? resolve(dirname(file), raw.models) : defaultModelsDir();
  if (raw.models !== undefined && typeof raw.models !== 'string') src.add(['farm', 'models'], 'expected the folder of imported models (pifarm model import --models DIR)');
  const imported = typeof model === 'string' && !models.includes(model) && isImportedModel(modelsDir, model);
  if (typeof model !== 'string' || (!models.includes(model) && !imported)) {
    src.add(['farm', 'model'], `expected the model: ${models.join(' or ')}, or a model imported into ${modelsDir} (pifarm model import)`);
    return undefined;
  }
  const topology = raw.topology === undefined ? 'auto' : f.str('topology', 'a preset name, auto, or the path of a topology file');
  const sender = raw.sender === undefined ? LOCAL : f.str('sender', `"${LOCAL}" or an inventory host name`);
  if (sender && sender !== LOCAL && !hosts.some((h) => h.name === sender)) {
    src.add(['farm', 'sender'], `unknown host "${sender}"; expected "${LOCAL}" (this machine) or one of: ${hosts.map((h) => h.name).join(', ')}`);
  }
  const ports: FarmSpec['ports'] = { ...DEFAULT_PORTS };
  const rawPorts = f.map('ports', ['node', 'sender'], '{node, sender}');
  if (rawPorts) {
    const p = f.sub('ports', rawPorts);
    ports.node = p.int('node', 1, 65535, 'the first node port') ?? ports.node;
    ports.sender = p.int('sender', 1, 65535, 'the sender\'s result port') ?? ports.sender;
  }
  const engine = f.oneOf('engine', ENGINE_CHOICES) ?? 'auto';
  const threads = f.int('threads', 1, 256, 'the compute threads per node process');
  const seed = f.int('seed', 0, 2 ** 31 - 1, 'the weight seed') ?? DEFAULT_SEED;
  if (!topology || !sender) return undefined;
  const farm: FarmSpec = { model, topology, sender, ports, engine, seed, ...(imported ? { modelsDir } : {}) };
  if (threads !== undefined) farm.threads = threads;
  const source = raw.source === undefined ? undefined : f.str('source', 'what the sender streams: random, camera[:WxH], a video file, a photo or folder, rtsp://..., /dev/videoN');
  // a file or folder beside a local sender is found from the inventory's folder; on a Pi it is the Pi's path
  if (source) farm.source = sender === LOCAL && !/^(random|camera(:.*)?|\/.*|[a-z]+:\/\/.*)$/.test(source) ? resolve(dirname(file), source) : source;
  const assignment = checkFarmTopology(src, raw, farm, file, hosts);
  if (assignment) farm.assignment = assignment;
  return farm;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

export type { Issue };
