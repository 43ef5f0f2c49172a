import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from './app.js';
import type { FaultPlan } from './faults.js';
import { IdType } from './ids.js';
import { readText, sendPlain } from './server.js';
import type { Policy } from './store.js';
import type { Fault, PolicyChange, PolicyType, Standin, StandinControl } from './types.js';

const policyTypes: readonly PolicyType[] = ['local', 'remote', 'onedrive', 's3'];

function byteCount(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} expects an integer >= 0, got ${String(value)}`);
  }
  return value;
}

/** Validates a policy change and applies it to `base`. */
export function mergePolicy(base: Omit<Policy, 'id' | 'name'>, change: PolicyChange): Omit<Policy, 'id' | 'name'> {
  if (typeof change !== 'object' || change === null) throw new TypeError('setPolicy expects an object');
  const { type = base.type, chunkSize = base.chunkSize, maxSize = base.maxSize, fileTypes = base.fileTypes, baseUrl = base.baseUrl ?? '' } = change;
  if (!policyTypes.includes(type)) throw new RangeError(`policy type must be one of ${policyTypes.join(', ')}, got ${String(type)}`);
  if (!Array.isArray(fileTypes) || !fileTypes.every((t) => typeof t === 'string')) throw new TypeError('fileTypes expects an array of strings');
  if (typeof baseUrl !== 'string' || (baseUrl !== '' && !URL.canParse(baseUrl))) throw new TypeError(`baseUrl expects a URL or '', got ${String(baseUrl)}`);
  return {
    type,
    chunkSize: byteCount('chunkSize', chunkSize),
    maxSize: byteCount('maxSize', maxSize),
    fileTypes: [...fileTypes],
    ...(baseUrl === '' ? {} : { baseUrl }),
  };
}

/** The in-process control surface of a running stand-in. */
export function createControl(app: App, plan: FaultPlan): StandinControl {
  const { store } = app;
  const userGroups = [store.group(1), store.group(2)];
  return {
    failNext: (route, count, fault) => plan.failNext(route, count, fault),
    pendingFaults: () => plan.pending(),
    setLatency: (ms) => plan.setLatency(ms),
    delayNext: (route, ms) => plan.delayNext(route, ms),
    dropNextChunk: (afterBytes) => plan.dropNextChunk(afterBytes),
    pauseCancelAll: (ms) => {
      app.uploads.cancelAllPauseMs = byteCount('pauseCancelAll', ms);
    },
    expireLoginSessions: () => app.sessions.clear(),
    expireUploadSessions: () => app.uploads.expireAll(),
    advanceClock: (ms) => app.clock.advance(ms),
    backdateFile: (id, ms) => {
      const file = store.files.get(app.ids.decode(id, IdType.file) ?? -1);
      if (file === undefined) throw new RangeError(`backdateFile: no file ${id}`);
      file.updatedAt -= byteCount('backdateFile', ms);
    },
    setQuota: (bytes) => {
      byteCount('setQuota', bytes);
      for (const group of userGroups) group.quota = bytes;
    },
    setPolicy: (change) => {
      const current = store.policy(store.group(1).policyId);
      const next = mergePolicy(current, change);
      if (next.type === current.type) {
        store.policies.set(current.id, { id: current.id, name: current.name, ...next });
        return;
      }
      // A new policy id, so a client holding the old policy_id gets 40006.
      const policy = store.addPolicy(next);
      for (const group of userGroups) group.policyId = policy.id;
    },
    requestCounts: () => plan.counts(),
    requestWindows: () => plan.windows(),
    resetCounts: () => plan.resetCounts(),
    openUploadSessions: () =>
      [...store.placeholders.values()].flatMap((id) => {
        const file = store.files.get(id);
        const user = file === undefined ? undefined : store.users.get(file.ownerId);
        if (file === undefined || file.uploadSessionId === null || user === undefined) return [];
        return [{ sessionId: file.uploadSessionId, user: user.email, path: store.folderPath(store.folder(file.folderId)), name: file.name }];
      }),
  };
}

const text = (value: unknown, what: string): string => {
  if (typeof value !== 'string') throw new TypeError(`${what} expects a string`);
  return value;
};
const number = (value: unknown, what: string): number => {
  if (typeof value !== 'number') throw new TypeError(`${what} expects a number`);
  return value;
};

/**
 * `POST /__standin/control` with `{"op": "...", "args": [...]}` → `{"ok": true, "result": ...}`, or
 * HTTP 400 `{"ok": false, "error": "..."}`. The ops are the StandinControl methods plus addUser.
 */
export function controlEndpoint(control: StandinControl, addUser: Standin['addUser']): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const ops: Readonly<Record<string, (args: readonly unknown[]) => unknown>> = {
    failNext: ([route, count, fault]) => control.failNext(text(route, 'route'), number(count, 'count'), text(fault, 'fault') as Fault),
    pendingFaults: () => control.pendingFaults(),
    setLatency: ([ms]) => control.setLatency(number(ms, 'ms')),
    delayNext: ([route, ms]) => control.delayNext(text(route, 'route'), number(ms, 'ms')),
    dropNextChunk: ([afterBytes]) => control.dropNextChunk(number(afterBytes, 'afterBytes')),
    pauseCancelAll: ([ms]) => control.pauseCancelAll(number(ms, 'ms')),
    expireLoginSessions: () => control.expireLoginSessions(),
    expireUploadSessions: () => control.expireUploadSessions(),
    advanceClock: ([ms]) => control.advanceClock(number(ms, 'ms')),
    backdateFile: ([id, ms]) => control.backdateFile(text(id, 'id'), number(ms, 'ms')),
    setQuota: ([bytes]) => control.setQuota(number(bytes, 'bytes')),
    setPolicy: ([change]) => control.setPolicy(change as PolicyChange),
    requestCounts: () => control.requestCounts(),
    requestWindows: () => control.requestWindows(),
    resetCounts: () => control.resetCounts(),
    openUploadSessions: () => control.openUploadSessions(),
    addUser: ([email, password, options]) => addUser(text(email, 'email'), text(password, 'password'), options ?? {}),
  };
  return async (req, res) => {
    const body = await readText(req);
    let status = 200;
    let answer: unknown;
    try {
      const request = JSON.parse(body) as { op?: unknown; args?: unknown };
      const op = typeof request.op === 'string' ? ops[request.op] : undefined;
      if (op === undefined) throw new RangeError(`unknown op ${String(request.op)}; known: ${Object.keys(ops).join(', ')}`);
      answer = { ok: true, result: op(Array.isArray(request.args) ? request.args : []) ?? null };
    } catch (error) {
      status = 400;
      answer = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    sendPlain(res, status, { 'Content-Type': 'application/json' }, JSON.stringify(answer));
  };
}
