// The paper's own figures (PAPER_SOURCE says where they were read). Shown in reports labelled as
// the paper's, never mixed with our measurements.
export const PAPER_SOURCE =
  "Figures 5 and 6 of the seed paper (ReQuEST@ASPLOS'18, 'Real-Time Image Recognition Using Collaborative IoT Devices'), " +
  'bar heights read from the published vector figures (about +-2%). IPS = 1 / average end-to-end latency as the paper defines it; ' +
  "energy in joules per inference. The artifact's merge step counted about two results per frame, so the Pi-farm IPS may be inflated up to 2x.";

export interface PaperSystem {
  /** "pi-5", "tx2-gpu", ... */
  system: string;
  label: string;
  devices: number;
  ips: number;
  dynamicJ: number;
  staticJ: number;
  totalJ: number;
}

export const PAPER_RESULTS: Record<string, PaperSystem[]> = {
  alexnet: [
    { system: 'tx2-gpu', label: 'Jetson TX2 GPU', devices: 1, ips: 7.12, dynamicJ: 0.74, staticJ: 0.8, totalJ: 1.54 },
    { system: 'tx2-cpu', label: 'Jetson TX2 CPU', devices: 1, ips: 5.57, dynamicJ: 0.43, staticJ: 1.03, totalJ: 1.46 },
    { system: 'pi-5', label: '5 Raspberry Pi 3', devices: 5, ips: 4.33, dynamicJ: 0.81, staticJ: 1.5, totalJ: 2.3 },
    { system: 'pi-6', label: '6 Raspberry Pi 3', devices: 6, ips: 5.72, dynamicJ: 0.35, staticJ: 1.75, totalJ: 2.1 },
  ],
  vgg16: [
    { system: 'tx2-gpu', label: 'Jetson TX2 GPU', devices: 1, ips: 1.285, dynamicJ: 4.14, staticJ: 4.54, totalJ: 8.74 },
    { system: 'tx2-cpu', label: 'Jetson TX2 CPU', devices: 1, ips: 0.518, dynamicJ: 7.37, staticJ: 11.0, totalJ: 18.2 },
    { system: 'pi-9', label: '9 Raspberry Pi 3', devices: 9, ips: 0.481, dynamicJ: 13.6, staticJ: 26.3, totalJ: 40.0 },
    { system: 'pi-11', label: '11 Raspberry Pi 3', devices: 11, ips: 1.107, dynamicJ: 10.4, staticJ: 16.6, totalJ: 27.0 },
  ],
};

/** The paper's device figures (Raspberry Pi 3 and Jetson TX2). */
export const PAPER_DEVICES = {
  'raspberry-pi-3': { cpu: '4x Cortex-A53 1.2 GHz', ramMb: 1024, idleW: 1.3, fullW: 6.5, averageW: 3.0, priceUSD: 40 },
  'jetson-tx2': { cpu: '2x Denver2 + 4x Cortex-A57 2.0 GHz, 256-core Pascal GPU', ramMb: 8192, idleW: 5, fullW: 15, averageW: 9.5, priceUSD: 600 },
} as const;

export const PAPER_NETWORK = '300 Mbit/s 2.4 GHz 802.11n Wi-Fi router shared by all devices';

/** The paper's systems for a model (empty for a model the paper did not run). */
export function paperSystems(model: string): PaperSystem[] {
  return PAPER_RESULTS[model.toLowerCase()] ?? [];
}

/** The paper's Pi-farm system with the same device count, if it ran one. */
export function paperPiFarm(model: string, devices: number): PaperSystem | undefined {
  return paperSystems(model).find((s) => s.system === `pi-${devices}`);
}
