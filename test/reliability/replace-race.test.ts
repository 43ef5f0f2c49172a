import { describe, expect, it } from 'vitest';
import { racedReplaces } from './replace-race.js';

const line = (route: string, target: string, end: number, durationMs: number): string =>
  JSON.stringify({ level: 20, time: end, component: 'cloudreve', route, durationMs, target, msg: 'cloudreve request' });
const look = (end: number): string => line('GET /api/v3/directory/*path', '/sync/deep', end, 2);
const replace = (end: number): string => line('PUT /api/v3/file/update/:id', 'f1', end, 3);
/** The server edit of f1 in /sync/deep, asked at 100 and answered at 110. */
const edit = new Map([['h', { id: 'f1', folder: '/sync/deep', startedAt: 100, endedAt: 110 }]]);

describe("the daemon case's excuse for the look-replace moment", () => {
  it('excuses a server edit overwritten by a replace whose look came before the edit was answered', () => {
    expect(racedReplaces(edit, [look(105), replace(112)].join('\n'))).toEqual(new Set(['h']));
  });

  it('reports one overwritten by a replace whose look came after it', () => {
    expect(racedReplaces(edit, [look(105), look(115), replace(120)].join('\n'))).toEqual(new Set());
  });

  it('reports none for a replace answered before the edit was asked', () => {
    expect(racedReplaces(edit, [look(90), replace(95), '{"level":30,"msg":"uploaded"}'].join('\n'))).toEqual(new Set());
  });
});
