import * as z from 'zod';

/*
 * The JSON that Cloudreve v3 answers, validated where it enters the client. Only the fields the
 * client reads are declared; zod drops the others, so a newer server adding keys breaks nothing.
 */

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Go marshals `time.Time` as RFC 3339 with an offset; compared as instants (epoch ms), never as strings. */
export function parseInstant(text: string): number | undefined {
  if (!rfc3339.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

const instant = z.string().transform((text, ctx) => {
  const ms = parseInstant(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not an RFC 3339 time: ${text}` });
    return z.NEVER;
  }
  return ms;
});

export const envelopeSchema = z.object({
  code: z.number().int(),
  data: z.unknown().optional(),
  msg: z.string().optional().default(''),
});
export type Envelope = z.output<typeof envelopeSchema>;

export const objectSchema = z.object({
  id: z.string(),
  name: z.string(),
  size: z.number().nonnegative(),
  type: z.enum(['dir', 'file']),
  date: instant,
  create_date: instant,
});

export const policySchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  max_size: z.number().nonnegative(),
  file_type: z.array(z.string()).nullish(),
});

export const listingSchema = z.object({
  parent: z.string(),
  objects: z.array(objectSchema).nullish(),
  policy: policySchema,
});

export const uploadCredentialSchema = z.object({
  sessionID: z.string().min(1),
  chunkSize: z.number().int().nonnegative(),
  expires: z.number(),
  uploadURLs: z.array(z.string()).nullish(),
  credential: z.string().optional(),
  completeURL: z.string().optional(),
});
export type UploadCredential = z.output<typeof uploadCredentialSchema>;

export const userSchema = z.object({
  id: z.string(),
  user_name: z.string(),
  nickname: z.string(),
  status: z.number().int(),
  created_at: instant,
  anonymous: z.boolean().optional().default(false),
  group: z.object({
    id: z.number().int(),
    name: z.string(),
    allowShare: z.boolean().optional().default(false),
    webdav: z.boolean().optional().default(false),
    sourceBatch: z.number().int().optional().default(0),
  }),
});

export const siteConfigSchema = z.object({
  title: z.string(),
  loginCaptcha: z.boolean().optional().default(false),
  registerEnabled: z.boolean().optional().default(false),
  authn: z.boolean().optional().default(false),
  user: userSchema,
});

/** What the session keep-alive needs from `GET /site/config`; lenient so a theme change never breaks it. */
export const siteUserSchema = z.object({ user: z.object({ anonymous: z.boolean().optional().default(false) }) });

export const storageSchema = z.object({
  used: z.number().nonnegative(),
  free: z.number().nonnegative(),
  total: z.number().nonnegative(),
});

export const propertySchema = z.object({
  created_at: instant,
  updated_at: instant,
  policy: z.string().optional(),
  size: z.number().nonnegative(),
  child_folder_num: z.number().int().nonnegative(),
  child_file_num: z.number().int().nonnegative(),
  path: z.string().optional(),
  query_date: instant,
});

export const sourceLinksSchema = z.array(
  z.object({ url: z.string(), name: z.string(), error: z.string().optional() }),
);

/** WebDAV accounts are raw DB rows, hence Go field names. The account password is left out on purpose. */
export const webdavAccountsSchema = z.object({
  accounts: z.array(
    z.object({
      ID: z.number().int(),
      CreatedAt: instant,
      Name: z.string(),
      Root: z.string(),
      Readonly: z.boolean().optional().default(false),
      UseProxy: z.boolean().optional().default(false),
    }),
  ),
});

export const stringDataSchema = z.string();
