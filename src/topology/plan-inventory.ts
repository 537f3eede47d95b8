// Planning for an inventory (farm.topology: auto): the inventory's hosts become device classes
// (hosts with the same gflops and RAM are one class; a host with slots: N counts N times) and the
// plan's instances are placed on them in inventory order. An imported model is planned over its
// cut points (plan-imported.ts) on the same classes. The sender's host computes nothing.
import type { Inventory } from '../inventory/types.js';
import { allOnControlMachine } from '../inventory/control-machine.js';
import { PI3, type DeviceProfile } from './cost-model.js';
import { planTopology, PlanError, type DeviceClass, type Plan } from './plan.js';
import { planImported } from './plan-imported.js';
import { loadImportedModel } from '../model/imported.js';

export interface InventoryPlanOptions {
  bandwidthMbit?: number;
  /** default device for hosts that give no gflops or ram */
  profile?: DeviceProfile;
}

export function inventoryClasses(inv: Inventory, base: DeviceProfile = PI3): DeviceClass[] {
  const classes: DeviceClass[] = [];
  for (const h of inv.hosts) {
    if (h.name === inv.farm.sender) {
      if ((h.slots ?? 1) <= 1 && !h.local) continue;
    }
    let n = h.slots ?? 1;
    if (h.local && h.slots === undefined) {
      throw new PlanError(`${inv.file}: hosts.${h.name}: topology "auto" needs to know how many node processes a local host may run; add slots: N`);
    }
    if (h.name === inv.farm.sender) n -= 1;
    const gflops = h.gflops ?? base.gflops;
    const ramMb = h.ramMb ?? base.ramMb;
    let c = classes.find((x) => x.profile.gflops === gflops && x.profile.ramMb === ramMb);
    if (!c) {
      const name = gflops === base.gflops && ramMb === base.ramMb ? base.name : `${gflops}gflops-${ramMb}mb`;
      c = { profile: { ...base, name, gflops, ramMb }, count: 0, hosts: [] };
      classes.push(c);
    }
    for (let i = 0; i < n; i++) c.hosts!.push(h.name);
    c.count += n;
  }
  return classes.filter((c) => c.count > 0);
}

export function planForInventory(inv: Inventory, opts: InventoryPlanOptions = {}): Plan & { hosts: string[][] } {
  const classes = inventoryClasses(inv, opts.profile);
  if (!classes.length) throw new PlanError(`${inv.file}: topology "auto" found no hosts to run nodes on`);
  const allLocal = allOnControlMachine(inv.hosts);
  const req = { classes, sharedMedium: !allLocal, ...(opts.bandwidthMbit !== undefined ? { bandwidthMbit: opts.bandwidthMbit } : {}) };
  // farm.modelsDir is set for an imported model only (inventory/load.ts)
  const plan = inv.farm.modelsDir ? planImported(loadImportedModel(inv.farm.modelsDir, inv.farm.model), req) : planTopology({ model: inv.farm.model, ...req });
  return plan as Plan & { hosts: string[][] };
}
