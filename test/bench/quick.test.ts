import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The benchmarks' smoke run: every benchmark at small sizes, against the built CLI and the
 * stand-in in a process of its own. It keeps them from rotting unnoticed; no figure is judged.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run bench -- --quick', () => {
  it('runs every benchmark to the end and prints its table', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'bench/main.ts', '--quick'], { cwd: root, maxBuffer: 16 << 20 }, (_error, out, err) => {
        resolve({ code: child.exitCode, stdout: out, stderr: err });
      });
    });
    expect(code, stderr.split('\n').slice(-30).join('\n')).toBe(0);
    for (const id of [1, 2, 3, 4, 5, 6]) expect(stdout).toMatch(new RegExp(`^\\| ${id} \\| .+ \\| \\d`, 'm'));
    expect(stdout).not.toContain('skipped');
    expect(stdout).toContain('quick run: small sizes, goals not judged');
  }, 300_000);
});
