export * from './common.js';
export * from './model.js';
export * from './system.js';
export * from './plan.js';
export * from './failures.js';
export * from './scenario.js';
