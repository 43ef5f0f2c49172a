import { randomBytes } from 'node:crypto';
import { CloudreveV3, type CloudreveV3Options } from '../../src/cloudreve/index.js';
import { startStandin, type Standin } from '../standin/index.js';

/*
 * Where the contract tests run: the stand-in server by default, a real Cloudreve v3 when
 * CLOUDREVE_URL, CLOUDREVE_USER and CLOUDREVE_PASSWORD (and CLOUDREVE_TOTP_SECRET for an account
 * with two-factor login) are set. On a real server every test file works in a scratch folder of
 * its own, deleted at the end.
 */

const env = process.env;
const real =
  env.CLOUDREVE_URL !== undefined && env.CLOUDREVE_URL !== ''
    ? {
        url: env.CLOUDREVE_URL,
        username: env.CLOUDREVE_USER ?? '',
        password: env.CLOUDREVE_PASSWORD ?? '',
        totpSecret: env.CLOUDREVE_TOTP_SECRET,
      }
    : undefined;

/** True when the tests run against a real server: stand-in-only checks are skipped. */
export const onRealServer = real !== undefined;

/** Whether a two-factor login can be tested: always on the stand-in, with a TOTP secret on a real server. */
export const hasTwoFactorAccount = real === undefined || (real.totpSecret ?? '') !== '';

export type StandinOptions = NonNullable<Parameters<typeof startStandin>[0]>;

export interface Target {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly totpSecret: string | undefined;
  /** The stand-in with its fault controls; undefined on a real server. */
  readonly standin: Standin | undefined;
  /** The scratch folder of this test file. */
  readonly root: string;
  /** `root` joined with more segments. */
  path(...segments: string[]): string;
  /** A client for the target's account; closed by `close()`. */
  client(overrides?: Partial<CloudreveV3Options>): CloudreveV3;
  /** Deletes the scratch folder, closes the clients, stops the stand-in. */
  close(): Promise<void>;
}

/** The stand-in, where a test cannot do without its controls; fails loudly on a real server. */
export function standinOf(target: Target): Standin {
  if (target.standin === undefined) throw new Error('this check needs the stand-in server');
  return target.standin;
}

interface Account {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly totpSecret: string | undefined;
}

async function connect(options: StandinOptions): Promise<{ account: Account; standin: Standin | undefined }> {
  if (real !== undefined) return { account: real, standin: undefined };
  const standin = await startStandin(options);
  return {
    account: { url: standin.url, username: standin.admin.email, password: standin.admin.password, totpSecret: undefined },
    standin,
  };
}

export async function openTarget(options: StandinOptions = {}): Promise<Target> {
  const { account, standin } = await connect(options);
  const root = `/contract-${randomBytes(4).toString('hex')}`;
  const clients: CloudreveV3[] = [];
  const client = (overrides: Partial<CloudreveV3Options> = {}): CloudreveV3 => {
    const created = new CloudreveV3({
      url: account.url,
      username: account.username,
      password: account.password,
      ...(account.totpSecret === undefined ? {} : { totpSecret: account.totpSecret }),
      ...overrides,
    });
    clients.push(created);
    return created;
  };
  const admin = client();
  await admin.mkdir(root);
  return {
    ...account,
    standin,
    root,
    path: (...segments) => [root, ...segments].join('/'),
    client,
    close: async () => {
      try {
        const scratch = await admin.stat(root, 'dir');
        if (scratch !== undefined) await admin.delete([scratch]);
      } finally {
        for (const each of clients) each.close();
        await standin?.close();
      }
    },
  };
}
