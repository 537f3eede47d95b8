// Import of the original artifact's farm descriptions: JSON "IP tables" such as
//   {"node": {"initial": ["192.168.1.8"], "block1": ["192.168.1.3"], "fc1": [...], "fc2": [...]}}
// sometimes with trailing commas that strict JSON refuses. "initial" is the sender; every other
// key is a role. The preset is inferred from the roles and their host counts unless given. The
// artifact's own AlexNet tables name the stages block1, block2, block3 (pifarm's block1, fc1, fc2):
// a table whose names are not the preset's maps onto it by position and host count.
import { instances, allPresets, type PresetSpec } from '../model/spec.js';
import { parseInventory } from './load.js';
import { YamlCheckError, type Issue } from './yaml-source.js';

export class ImportError extends YamlCheckError {}

export interface ImportOptions {
  model: string;
  preset?: string;
}

export interface ImportResult {
  preset: string;
  /** the inventory YAML, checked by the loader before it is returned */
  yaml: string;
  sender: string;
  /** by pifarm's role names */
  roles: Record<string, string[]>;
  /** the table's role name -> the preset's, in stage order (the same name where they agree) */
  mapping: Record<string, string>;
}

/** Drops commas that precede a closing bracket or brace, outside strings. */
export function stripTrailingCommas(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    if (c === ',') {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      if (text[j] === '}' || text[j] === ']') {
        out += ' '; // keep offsets, so error positions still point into the original text
        continue;
      }
    }
    out += c;
  }
  return out;
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, offset));
  const lines = before.split('\n');
  return { line: lines.length, col: lines[lines.length - 1]!.length + 1 };
}

export function importArtifactTable(text: string, file: string, opts: ImportOptions): ImportResult {
  const issue = (offset: number, field: string, message: string): Issue => ({ file, ...lineCol(text, offset), field, message });
  const keyAt = (key: string): number => Math.max(0, text.indexOf(`"${key}"`));
  let data: unknown;
  try {
    data = JSON.parse(stripTrailingCommas(text));
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    throw new ImportError([issue(m ? Number(m[1]) : 0, '', `not JSON: ${(e as Error).message}`)]);
  }
  const top = data as Record<string, unknown>;
  const table = (top && typeof top === 'object' && 'node' in top ? top.node : top) as Record<string, unknown>;
  if (!table || typeof table !== 'object' || Array.isArray(table)) throw new ImportError([issue(0, 'node', 'expected {"node": {"initial": [ip], "<role>": [ip, ...], ...}}')]);
  const issues: Issue[] = [];
  const roles: Record<string, string[]> = {};
  let sender = 'local';
  for (const [k, v] of Object.entries(table)) {
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x.trim())) {
      issues.push(issue(keyAt(k), `node.${k}`, 'expected a non-empty list of IP addresses'));
      continue;
    }
    if (k === 'initial') {
      if (v.length !== 1) issues.push(issue(keyAt(k), 'node.initial', `expected one sender address, got ${v.length}`));
      sender = v[0] as string;
    } else roles[k] = v as string[];
  }
  if (issues.length) throw new ImportError(issues);
  const presets = allPresets().filter((p) => p.model === opts.model);
  if (!presets.length) throw new ImportError([issue(0, '', `--model ${opts.model}: no presets for this model; models: ${[...new Set(allPresets().map((p) => p.model))].join(', ')}`)]);
  const shape = (p: PresetSpec) => p.stages.map((s) => `${s.role} x${instances(s)}`).join(', ');
  const mine = Object.entries(roles).map(([r, ips]) => `${r} x${ips.length}`).join(', ');
  const byName = (p: PresetSpec) => p.stages.length === Object.keys(roles).length && p.stages.every((s) => roles[s.role]?.length === instances(s));
  // the table's roles in its own order against the preset's stages: same count of hosts at each place
  const byPosition = (p: PresetSpec) => {
    const counts = Object.values(roles).map((ips) => ips.length);
    return counts.length === p.stages.length && p.stages.every((s, i) => counts[i] === instances(s));
  };
  const matches = (p: PresetSpec) => byName(p) || byPosition(p);
  let preset: PresetSpec | undefined;
  if (opts.preset) {
    preset = presets.find((p) => p.name === opts.preset);
    if (!preset) throw new ImportError([issue(0, '', `--preset ${opts.preset}: not a preset of ${opts.model}; presets: ${presets.map((p) => p.name).join(', ')}`)]);
    if (!matches(preset)) {
      const unknown = Object.keys(roles).find((r) => !preset!.stages.some((s) => s.role === r));
      throw new ImportError([issue(unknown ? keyAt(unknown) : 0, unknown ? `node.${unknown}` : 'node', `the table (${mine}) does not fit preset ${preset.name} (${shape(preset)})`)]);
    }
  } else {
    // the names decide where they fit a preset; only then the positions
    preset = presets.find(byName) ?? presets.find(byPosition);
    if (!preset) {
      throw new ImportError([
        issue(keyAt(Object.keys(roles)[0] ?? 'node'), 'node', `the roles (${mine}) match no preset of ${opts.model}: ${presets.map((p) => `${p.name} (${shape(p)})`).join('; ')}; name one with --preset, or fix the table`),
      ]);
    }
  }
  const chosen = preset;
  const tableRoles = Object.keys(roles);
  const mapping = Object.fromEntries(byName(chosen) ? chosen.stages.map((s) => [s.role, s.role]) : tableRoles.map((r, i) => [r, chosen.stages[i]!.role]));
  const named = Object.fromEntries(Object.entries(mapping).map(([from, to]) => [to, roles[from]!]));
  const yaml = inventoryYaml(file, opts.model, chosen, sender, named, mapping);
  parseInventory(yaml, `${file}.yaml`); // the import must produce an inventory the loader accepts
  return { preset: chosen.name, yaml, sender, roles: named, mapping };
}

