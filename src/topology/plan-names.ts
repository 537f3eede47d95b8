// Role names for planned stages, in the style of the paper's presets: whole blocks concatenate
// their numbers (block2+block3+block4 -> block234), fc blocks keep their name (fc1), a stage that
// cuts inside a block is named by its first and last layers (conv3_2-pool4).
import type { LayerInfo } from '../model/shapes.js';

export function roleName(stage: LayerInfo[], all: LayerInfo[]): string {
  const blocks = [...new Set(stage.map((l) => l.layer.block))];
  const whole = blocks.every((b) => all.filter((l) => l.layer.block === b).every((l) => stage.includes(l)));
  if (whole) {
    // runs of numbered blocks collapse: block1, block2, block3, fc1 -> block123-fc1
    const parts: string[] = [];
    for (const b of blocks) {
      const m = /^block(\d+)$/.exec(b);
      const prev = parts[parts.length - 1];
      if (m && prev && /^block\d+$/.test(prev)) parts[parts.length - 1] = prev + m[1];
      else parts.push(b);
    }
    return parts.join('-');
  }
  const first = stage[0]!.layer.name;
  const last = stage[stage.length - 1]!.layer.name;
  return (first === last ? first : `${first}-${last}`).toLowerCase();
}
