import { z } from 'zod';
import { duration } from './duration.js';

const httpUrl = z
  .string()
  .refine((value) => /^https?:\/\/[^/\s]+/i.test(value) && URL.canParse(value), {
    message: 'expected an http:// or https:// URL',
  })
  .transform((value) => value.replace(/\/+$/, ''));

const server = z.strictObject({
  url: httpUrl,
  username: z.string().min(1, 'expected the e-mail address you log in with'),
  password: z.string().min(1).optional(),
  passwordFile: z.string().min(1).optional(),
  totpSecret: z
    .string()
    .regex(/^[A-Za-z2-7\s=]+$/, 'expected the base32 secret shown when two-factor login was enabled')
    .optional(),
  timeouts: z
    .strictObject({
      connect: duration.default(10_000),
      response: duration.default(60_000),
      idle: duration.default(120_000),
    })
    .prefault({}),
  tls: z
    .strictObject({
      ca: z.string().min(1).optional(),
      insecureSkipVerify: z.boolean().default(false),
    })
    .prefault({}),
});

const log = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
  })
  .prefault({});

export const configSchema = z.strictObject({
  server,
  stateDir: z.string().min(1).optional(),
  log,
});

/** The config file as written, after defaults. */
export type ConfigFile = z.output<typeof configSchema>;
