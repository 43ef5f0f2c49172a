import type { GuardAnswer, Side } from '../tree/types.js';
import type { Force, GuardTrip, PlanInput, PlanOptions, PlanTotals } from './types.js';

/**
 * "I can't see it" is never "the user deleted it": a missing root stops the folder; a root that
 * lists nothing while the Synced tree remembers files stops it unless forced.
 */
export function rootGuard(input: PlanInput, options: PlanOptions): GuardTrip | undefined {
  if (!input.local.rootExists) {
    return { guard: 'root', side: 'local', missing: true, reason: 'the local folder is missing or not a folder (unmounted drive?)' };
  }
  if (!input.remote.rootExists) return { guard: 'root', side: 'remote', missing: true, reason: 'the server folder does not exist' };
  const totals = totalsOf(input);
  if (totals.syncedEntries === 0) return undefined;
  const synced = totals.syncedEntries === 1 ? '1 entry was' : `${totals.syncedEntries} entries were`;
  const trip: GuardTrip | undefined =
    totals.localEntries === 0
      ? { guard: 'root', side: 'local', missing: false, reason: `the local folder is empty but ${synced} synced before (unmounted drive?)` }
      : totals.remoteEntries === 0
        ? { guard: 'root', side: 'remote', missing: false, reason: `the server folder is empty but ${synced} synced before` }
        : undefined;
  return trip && !overrides(options.force, trip) ? trip : undefined;
}

/** Whether `force` runs past `trip`: everything does, or the answer to this very stop. */
export function overrides(force: Force, trip: GuardTrip): boolean {
  if (typeof force === 'boolean') return force;
  switch (trip.guard) {
    case 'root':
      return force.guard === 'root' && force.side === trip.side && !trip.missing;
    case 'mass-delete':
      return force.guard === 'mass-delete' && force.side === trip.side && trip.count <= force.count;
    case 'binding':
      return force.guard === 'binding' && force.to === trip.to;
  }
}

/** What a `resume` of `trip` agrees to (see GuardAnswer); nothing for a missing folder. */
export function answerTo(trip: GuardTrip): GuardAnswer | undefined {
  switch (trip.guard) {
    case 'root':
      return trip.missing ? undefined : { guard: 'root', side: trip.side };
    case 'mass-delete':
      return { guard: 'mass-delete', side: trip.side, count: trip.count };
    case 'binding':
      return { guard: 'binding', side: trip.side, to: trip.to };
  }
}

/** The counts the guards judge by: given, or those of complete trees. */
export function totalsOf(input: PlanInput): PlanTotals {
  return (
    input.totals ?? {
      localEntries: input.local.nodes.length,
      remoteEntries: input.remote.nodes.length,
      syncedEntries: input.synced.length,
      syncedFiles: input.synced.reduce((count, node) => count + (node.kind === 'file' ? 1 : 0), 0),
    }
  );
}

/**
 * Counts deletions after move detection, so a renamed folder never looks like a mass delete, and
 * with those of the passes just before (`recentDeletes`), taken out of the same synced files.
 */
export function massDeleteGuard(input: PlanInput, options: PlanOptions, deletes: Readonly<Record<Side, number>>): GuardTrip | undefined {
  const { maxPercent, minCount, maxCount } = options.massDelete;
  for (const side of ['local', 'remote'] as const) {
    if (deletes[side] === 0) continue;
    const before = input.recentDeletes?.[side] ?? 0;
    const count = deletes[side] + before;
    const total = totalsOf(input).syncedFiles + before;
    const percent = total === 0 ? 0 : (count * 100) / total;
    if (count > maxCount || (count >= minCount && percent > maxPercent)) {
      const where = side === 'local' ? 'locally' : 'on the server';
      const counted = before === 0 ? `${count} of ${total} synced files ${where}` : `${deletes[side]} more synced files ${where} after ${before} within the window before, ${count} of ${total}`;
      const trip: GuardTrip = {
        guard: 'mass-delete',
        side,
        count,
        total,
        reason: `the run would delete ${counted} (limits: ${maxPercent}% from ${minCount} files, or ${maxCount} files)`,
      };
      if (!overrides(options.force, trip)) return trip;
    }
  }
  return undefined;
}
