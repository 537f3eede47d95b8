#!/usr/bin/env node
// Entry of a node process on a Pi (or locally): node dist/src/runtime/node-main.js --config FILE.json
// Exit codes: 0 stopped by SIGTERM/SIGINT, 2 bad config or arguments, 3 cannot bind the port,
// 4 the block failed to load, 5 the block gave a wrong known answer (the engine build computes
// wrongly on this CPU). An engine that crashes on this CPU dies by its signal before "ready".
// Under systemd (RUNTIME_DIRECTORY set) readiness is also a file, ready.json, which the start
// step and `pifarm status` read: the engine that really runs and its known-answer result.
import { renameSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModelSpec } from '../model/spec.js';
import { readSecretFile } from './auth.js';
import { validateNodeConfig } from './config.js';
import { NodeServer } from './node-server.js';
import { ListenError } from './server-conn.js';
import { SelfTestError } from './self-test.js';

function fatal(code: number, msg: string): never {
  console.error(`pifarm-node: ${msg}`);
  process.exit(code);
}

async function main(): Promise<void> {
  let file: string;
  try {
    const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
    if (!values.config) throw new Error('missing --config FILE.json');
    file = values.config;
  } catch (e) {
    fatal(2, `${(e as Error).message}\nusage: node-main.js --config FILE.json`);
  }
  let cfg;
  let server: NodeServer;
  try {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`${file}: cannot read the node config: ${(e as Error).message}`);
    }
    cfg = validateNodeConfig(raw, file);
    const secret = cfg.secretFile ? readSecretFile(cfg.secretFile) : undefined;
    // a stage of an imported model is its own graph: no model spec of roles/ to read
    server = new NodeServer(cfg, cfg.graph ? null : loadModelSpec(cfg.model), { secret });
  } catch (e) {
    fatal(2, (e as Error).message);
  }
  const who = `${cfg.role} replica ${cfg.replica} shard ${cfg.shard.index}/${cfg.shard.count}`;
  try {
    await server.listen();
  } catch (e) {
    fatal(e instanceof ListenError ? 3 : 1, `${who}: ${(e as Error).message}`);
  }
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${who}: ${sig}, stopping (computed ${server.computed} frames)`);
    server.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Started by a local launcher with an IPC channel: exit when the launcher goes away.
  if (process.channel) {
    process.channel.unref();
    process.on('disconnect', () => stop('launcher gone'));
  }
  try {
    // the block computes in a worker thread: this one keeps receiving, sending and answering probes
    await server.load('thread');
  } catch (e) {
    if (e instanceof SelfTestError) fatal(5, `${who}: ${server.stats().engine}: ${e.message}`);
    fatal(4, `${who}: cannot load ${cfg.graph ? cfg.graph.file : cfg.layers.join(', ')} with engine ${cfg.engineModule ?? cfg.engine}: ${(e as Error).message}`);
  }
  const stats = server.stats();
  const check = server.knownAnswer?.summary ?? 'no known-answer frame configured';
  console.error(`${who}: ready on ${cfg.listen.host}:${server.port}, ${stats.engine}, rss ${(stats.rssBytes / 2 ** 20).toFixed(0)} MB; ${check}`);
  writeReadyFile({ pid: process.pid, engine: stats.engine, arch: process.arch, port: server.port, loadMs: stats.loadMs, rssBytes: stats.rssBytes, knownAnswer: check });
}

/** ready.json in the unit's runtime directory (written whole, then renamed: never read half-written). */
function writeReadyFile(info: Record<string, unknown>): void {
  const dir = process.env.RUNTIME_DIRECTORY;
  if (!dir) return;
  try {
    const tmp = join(dir, 'ready.json.tmp');
    writeFileSync(tmp, JSON.stringify(info) + '\n');
    renameSync(tmp, join(dir, 'ready.json'));
  } catch (e) {
    console.error(`pifarm-node: cannot write ${dir}/ready.json: ${(e as Error).message}`);
  }
}

void main();
