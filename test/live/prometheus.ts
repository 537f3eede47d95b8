// /metrics read with a Prometheus text-format parser (parse-prometheus-text-format, a port of the
// Prometheus Python client's parser), not with regexes: a malformed line or a wrong type fails here.
import { createRequire } from 'node:module';

interface Family {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: { value?: string; labels?: Record<string, string> }[];
}

// a CommonJS package without types: its one function, typed here
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

export interface Metrics {
  families: Family[];
  /** the value of `name`'s sample whose labels include `labels` (undefined when none) */
  value(name: string, labels?: Record<string, string>): number | undefined;
  type(name: string): Family['type'] | undefined;
}

export function parseMetrics(text: string): Metrics {
  const families = parse(text);
  const family = (name: string) => families.find((f) => f.name === name);
  return {
    families,
    type: (name) => family(name)?.type,
    value(name, labels = {}) {
      const m = family(name)?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
      return m?.value === undefined ? undefined : Number(m.value);
    },
  };
}
