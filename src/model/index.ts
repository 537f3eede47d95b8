// The model module: specs as data, shapes and costs, deterministic weights.
export * from './spec.js';
export * from './shapes.js';
export * from './weights.js';
