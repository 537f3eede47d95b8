// The typed, validated inventory: what src/inventory produces from a YAML file and every other
// module consumes. Checked at run time by the loader; nothing downstream re-validates.

export type Arch = 'arm64' | 'armhf' | 'x64';

export interface PowerSpec {
  /** watts when idle (static power) */
  idleW: number;
  /** watts when busy computing */
  busyW: number;
}

/** Settings used only by `pifarm image prep` (issue 5). Secrets are never stored here in clear. */
export interface ImageSettings {
  wifi?: {
    ssid: string;
    /** ISO 3166-1 alpha-2 */
    country: string;
    /** name of the environment variable that holds the passphrase (else prompted) */
    passphraseEnv?: string;
  };
  /** static address in CIDR form, e.g. 192.168.1.3/24; DHCP when absent */
  staticAddress?: string;
  gateway?: string;
  dns?: string[];
  timezone?: string;
  keymap?: string;
  /** a crypt(3) hash (yescrypt $y$ or SHA-512 $6$); or passwordEnv to hash a plain one; else locked */
  passwordHash?: string;
  passwordEnv?: string;
  /** path of the public key to authorise; default: identity + ".pub" */
  publicKey?: string;
}

export interface HostSpec {
  name: string;
  address: string;
  port: number;
  user: string;
  /** private key path (~ expanded) */
  identity?: string;
  /** keys to try in order when the inventory gives no identity (the ssh config's IdentityFile lines) */
  identities?: string[];
  /** the ssh config's IdentitiesOnly: never the agent's keys */
  identitiesOnly?: boolean;
  /** where address, user, port, identity and jump came from: inventory, ssh config FILE, default */
  origin?: Partial<Record<'address' | 'user' | 'port' | 'identity' | 'jump', string>>;
  /** use the ssh-agent at SSH_AUTH_SOCK */
  agent: boolean;
  /** another inventory host (or user@host:port) to tunnel through, like ProxyJump */
  jump?: string;
  arch?: Arch;
  ramMb?: number;
  cores?: number;
  gflops?: number;
  power?: PowerSpec;
  /**
   * the control machine itself: node processes start as local child processes (no SSH), the
   * address defaults to 127.0.0.1 and the host may run any number of processes
   */
  local?: boolean;
  /**
   * how many node processes (the sender counts as one) this host may run; absent: 1, as in the
   * paper (one device per role instance), unlimited for a local host
   */
  slots?: number;
  /** this host's engine (auto, onnx, tfjs or a build id), over farm.engine */
  engine?: string;
  /** groups this host belongs to */
  groups: string[];
  /** defaults, then group vars, then host vars (later wins) */
  vars: Record<string, unknown>;
  image?: ImageSettings;
}

export interface FarmSpec {
  model: string;
  /** a preset name, "auto" (planner), or a path to a topology YAML written by `pifarm plan` */
  topology: string;
  /** role -> host names; absent: pifarm assigns */
  assignment?: Record<string, string[]>;
  /** "local" (the control machine) or a host name */
  sender: string;
  ports: { node: number; sender: number };
  /** auto (per host, the build that runs on its CPU), onnx, tfjs, or an engine build id (engine/builds.ts) */
  engine: string;
  threads?: number;
  seed: number;
  /** the folder of imported models (farm.models, else <state dir>/models); set when `model` is one of them */
  modelsDir?: string;
  /** what the sender streams when `--source` does not say (sources/open.ts) */
  source?: string;
}

export interface Inventory {
  /** absolute path of the file it was read from */
  file: string;
  hosts: HostSpec[];
  groups: Record<string, string[]>;
  farm: FarmSpec;
}

/** An inventory read for commands that work on hosts alone (image prep): no farm is needed or checked. */
export type HostsInventory = Omit<Inventory, 'farm'>;
