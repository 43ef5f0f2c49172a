export { plan } from './plan.js';
export { conflictName, utcConflictStamp } from './names.js';
export type * from './types.js';
export { answerTo, overrides } from './guards.js';
export { sourceOf } from './target.js';