/** "block1 -> block1 (1 host), block2 -> fc1 (2 hosts), ...": how the table's roles became the preset's. */
export function describeMapping(r: Pick<ImportResult, 'mapping' | 'roles'>): string {
  return Object.entries(r.mapping)
    .map(([from, to]) => `${from} -> ${to} (${r.roles[to]!.length} host${r.roles[to]!.length > 1 ? 's' : ''})`)
    .join(', ');
}

/** Host names from roles (block1-1, fc1-1, fc1-2 ...); an address used twice becomes one host with slots. */
function inventoryYaml(file: string, model: string, preset: PresetSpec, senderIp: string, roles: Record<string, string[]>, mapping: Record<string, string>): string {
  const hostOf = new Map<string, { name: string; uses: number }>();
  const hostFor = (ip: string, name: string): string => {
    const h = hostOf.get(ip);
    if (h) {
      h.uses++;
      return h.name;
    }
    hostOf.set(ip, { name, uses: 1 });
    return name;
  };
  const sender = hostFor(senderIp, 'initial');
  const assignment = preset.stages.map((s) => [s.role, roles[s.role]!.map((ip, i) => hostFor(ip, `${s.role}-${i + 1}`))] as const);
  const lines = [
    `# Imported from ${file} by \`pifarm inventory import\`: preset ${preset.name}, inferred from the table's roles.`,
    ...(Object.entries(mapping).some(([a, b]) => a !== b) ? [`# The table's roles by position: ${describeMapping({ mapping, roles })}.`] : []),
    '# Check the user and key below, then run `pifarm inventory check -i <this file>`.',
    'defaults:',
    '  user: pi                        # the login user on every Pi',
    '  identity: ~/.ssh/id_ed25519     # your private key; or agent: true to use the ssh-agent',
    '',
    'hosts:',
    ...[...hostOf.entries()].map(([ip, h]) => (h.uses > 1 ? `  ${h.name}: { address: ${ip}, slots: ${h.uses} }   # used ${h.uses} times in the table` : `  ${h.name}: ${ip}`)),
    '',
    'farm:',
    `  model: ${model}`,
    `  topology: ${preset.name}`,
    `  sender: ${sender}                 # the table's "initial" node`,
    '  assignment:',
    ...assignment.map(([role, hosts]) => `    ${role}: [${hosts.join(', ')}]`),
    '  ports: { node: 12345, sender: 9999 }',
    '  engine: auto                    # per host, the engine build its CPU runs',
    '',
  ];
  return lines.join('\n');
}
