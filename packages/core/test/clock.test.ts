import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, systemClock, unrefTimer } from '../src/index.ts';

describe('ManualClock', () => {
  it('fires timers in due order as time advances, and counts the pending ones', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 5);
    }, 10);
    const cleared = clock.setTimeout(() => fired.push('never'), 1);
    clock.clearTimeout(cleared);
    assert.equal(clock.pendingTimers, 2);
    await clock.advance(15);
    assert.deepEqual(fired, ['a@10', 'c@15']);
    await clock.advance(100);
    assert.deepEqual(fired, ['a@10', 'c@15', 'b@20']);
    assert.equal(clock.now(), 115);
    assert.equal(clock.pendingTimers, 0);
  });
});

describe('systemClock and unrefTimer', () => {
  it("fires a real timer, and an unref'd one still fires while something else keeps the process alive", async () => {
    const fired: string[] = [];
    const handle = systemClock.setTimeout(() => fired.push('unref'), 5);
    unrefTimer(handle);
    unrefTimer(new ManualClock().setTimeout(() => {}, 1)); // not a runtime timer: ignored
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 30));
    assert.deepEqual(fired, ['unref']);
    const cleared = systemClock.setTimeout(() => fired.push('never'), 1);
    systemClock.clearTimeout(cleared);
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 10));
    assert.deepEqual(fired, ['unref']);
  });
});
