import { setImmediate } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { UploadGate } from '../../src/cloudreve/upload/gate.js';

describe('UploadGate', () => {
  it('cancels only once the uploads under way have ended, and starts none meanwhile', async () => {
    // Cloudreve finds the unfinished uploads, then deletes their files: one completing in between is deleted whole.
    const gate = new UploadGate();
    const events: string[] = [];
    let finishUpload = (): void => undefined;
    const underWay = gate.upload(async () => {
      await new Promise<void>((resolve) => (finishUpload = resolve));
      events.push('upload under way ended');
    });
    let finishCancel = (): void => undefined;
    const cancelling = gate.cancel(async () => {
      events.push('cancel started');
      await new Promise<void>((resolve) => (finishCancel = resolve));
      events.push('cancel ended');
    });
    const later = gate.upload(() => {
      events.push('later upload started');
      return Promise.resolve();
    });
    await setImmediate();
    expect(events).toEqual([]);
    finishUpload();
    await underWay;
    await setImmediate();
    expect(events).toEqual(['upload under way ended', 'cancel started']);
    finishCancel();
    await Promise.all([cancelling, later]);
    expect(events).toEqual(['upload under way ended', 'cancel started', 'cancel ended', 'later upload started']);
  });

  it('lets uploads go on when the cancel fails, and gives its error to the caller', async () => {
    const gate = new UploadGate();
    const cancelling = gate.cancel(() => Promise.reject(new Error('server down')));
    const later = gate.upload(() => Promise.resolve('sent'));
    await expect(cancelling).rejects.toThrow('server down');
    await expect(later).resolves.toBe('sent');
  });

  it('runs two cancels one after the other', async () => {
    const gate = new UploadGate();
    const events: string[] = [];
    const cancel = (name: string) => async (): Promise<void> => {
      events.push(`${name} started`);
      await setImmediate();
      events.push(`${name} ended`);
    };
    await Promise.all([gate.cancel(cancel('first')), gate.cancel(cancel('second'))]);
    expect(events).toEqual(['first started', 'first ended', 'second started', 'second ended']);
  });
});
