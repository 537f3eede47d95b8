// `pifarm model show <model> [--json]`: the layer table of a model, and its presets' stages.
import { parseFlags, pickFlags, UsageError, type CliCommand } from '../command.js';
import { loadImportedModel } from '../../model/imported.js';
import { formatImported, modelsDirOf, preprocessFlags } from '../model-import.js';
import { loadModelSpec, modelNames } from '../../model/spec.js';
import { layerInfos, stageInfos, totals } from '../../model/shapes.js';
import { formatModelTable } from '../format-model.js';

const HELP = `usage: pifarm model show <model> [--json] [--models DIR]
       pifarm model import FILE.onnx|model.json [--name NAME] [--labels FILE] [--scale S] [--mean R,G,B]
                          [--std R,G,B] [--bgr] [--models DIR]

show: every layer of a built-in model (shape, MACs, parameters, output bytes) and the stage
boundaries of its presets (bytes sent per frame between stages); for an imported model, its
input, output, MACs, parameters, operators and its cut points: the tensors every path from input
to output passes through, where the model can be split into stages (residual blocks and branches
stay whole).
import: an ONNX model (weights inside the file), or a Keras model in TF.js layers format (the
model.json and weight shards tensorflowjs_converter writes; converted to ONNX), as a model package under --models (default
<state dir>/models): checked by onnxruntime, its cut points found, post-processing that is not a
tensor (ZipMap) cut off. The input must be an image tensor, [1, 3, H, W] or [1, H, W, 3].
  --labels FILE   class names, one per line (as many as the output has classes)
  --scale --mean --std --bgr   how pixels (0..255) become the input: x * scale, then
                  (x - mean) / std per channel (default scale 1/255, mean 0, std 1, RGB)
Built-in models: ${modelNames().join(', ')}`;

export const command: CliCommand = {
  name: 'model',
  summary: 'show a model\'s layers, shapes, MACs, parameters and stages; import a trained ONNX model and find its cut points',
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      { json: { type: 'boolean' }, models: { type: 'string' }, name: { type: 'string' }, labels: { type: 'string' }, scale: { type: 'string' }, mean: { type: 'string' }, std: { type: 'string' }, bgr: { type: 'boolean' } },
      HELP,
    );
    const [sub, name] = positionals;
    if ((sub !== 'show' && sub !== 'import') || !name) throw new UsageError(HELP);
    const modelsDir = modelsDirOf(values.models);
    if (sub === 'import') {
      // a Keras model in TF.js layers format is a model.json; anything else is read as ONNX
      const importer = name.endsWith('.json') ? (await import('../../engine/import-tfjs.js')).importTfjs : (await import('../../engine/import-onnx.js')).importOnnx;
      const pkg = await importer(name, { modelsDir, ...pickFlags(values, 'name'), ...(values.labels ? { labelsFile: values.labels } : {}), preprocess: preprocessFlags(values) });
      if (values.json) console.log(JSON.stringify(pkg, null, 2));
      else console.log(`imported ${pkg.name} into ${modelsDir}/${pkg.name}\n\n${formatImported(pkg)}`);
      return 0;
    }
    if (!modelNames().includes(name)) {
      const pkg = loadImportedModel(modelsDir, name);
      console.log(values.json ? JSON.stringify(pkg, null, 2) : formatImported(pkg));
      return 0;
    }
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
