/**
 * `npx tsx bench/profile-summary.ts FILE.cpuprofile [top]`: where a V8 CPU profile (written by
 * `npm run bench -- --cpu-prof DIR`) spends its time: self time by function and by source
 * file, and inclusive time of the project's own functions.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

const file = process.argv[2];
const top = Number(process.argv[3] ?? '25');
if (file === undefined) {
  console.error('usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [top]');
  process.exit(2);
}

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totalUs = profile.endTime - profile.startTime;

const shortUrl = (url: string): string => {
  if (url === '') return '(native)';
  const at = url.search(/\/(dist|src|node_modules)\//);
  return at >= 0 ? url.slice(at + 1) : url.replace(/^file:\/\//, '');
};
const label = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName === '' ? '(anonymous)' : functionName} ${shortUrl(url)}${url === '' ? '' : `:${lineNumber + 1}`}`;
};

const sum = (map: Map<string, number>, key: string, us: number): void => {
  map.set(key, (map.get(key) ?? 0) + us);
};
const selfByFunction = new Map<string, number>();
const selfByFile = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  sum(selfByFunction, label(node), us);
  const url = node.callFrame.url;
  const fileKey = url === '' ? `(native) ${node.callFrame.functionName}` : shortUrl(url).replace(/^node_modules\/((@[^/]+\/)?[^/]+).*/, 'node_modules/$1');
  sum(selfByFile, fileKey, us);
  // Inclusive time of the project's own functions (each counted once per sample stack).
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const frame = byId.get(at);
    if (!frame || !/\/(dist|src)\//.test(frame.callFrame.url)) continue;
    const key = label(frame);
    if (seen.has(key)) continue;
    seen.add(key);
    sum(inclusive, key, us);
  }
}

const print = (title: string, map: Map<string, number>): void => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((us * 100) / totalUs).toFixed(1).padStart(5)}%  ${key}`);
  }
};
console.log(`${file}: ${(totalUs / 1000).toFixed(0)} ms profiled`);
print('self time by function', selfByFunction);
print('self time by file or package', selfByFile);
print("inclusive time of the project's functions", inclusive);
