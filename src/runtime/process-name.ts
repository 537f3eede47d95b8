// How one node process is named in logs, tables and reports: "fc1.0" (role, replica), with the
// shard only where its stage is sharded: "fc1.0.s1".
export interface ProcessPlace {
  role: string;
  replica: number;
  shard: number;
}

export function processName(p: ProcessPlace, shards: number): string {
  return `${p.role}.${p.replica}${shards > 1 ? `.s${p.shard}` : ''}`;
}
