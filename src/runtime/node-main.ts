#!/usr/bin/env node
// Entry of a node process on a Pi (or locally): node dist/src/runtime/node-main.js --config FILE.json
// Exit codes: 0 stopped by SIGTERM/SIGINT, 2 bad config or arguments, 3 cannot bind the port,
// 4 the block failed to load.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadModelSpec } from '../model/spec.js';
import { createEngine } from '../engine/index.js';
import { readSecretFile } from './auth.js';
import { validateNodeConfig } from './config.js';
import { NodeServer } from './node-server.js';
import { ListenError } from './server-conn.js';

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
    server = new NodeServer(cfg, loadModelSpec(cfg.model), { secret });
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
    const engine = cfg.layers.length ? await createEngine(cfg.engine, { threads: cfg.threads }) : null;
    await server.load(engine);
  } catch (e) {
    fatal(4, `${who}: cannot load ${cfg.layers.join(', ')} with engine ${cfg.engine}: ${(e as Error).message}`);
  }
  console.error(`${who}: ready on ${cfg.listen.host}:${server.port}, ${server.stats().engine}, rss ${(server.stats().rssBytes / 2 ** 20).toFixed(0)} MB`);
}

void main();
