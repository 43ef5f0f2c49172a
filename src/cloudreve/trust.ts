import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

/**
 * The certificate authorities to trust when a private one (`ca`) is configured. Node's `ca`
 * option replaces the ones it trusts by default instead of adding to them, and the server's
 * download URLs may lead elsewhere (a CDN, a storage provider, a slave node) under a publicly
 * trusted certificate: so the private one comes on top of Node's bundled list and of
 * NODE_EXTRA_CA_CERTS, which Node reads into its default list only.
 */
export function trustedAuthorities(ca: string | Buffer, env: NodeJS.ProcessEnv = process.env): string[] {
  const extraFile = env.NODE_EXTRA_CA_CERTS;
  const extra = extraFile === undefined || extraFile === '' ? [] : readExtra(extraFile);
  return [...rootCertificates, ...extra, ca.toString()];
}

function readExtra(file: string): string[] {
  try {
    return [readFileSync(file, 'utf8')];
  } catch {
    // Node itself only warns about an unreadable file and goes on without it.
    return [];
  }
}
