// Imported rather than read from disk: the build bundles it, and no path to package.json has
// to hold for both src/ and the bundled dist/.
import manifest from '../package.json' with { type: 'json' };

export const version: string = manifest.version;
export const userAgent = `cloudreve-sync/${version}`;
