/**
 * How many tests of `describeLive` blocks actually started live in one test file. `describeLive`
 * counts (a `beforeEach` of the live block, inside the sandbox); the environment reads the count
 * at the file's end (outside it). The counter sits on the sandbox global under a registered
 * symbol, the same key in both realms. No imports: `describeLive` stays free of I/O.
 */

const COUNT_KEY = Symbol.for('@user-engine/jest-live:live-tests');

type CountHolder = { [COUNT_KEY]?: number };

export function countLiveTest(global: object): void {
  const holder = global as CountHolder;
  holder[COUNT_KEY] = (holder[COUNT_KEY] ?? 0) + 1;
}

export function liveTestCount(global: object): number {
  return (global as CountHolder)[COUNT_KEY] ?? 0;
}
