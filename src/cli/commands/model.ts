// `pifarm model show <model> [--json]`: the layer table of a model, and its presets' stages.
import { parseFlags, UsageError, type CliCommand } from '../command.js';
import { loadModelSpec, modelNames } from '../../model/spec.js';
import { layerInfos, stageInfos, totals } from '../../model/shapes.js';
import { formatModelTable } from '../format-model.js';

const HELP = `usage: pifarm model show <model> [--json]

Prints every layer of the model (shape, MACs, parameters, output bytes) and the stage
boundaries of its presets (bytes sent per frame between stages).
Models: ${modelNames().join(', ')}`;

export const command: CliCommand = {
  name: 'model',
  summary: 'show a model\'s layers, shapes, MACs, parameters and preset stages',
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { json: { type: 'boolean' } }, HELP);
    const [sub, name] = positionals;
    if (sub !== 'show' || !name) throw new UsageError(HELP);
    const spec = loadModelSpec(name);
    const layers = layerInfos(spec);
    const presets = spec.presets.map((p) => ({ preset: p, stages: stageInfos(spec, p.stages) }));
    if (values.json) {
      console.log(
        JSON.stringify(
          {
            model: spec.name,
            input: spec.input,
            totals: totals(spec),
            layers: layers.map((l) => ({
              name: l.layer.name,
              type: l.layer.type,
              block: l.layer.block,
              inShape: l.inShape,
              outShape: l.outShape,
              macs: l.macs,
              params: l.params,
              paramBytes: l.paramBytes,
              outBytes: l.outBytes,
            })),
            presets: presets.map(({ preset, stages }) => ({
              name: preset.name,
              devices: preset.devices,
              stages: stages.map((s) => ({ role: s.stage.role, layers: s.stage.layers, replicas: s.stage.replicas, shards: s.stage.shards, macs: s.macs, paramBytes: s.paramBytes, outBytes: s.outBytes })),
            })),
          },
          null,
          2,
        ),
      );
      return 0;
    }
    console.log(formatModelTable(spec, layers, presets));
    return 0;
  },
};
