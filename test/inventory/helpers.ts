// Writes inventory text to a temporary file and returns its path, for loader tests.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'pifarm-inv-'));
let n = 0;

export function writeInventory(lines: string[], name = `inv-${++n}.yaml`): string {
  const f = join(dir, name);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

export function tempDir(): string {
  return dir;
}

/** The five-host AlexNet farm of the paper, line by line, for tests to vary. */
export function farm5(): string[] {
  return [
    'defaults:', //                                  1
    '  user: pi', //                                 2
    'hosts:', //                                     3
    '  pi1: 192.168.1.3', //                         4
    '  pi2: 192.168.1.4', //                         5
    '  pi3: 192.168.1.5', //                         6
    '  pi4: 192.168.1.6', //                         7
    'farm:', //                                      8
    '  model: alexnet', //                           9
    '  topology: alexnet-5', //                      10
    '  assignment:', //                              11
    '    block1: [pi1]', //                          12
    '    fc1: [pi2, pi3]', //                        13
    '    fc2: [pi4]', //                             14
  ];
}
