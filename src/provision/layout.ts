// Where pifarm puts things on a host. One place, so provision, farm and tests agree.
export const BASE_DIR = '/opt/pifarm';
export const RELEASES_DIR = `${BASE_DIR}/releases`;
export const CURRENT_LINK = `${BASE_DIR}/current`;
export const PREVIOUS_LINK = `${BASE_DIR}/previous`;
export const CONFIG_DIR = '/etc/pifarm/nodes';
export const UNIT_NAME = 'pifarm-node@.service';
export const UNIT_PATH = `/etc/systemd/system/${UNIT_NAME}`;
export const RUN_USER = 'pifarm';
/** the farm secret every node connection proves (readable by the run user only: mode 0600) */
export const SECRET_PATH = '/etc/pifarm/secret';
/** stage graphs of imported models, by content: <sha256 prefix>.onnx, kept across releases */
export const MODELS_DIR = `${BASE_DIR}/models`;
/** the marker a release folder gets once it is completely unpacked */
export const RELEASE_MARKER = '.pifarm-release';

/** The unit instance of one node process: role, replica and shard, e.g. "fc1-0-1". */
export function instanceName(role: string, replica: number, shard: number): string {
  return `${role}-${replica}-${shard}`;
}

export function unitOf(instance: string): string {
  return `pifarm-node@${instance}.service`;
}

export function configPath(instance: string): string {
  return `${CONFIG_DIR}/${instance}.json`;
}
