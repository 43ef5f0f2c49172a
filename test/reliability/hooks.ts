import { afterAll, afterEach, expect } from 'vitest';
import { closeOpenRigs, secretLeaks } from './rig.js';

/**
 * What every reliability test file needs: the rigs a test started are closed after it, and once
 * the file is done, no line any CLI run printed may hold a secret.
 */
export function useReliabilityHooks(): void {
  afterEach(closeOpenRigs);
  afterAll(() => {
    expect(secretLeaks()).toEqual([]);
  });
}
