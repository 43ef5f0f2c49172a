import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';

// The module as the build compiles it, run first in a fresh node as the CLI runs it first.
const heapModule = transformSync(readFileSync(new URL('../../src/cli/heap.ts', import.meta.url), 'utf8'), { loader: 'ts', format: 'esm' }).code;

/**
 * Loads the CLI's heap settings in a fresh node, churns through short-lived objects as a scan
 * does, and reports how large V8 let the young generation grow, in MiB.
 */
function youngGenerationMiB(nodeArgs: readonly string[]): number {
  const script = `
    ${heapModule}
    const { getHeapSpaceStatistics } = await import('node:v8');
    let keep = [];
    for (let i = 0; i < 2e6; i++) {
      keep.push({ i, name: 'file-' + i });
      if (keep.length > 20000) keep = [];
    }
    const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    console.log(young.space_size / 1048576);
  `;
  return Number(execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8', cwd: fileURLToPath(new URL('.', import.meta.url)) }));
}

describe('the CLI heap settings', () => {
  it('keep the young generation at its initial size', () => {
    expect(youngGenerationMiB([])).toBeLessThanOrEqual(2);
  });

  it('apply the growth factor the user gave node instead', () => {
    expect(youngGenerationMiB(['--semi-space-growth-factor=2'])).toBeGreaterThan(2);
  });
});
