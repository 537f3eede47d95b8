// Emulated Pis on this machine: compute (CPU quota, calibrated), memory (limit), network (shared medium).
export { PROFILES, findProfile, ProfileError, PI3_CONV_GFLOPS, PI3_DENSE_GFLOPS, type PiProfile } from './profiles.js';
export { detectCgroups, createLimitGroup, execInGroup, CgroupError, type Limits, type LimitGroup, type CgroupLayout } from './cgroup.js';
export { quotaCores, quotaFits, periodUsFor, systemdCpuQuota, QuotaError } from './quota.js';
export { calibrate, timeLayer, type Calibration, type LayerTiming } from './calibrate.js';
export { applyNetEmulation, removeNetEmulation, applyCommands, removeCommands, WIFI_DEFAULTS, NetEmulationError, type NetEmulation } from './network.js';
export { systemdProperties, systemdDropIn, systemdRunArgs } from './systemd.js';
export { processTree, limitProcessTree } from './process-tree.js';
