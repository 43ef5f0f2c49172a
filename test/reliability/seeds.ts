/**
 * Which random cases run: `SEED=<n>` replays one; otherwise `RANDOM_CASES` fixed seeds (1, 2, ...),
 * so that CI runs the same bounded set every time. `RANDOM_ROUNDS` sets the rounds per case.
 */
export function caseSeeds(): number[] {
  const replay = process.env.SEED;
  if (replay !== undefined && replay !== '') return [Number(replay)];
  const count = Number(process.env.RANDOM_CASES ?? 6);
  return Array.from({ length: count }, (_, i) => i + 1);
}

export function roundsPerCase(): number {
  return Number(process.env.RANDOM_ROUNDS ?? 8);
}
