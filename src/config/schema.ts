import * as z from 'zod';
import { duration, interval } from './duration.js';
import { byteSize } from './size.js';

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

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

const log = z
  .strictObject({
    level: z.enum(logLevels).default('info'),
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
  })
  .prefault({});

/** Operating-system and editor droppings that no one wants mirrored (rules match case-sensitively). */
export const defaultIgnorePatterns: readonly string[] = ['.DS_Store', '[Tt]humbs.db', '[Dd]esktop.ini', '.~lock.*#', '~$*'];

const folder = z.strictObject({
  // The name is a folder in the state directory (the local trash's), so `.` and `..` would leave it.
  name: z.string().regex(/^(?!\.\.?$)[\w.-]+$/, 'expected a short name of letters, digits, ".", "-" or "_" (not "." or "..")'),
  local: z.string().min(1, 'expected the absolute path of the local folder'),
  remote: z.string().regex(/^\/(?!.*\/$)|^\/$/, 'expected an absolute server path starting with / (no trailing /)'),
  mode: z.enum(['two-way', 'upload-only', 'download-only']).default('two-way'),
  ignore: z.array(z.string()).default([...defaultIgnorePatterns]),
  conflict: z.enum(['keep-both', 'newer', 'local', 'remote']).default('keep-both'),
  massDelete: z
    .strictObject({
      maxPercent: z.number().min(0).max(100).default(50),
      minCount: z.number().int().nonnegative().default(10),
      maxCount: z.number().int().nonnegative().default(1000),
      // Deletes of the passes within this long count with a pass's own (0: each pass alone).
      window: duration.default(0),
    })
    .prefault({}),
  trash: z
    .strictObject({
      keepDays: z.number().int().nonnegative().default(30),
      remote: z.string().regex(/^\/./, 'expected an absolute server path starting with /').optional(),
    })
    .prefault({}),
});

const sync = z
  .strictObject({
    /** Transfers and other actions running at once. */
    concurrency: z.number().int().min(1).max(64).default(4),
    /** Actions started per second at most; 0 means no limit. */
    requestsPerSecond: z.number().nonnegative().default(0),
    /** Attempts for an action that failed with a transient error. */
    retries: z.number().int().min(0).max(10).default(3),
    /** A file modified more recently than this is still being written and waits. */
    settleTime: duration.default(1000),
    /** Larger files are replaced by upload-and-swap instead of one request. */
    replaceMaxSize: byteSize.default(100 * 1024 * 1024),
  })
  .prefault({});

const daemon = z
  .strictObject({
    /** How often the server side is walked for changes made there. */
    remoteInterval: interval.default(60_000),
    /** How often both sides are scanned in full, catching what the file watcher missed. */
    fullRescanInterval: interval.default(3_600_000),
    /** Local changes are collected this long before a pass starts. */
    debounce: duration.default(1000),
    /** /healthz fails when no pass of a folder succeeded for this long. */
    healthyWithin: duration.default(3 * 3_600_000),
    status: z
      .strictObject({
        listen: z
          .string()
          .regex(/^(off|\[?[\w.:-]+\]?:\d{1,5})$/, 'expected "host:port", e.g. 127.0.0.1:9123, or "off"')
          .refine((listen) => listen === 'off' || Number(listen.slice(listen.lastIndexOf(':') + 1)) <= 65_535, 'expected a port from 0 to 65535')
          .default('127.0.0.1:9123'),
      })
      .prefault({}),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    server,
    stateDir: z.string().min(1).optional(),
    log,
    sync,
    daemon,
    folders: z.array(folder).default([]),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.folders.forEach((f, i) => {
      if (seen.has(f.name)) ctx.addIssue({ code: 'custom', path: ['folders', i, 'name'], message: `duplicate folder name "${f.name}"` });
      seen.add(f.name);
    });
  });

/** The config file as written, after defaults. */
export type ConfigFile = z.output<typeof configSchema>;
