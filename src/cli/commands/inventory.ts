// `pifarm inventory check -i FILE [--json]`: the resolved farm or every error.
// `pifarm inventory import FILE --model M [--preset P] [-o OUT]`: an artifact JSON IP table -> inventory YAML.
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { parseFlags, UsageError, type CliCommand } from '../command.js';
import { table } from '../../report/text-table.js';
import { loadInventory } from '../../inventory/load.js';
import { describeMapping, importArtifactTable } from '../../inventory/import.js';
import { YamlCheckError } from '../../inventory/yaml-source.js';
import { hostAddress, resolveFarm } from '../../topology/resolve.js';
import { modelNames } from '../../model/spec.js';
import type { ResolvedFarm } from '../../topology/types.js';
import type { HostSpec } from '../../inventory/types.js';
import { DEFAULT_KEY_FILES } from '../../transport/transport.js';

const HELP = `usage: pifarm inventory check -i FILE [--json]
       pifarm inventory import FILE --model ${modelNames().join('|')} [--preset NAME] [-o OUT.yaml]

check   loads and checks an inventory, then prints the resolved farm: hosts, the topology's
        stages (replicas, shards) and where every node process runs, on which port. Errors are
        printed as FILE:LINE:COL: field: what was expected, all of them, and the exit code is 1.
import  turns the original artifact's JSON IP table ({"node": {"initial": [...], "block1": [...],
        ...}}, trailing commas allowed) into an inventory; the preset is inferred from the roles
        and their host counts unless --preset names it. Writes to OUT.yaml or prints it.`;

export const command: CliCommand = {
  name: 'inventory',
  summary: 'check an inventory and show the resolved farm, or import an artifact JSON IP table',
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      { inventory: { type: 'string', short: 'i' }, json: { type: 'boolean' }, model: { type: 'string' }, preset: { type: 'string' }, output: { type: 'string', short: 'o' } },
      HELP,
    );
    const [sub, file] = positionals;
    if (sub === 'check') {
      const path = values.inventory ?? file;
      if (!path) throw new UsageError(`inventory check: give the inventory with -i FILE\n\n${HELP}`);
      let farm: ResolvedFarm;
      try {
        farm = resolveFarm(loadInventory(path));
      } catch (e) {
        if (!(e instanceof YamlCheckError)) throw e;
        console.error(e.message);
        console.error(`${e.issues.length} error${e.issues.length > 1 ? 's' : ''} in ${path}`);
        return 1;
      }
      console.log(values.json ? JSON.stringify(farmJson(farm), null, 2) : formatFarm(farm));
      return 0;
    }
    if (sub === 'import') {
      if (!file) throw new UsageError(`inventory import: give the JSON file\n\n${HELP}`);
      if (!values.model) throw new UsageError(`inventory import: --model is required (${modelNames().join(' or ')})`);
      let r;
      try {
        r = importArtifactTable(readFileSync(file, 'utf8'), file, { model: values.model, ...(values.preset ? { preset: values.preset } : {}) });
      } catch (e) {
        if (!(e instanceof YamlCheckError)) throw e;
        console.error(e.message);
        return 1;
      }
      const how = `preset ${r.preset}, sender ${r.sender}, ${Object.values(r.roles).flat().length} node hosts; roles ${describeMapping(r)}`;
      if (values.output) {
        writeFileSync(values.output, r.yaml);
        console.error(`wrote ${values.output}: ${how}`);
      } else {
        process.stdout.write(r.yaml);
        console.error(how);
      }
      return 0;
    }
    throw new UsageError(HELP);
  },
};

function farmJson(f: ResolvedFarm) {
  return {
    file: f.inventory.file,
    model: f.model,
    topology: f.topologyName,
    hosts: f.inventory.hosts,
    stages: f.stages,
    placements: f.placements.map((p) => ({ ...p, address: hostAddress(f, p.host) })),
    sender: { ...f.sender, address: hostAddress(f, f.sender.host) },
    engine: f.inventory.farm.engine,
    seed: f.inventory.farm.seed,
  };
}

/** user@address:port, the keys and the jump: what SSH will be asked to do. */
function reachedAs(h: HostSpec): string {
  const keys = [h.identity, ...(h.identities ?? [])].filter(Boolean);
  const login = keys.length ? `key ${keys.join(', ')}` : h.agent ? 'agent' : `agent or ~/.ssh/${DEFAULT_KEY_FILES.join(', ')}`;
  return `${h.user}@${h.address}:${h.port}, ${login}${h.jump ? `, via ${h.jump}` : ''}`;
}

/** "address: ssh config ~/.ssh/config, user: inventory, ...": where each setting came from. */
function originOf(h: HostSpec): string {
  const o = h.origin ?? {};
  const home = homedir();
  return (['address', 'user', 'port', 'identity', 'jump'] as const)
    .filter((k) => o[k])
    .map((k) => `${k === 'identity' ? 'key' : k}: ${o[k]!.replace(home, '~')}`)
    .join(', ');
}

function formatFarm(f: ResolvedFarm): string {
  const inv = f.inventory;
  const out: string[] = [];
  out.push(`${inv.file}: ${f.model}, topology ${f.topologyName}, engine ${inv.farm.engine}, seed ${inv.farm.seed}`);
  out.push('');
  out.push(
    table(
      ['host', 'address', 'ssh', 'arch', 'RAM MB', 'GFLOPS', 'slots', 'groups'],
      inv.hosts.map((h) => [
        h.name,
        h.address,
        h.local ? 'local' : `${h.user} port ${h.port}${h.jump ? ` via ${h.jump}` : ''}${h.identity ? ' key' : h.agent ? ' agent' : ''}`,
        h.arch ?? '-',
        h.ramMb ? String(h.ramMb) : '-',
        h.gflops ? String(h.gflops) : '-',
        h.slots ? String(h.slots) : h.local ? 'any' : '1',
        h.groups.join(',') || '-',
      ]),
    ),
  );
  const reached = inv.hosts.filter((h) => !h.local && h.origin);
  if (reached.length) {
    out.push('');
    out.push(table(['host', 'reached as', 'from'], reached.map((h) => [h.name, reachedAs(h), originOf(h)])));
  }
  out.push('');
  out.push(
    table(
      ['stage', 'role', 'layers', 'replicas', 'shards'],
      f.stages.map((s, i) => [String(i), s.role, s.layers.length > 1 ? `${s.layers[0]}..${s.layers[s.layers.length - 1]}` : s.layers[0]!, String(s.replicas), String(s.shards)]),
    ),
  );
  out.push('');
  out.push(
    table(
      ['role', 'replica', 'shard', 'host', 'address:port'],
      [
        ['sender', '-', '-', f.sender.host, `${hostAddress(f, f.sender.host)}:${f.sender.port}`],
        ...f.placements.map((p) => [p.role, String(p.replica), String(p.shard), p.host, `${hostAddress(f, p.host)}:${p.port}`]),
      ],
    ),
  );
  out.push('');
  out.push(`${f.placements.length} node processes + the sender = ${f.placements.length + 1} devices as the paper counts them`);
  return out.join('\n');
}
