// The hold gate tests wait on: requests wait only while their endpoint is held, are counted while
// they wait, go on when released, and a client that hangs up stops being counted.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Holds } from './holds';

describe('Holds', () => {
  it('lets requests through at once while nothing is held', async () => {
    const holds = new Holds();
    await holds.pass('graph', new EventEmitter());
    expect(holds.count()).toBe(0);
  });

  it('counts the requests waiting at a held endpoint and lets them go on release', async () => {
    const holds = new Holds();
    holds.hold('graph');
    const done: string[] = [];
    const waiting = ['a', 'b'].map((id) => holds.pass('graph', new EventEmitter()).then(() => done.push(id)));
    await holds.pass('ews', new EventEmitter()); // another endpoint is not held
    expect([holds.count('graph'), holds.count('ews'), holds.count()]).toEqual([2, 0, 2]);
    expect(done).toEqual([]);
    holds.release('graph');
    await Promise.all(waiting);
    expect(done).toEqual(['a', 'b']);
    expect(holds.count()).toBe(0);
    await holds.pass('graph', new EventEmitter()); // released: no longer held
  });

  it('lets only the oldest few go on when given a count, and keeps holding', async () => {
    const holds = new Holds();
    holds.hold('token');
    const done: number[] = [];
    const waiting = [1, 2, 3].map((n) => holds.pass('token', new EventEmitter()).then(() => done.push(n)));
    holds.release('token', 1);
    await waiting[0];
    expect([done, holds.count('token')]).toEqual([[1], 2]);
    const later = holds.pass('token', new EventEmitter()).then(() => done.push(4));
    expect(holds.count('token')).toBe(3);
    holds.release('token');
    await Promise.all([...waiting, later]);
    expect(done).toEqual([1, 2, 3, 4]);
  });

  it('stops counting a request whose client hung up, and release() with no endpoint frees all', async () => {
    const holds = new Holds();
    holds.hold('token');
    holds.hold('ews');
    const gone = new EventEmitter();
    const left = holds.pass('token', gone);
    const other = holds.pass('ews', new EventEmitter());
    gone.emit('close');
    await left;
    expect(holds.count()).toBe(1);
    holds.release();
    await other;
    expect(holds.count()).toBe(0);
  });
});
