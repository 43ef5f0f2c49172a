import fc from 'fast-check';
import { utcConflictStamp } from '../../src/plan/names.js';
import type { ConflictPolicy, PlanOptions, SyncMode } from '../../src/plan/types.js';
import { isWithin, joinPath } from '../../src/tree/paths.js';
import type { LocalWorld, RemoteWorld } from './world.js';

/** Random user activity for the planner property tests, as shrinkable fast-check values. */

const names = ['a', 'b', 'c.txt', 'D', 'd'];

export type OpKind = 'write' | 'replace' | 'mkdir' | 'delete' | 'move';
export interface Op {
  readonly side: 'local' | 'remote';
  readonly kind: OpKind;
  readonly pick: number;
  readonly dir: number;
  readonly name: number;
}

export const op: fc.Arbitrary<Op> = fc.record({
  side: fc.constantFrom('local' as const, 'remote' as const),
  kind: fc.constantFrom<OpKind>('write', 'write', 'replace', 'mkdir', 'delete', 'move'),
  pick: fc.nat(),
  dir: fc.nat(),
  name: fc.nat(names.length - 1),
});

export interface Scenario {
  readonly initial: Op[];
  readonly rounds: Op[][];
}

export const scenario: fc.Arbitrary<Scenario> = fc.record({
  initial: fc.array(op, { maxLength: 12 }),
  rounds: fc.array(fc.array(op, { maxLength: 6 }), { minLength: 1, maxLength: 4 }),
});

export class Activity {
  #version = 0;
  /** Versions a user overwrote or deleted: a sync may let them go. */
  readonly superseded = new Set<string>();

  constructor(
    readonly local: LocalWorld,
    readonly remote: RemoteWorld,
  ) {}

  /** A version whose size no earlier version had. */
  nextUniqueSizeContent(): string {
    const n = ++this.#version;
    return `v${n}`.padEnd(16 + n, '+');
  }

  nextContent(): string {
    const n = ++this.#version;
    return `v${n}${'x'.repeat(n % 3)}`;
  }

  run(o: Op): void {
    if (o.side === 'local') this.#local(o);
    else this.#remote(o);
  }

  #local(o: Op): void {
    const { local } = this;
    const dirs = ['', ...[...local.entries].filter(([, e]) => e.kind === 'dir').map(([p]) => p)];
    const all = [...local.entries.keys()];
    const dir = dirs[o.dir % dirs.length] ?? '';
    const path = joinPath(dir, names[o.name] ?? 'a');
    const existing = local.entries.get(path);
    switch (o.kind) {
      case 'write':
      case 'replace':
        if (existing?.kind === 'dir') return;
        if (existing) this.superseded.add(existing.content);
        if (o.kind === 'replace') local.replace(path, this.nextContent());
        else local.write(path, this.nextContent());
        return;
      case 'mkdir':
        if (!existing) local.mkdir(path);
        return;
      case 'delete': {
        const victim = all[o.pick % Math.max(all.length, 1)];
        if (victim === undefined) return;
        for (const [p, e] of local.entries) if (isWithin(p, victim) && e.kind === 'file') this.superseded.add(e.content);
        local.remove(victim, false);
        return;
      }
      case 'move': {
        const mover = all[o.pick % Math.max(all.length, 1)];
        if (mover === undefined || existing || isWithin(dir, mover)) return;
        local.move(mover, path);
        return;
      }
    }
  }

  #remote(o: Op): void {
    const { remote } = this;
    const entries = [...remote.byId.values()];
    const dirs = ['', ...entries.filter((e) => e.kind === 'dir').map((e) => e.path)];
    const dir = dirs[o.dir % dirs.length] ?? '';
    const path = joinPath(dir, names[o.name] ?? 'a');
    // Keep the server free of a file and a folder sharing a name: a disk cannot mirror that.
    const taken = remote.find(path, 'file') ?? remote.find(path, 'dir');
    switch (o.kind) {
      case 'write':
      case 'replace': {
        if (taken?.kind === 'dir') return;
        if (taken) {
          this.superseded.add(taken.content);
          if (o.kind === 'replace') {
            remote.remove(taken.id, false);
            remote.create(path, 'file', this.nextContent());
          } else {
            // Cloudreve v3 lists no checksum and bumps the date on moves: an in-place edit that
            // keeps the size, followed by a move, is indistinguishable from the move alone (see
            // README, known limitations). Remote edits here therefore give a size no version had before.
            remote.update(taken.id, this.nextUniqueSizeContent());
          }
          return;
        }
        remote.create(path, 'file', this.nextContent());
        return;
      }
      case 'mkdir':
        if (!taken) remote.create(path, 'dir');
        return;
      case 'delete': {
        const victim = entries[o.pick % Math.max(entries.length, 1)];
        if (!victim) return;
        for (const e of entries) if (isWithin(e.path, victim.path) && e.kind === 'file' && (e === victim || victim.kind === 'dir')) this.superseded.add(e.content);
        remote.remove(victim.id, false);
        return;
      }
      case 'move': {
        const mover = entries[o.pick % Math.max(entries.length, 1)];
        if (!mover || taken || isWithin(dir, mover.path)) return;
        remote.move(mover.id, path);
        return;
      }
    }
  }
}


/** Planner options for random activity: no guards in the way, every name legal. */
export function randomActivityOptions(mode: SyncMode, conflictPolicy: ConflictPolicy, remoteTrash: boolean): PlanOptions {
  return {
    mode,
    conflictPolicy,
    massDelete: { maxPercent: 100, minCount: 1, maxCount: Number.MAX_SAFE_INTEGER },
    force: true,
    localCaseInsensitive: false,
    remoteTrash,
    remoteNameProblem: () => undefined,
    localNameProblem: () => undefined,
    conflictStamp: utcConflictStamp,
  };
}
