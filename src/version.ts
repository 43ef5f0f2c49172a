import { readFileSync } from 'node:fs';

// Both src/ (under tsx) and dist/ sit one level below package.json.
const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export const version: string = manifest.version;
export const userAgent = `cloudreve-sync/${version}`;
