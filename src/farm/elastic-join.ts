// A Pi added to the inventory file while `pifarm run --elastic` runs joins the farm: the file is
// watched, a new host is provisioned and given the release (provision + deploy, as `pifarm up`
// does, with no node of its own), and only then offered to the controller as a device that
// answers. A host that cannot be set up is reported and left out; the run goes on.
import { watchFile, unwatchFile } from 'node:fs';
import { loadInventory } from '../inventory/load.js';
import { deployHost, provisionHost } from '../provision/host.js';
import type { FarmOptions } from './options.js';
import { planFarmFor, type FarmPlan } from './plan.js';
import { HostSession } from './session.js';
import type { SshElasticDriver } from './elastic-ssh.js';

/** how often the inventory file's modification time is looked at (editors replace the file: a poll sees that) */
const POLL_MS = 500;

export interface InventoryWatch {
  close(): void;
}

export function watchInventoryForJoins(plan: FarmPlan, o: FarmOptions, driver: SshElasticDriver, log: (m: string) => void): InventoryWatch {
  const file = plan.inv.file;
  const known = new Set(plan.hosts.map((h) => h.name));
  let busy = Promise.resolve();
  const look = () => {
    busy = busy.then(() => joinNewHosts()).catch((e: Error) => log(`elastic: ${file} changed but cannot be used: ${e.message.split('\n')[0]}`));
  };
  const joinNewHosts = async () => {
    const inv = loadInventory(file);
    const fresh = inv.hosts.filter((h) => !known.has(h.name) && !h.local);
    if (fresh.length === 0) return;
    for (const h of fresh) known.add(h.name);
    // the new inventory's plan gives each new host what deploy needs (bundle, secret, peers)
    const next = await planFarmFor(inv, { ...o, inventoryFile: file });
    await Promise.all(fresh.map(async (h) => {
      const template = { ...next.plans.get(h.name)!, nodes: [], graphs: [] };
      driver.settingUp.add(h.name);
      driver.addDevice(h, template);
      log(`elastic: ${h.name} (${h.address}) joined ${file}: provisioning it and sending the release`);
      const session = new HostSession(next.inv, h, template, o);
      try {
        const ctx = await session.context((m) => log(`${h.name}: ${m}`));
        for (const phase of [provisionHost, deployHost]) {
          const failed = (await phase(ctx)).find((r) => r.status === 'failed');
          if (failed) throw new Error(`${failed.step}: ${failed.detail}`);
        }
        driver.settingUp.delete(h.name);
        log(`elastic: ${h.name} is set up: it joins the farm at the next move`);
      } catch (e) {
        log(`elastic: ${h.name} cannot join: ${(e as Error).message}; fix it and run pifarm provision --limit ${h.name}`);
      } finally {
        await session.close().catch(() => {});
      }
    }));
  };
  watchFile(file, { interval: POLL_MS }, (cur, prev) => {
    if (cur.mtimeMs !== prev.mtimeMs) look();
  });
  return {
    close: () => unwatchFile(file),
  };
}
