import { analyze } from './analyze.js';
import { emitActions } from './emit.js';
import { massDeleteGuard, rootGuard } from './guards.js';
import { matchItems } from './items.js';
import { decideTarget } from './target.js';
import type { Plan, PlanInput, PlanOptions } from './types.js';

/**
 * The planner: a pure function of the Local, Remote and Synced trees and the options. It never
 * reads the disk, the clock or the network, and never changes its inputs.
 */
export function plan(input: PlanInput, options: PlanOptions): Plan {
  const root = rootGuard(input, options);
  if (root) return { actions: [], skipped: [], stopped: root, deletes: { local: 0, remote: 0 } };
  const matched = matchItems(input);
  const views = analyze(matched);
  const target = decideTarget(input, matched, views, options);
  const { actions, deletes } = emitActions(matched, views, target, options);
  const mass = massDeleteGuard(input, options, deletes);
  if (mass) return { actions: [], skipped: target.skipped, stopped: mass, deletes };
  return { actions, skipped: target.skipped, deletes };
}
