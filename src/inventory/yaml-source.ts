// A YAML document that remembers where every node came from, so a checker can say
// "FILE:LINE:COL: field.path: what was expected" for any value, key or missing field.
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Document, type Node as YamlNode, type Pair } from 'yaml';

export type YamlPath = (string | number)[];

/** One problem found in a file; `field` is the dotted path of the offending value. */
export interface Issue {
  file: string;
  line: number;
  col: number;
  field: string;
  message: string;
}

export function formatIssue(i: Issue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.field ? `${i.field}: ` : ''}${i.message}`;
}

/** Several issues at once: the message lists them one per line, in file order. */
export class YamlCheckError extends Error {
  readonly userFacing = true;
  constructor(readonly issues: Issue[]) {
    super(
      [...issues]
        // by file (in the order files were first named), then by position within the file
        .sort((a, b) => fileRank(issues, a.file) - fileRank(issues, b.file) || a.line - b.line || a.col - b.col)
        .map(formatIssue)
        .join('\n'),
    );
    this.name = new.target.name;
  }
}

function fileRank(issues: Issue[], file: string): number {
  return issues.findIndex((i) => i.file === file);
}

export class YamlSource {
  readonly doc: Document.Parsed;
  readonly issues: Issue[] = [];
  private readonly lc = new LineCounter();

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lc, uniqueKeys: false, prettyErrors: false });
    for (const e of this.doc.errors) {
      const p = this.lc.linePos(e.pos[0]);
      this.issues.push({ file, line: p.line, col: p.col, field: '', message: `YAML syntax: ${e.message.split('\n')[0]!}` });
    }
  }

  /** The plain JS value of the whole document. */
  toJS(): unknown {
    return this.doc.toJS();
  }

  /**
   * The node at `path` (or its key when `onKey`); when the path does not exist, the deepest
   * ancestor that does, so a missing field is reported where its parent is written.
   */
  private find(path: YamlPath, onKey: boolean): { range?: [number, number, number] | null } | undefined {
    let node: unknown = this.doc.contents;
    let last: unknown = node;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      let pair: Pair | undefined;
      let next: unknown;
      if (isMap(node)) {
        pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        next = pair?.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        next = node.items[seg];
      }
      if (pair && onKey && i === path.length - 1) return pair.key as YamlNode;
      if (next === undefined || next === null) return (pair?.key as YamlNode | undefined) ?? (last as YamlNode);
      node = next;
      last = next;
    }
    return node as YamlNode;
  }

  pos(path: YamlPath, onKey = false): { line: number; col: number } {
    const n = this.find(path, onKey);
    const r = n?.range;
    if (!r) return { line: 1, col: 1 };
    return this.lc.linePos(r[0]);
  }

  /**
   * Record a problem with the value (or key) at `path`. `at` points the position elsewhere (e.g.
   * a missing field is reported at its host's name) while the field stays `path`.
   */
  add(path: YamlPath, message: string, onKey = false, at?: YamlPath): void {
    const { line, col } = this.pos(at ?? path, onKey);
    this.issues.push({ file: this.file, line, col, field: path.join('.'), message });
  }

  /** Keys of the mapping at `path` in order, with duplicates (the yaml package keeps them). */
  keys(path: YamlPath): string[] {
    const n = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    if (!isMap(n)) return [];
    return n.items.map((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)));
  }

  /** Reports keys of the mapping at `path` that are not in `allowed`. */
  checkKeys(path: YamlPath, value: unknown, allowed: readonly string[]): void {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return;
    for (const k of this.keys(path)) {
      if (!allowed.includes(k)) this.add([...path, k], `unknown key "${k}"; expected one of ${allowed.join(', ')}`, true);
    }
  }

  /** Reports keys written twice in the mapping at `path` (YAML allows it; we do not). */
  checkDuplicateKeys(path: YamlPath, what: string): void {
    const n = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    if (!isMap(n)) return;
    const seen = new Map<string, number>();
    for (const p of n.items) {
      const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
      if (seen.has(k)) {
        const r = (p.key as YamlNode).range;
        const first = this.lc.linePos(seen.get(k)!);
        const at = r ? this.lc.linePos(r[0]) : { line: 1, col: 1 };
        this.issues.push({ file: this.file, line: at.line, col: at.col, field: [...path, k].join('.'), message: `duplicate ${what} "${k}" (first defined at line ${first.line})` });
      } else {
        seen.set(k, (p.key as YamlNode).range?.[0] ?? 0);
      }
    }
  }
}
