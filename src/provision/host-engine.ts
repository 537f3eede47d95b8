// The engine build of one host, chosen from its CPU facts and farm.engine (engine/builds.ts), and
// its node configs completed with it: the package to load and the known-answer frame to give.
import { chooseBuild, EngineChoiceError, type EngineBuild } from '../engine/builds.js';
import type { NodeConfig } from '../runtime/config.js';
import { ProvisionError, type StepContext } from './types.js';

export function hostBuild(ctx: Pick<StepContext, 'host' | 'facts' | 'plan'>): EngineBuild {
  try {
    return chooseBuild(ctx.facts.cpu, ctx.host.engine ?? ctx.plan.engine ?? 'auto', ctx.host.name);
  } catch (e) {
    throw e instanceof EngineChoiceError ? new ProvisionError(e.message) : e;
  }
}

/** The host's node configs as its nodes get them: with the build's engine and known answer. */
export async function hostNodeConfigs(ctx: Pick<StepContext, 'host' | 'facts' | 'plan'>): Promise<{ instance: string; config: NodeConfig }[]> {
  const build = hostBuild(ctx);
  return Promise.all(
    ctx.plan.nodes.map(async (n) => {
      const config: NodeConfig = { ...n.config, engine: build.engine };
      if (build.engine === 'onnx') config.engineModule = build.module;
      else delete config.engineModule;
      if (ctx.plan.knownAnswer && (config.layers.length > 0 || config.graph)) config.selfTest = await ctx.plan.knownAnswer(config);
      return { instance: n.instance, config };
    }),
  );
}
