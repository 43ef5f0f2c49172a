import { describe, expect, it } from 'vitest';
import { pathsToLookAgain } from '../../src/exec/executor.js';
import { plan } from '../../src/plan/plan.js';
import { openMemoryState } from '../helpers/memory-state.js';
import { examplePlanOptions as options, relevantInput } from '../plan/inputs.js';
import { apply, Clock, LocalWorld, RemoteWorld } from '../plan/world.js';

describe('the paths an action left undone has looked at again (the daemon)', () => {
  it('are both ends of a move: a pass over the new one alone takes the old one for still there', async () => {
    const clock = new Clock();
    const local = new LocalWorld(clock);
    const remote = new RemoteWorld(clock);
    const state = openMemoryState();
    try {
      local.mkdir('A');
      local.write('A/x.txt', 'x');
      const first = plan(relevantInput(state, local, remote), options);
      expect((await apply(first.actions, local, remote, state.tree, { remoteTrash: false })).failed).toEqual([]);
      local.move('A', 'B');
      const moves = plan(relevantInput(state, local, remote), options).actions.filter((action) => action.type === 'move');
      expect(moves).toHaveLength(1);
      expect(pathsToLookAgain(moves[0]!)).toEqual(['A', 'B']);
    } finally {
      state.close();
    }
  });
});
