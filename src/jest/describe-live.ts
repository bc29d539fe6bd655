/**
 * `describeLive`: a `describe` block that runs only when the preset made a live store available,
 * and is reported as skipped otherwise. Loads nothing (no driver, no store) when imported.
 */
import type { LiveContext } from './live-context';

type BlockFn = () => void;
interface DescribeLike {
  (name: string, fn: BlockFn): void;
  skip(name: string, fn: BlockFn): void;
}

const NOT_CONFIGURED =
  'the @user-engine/jest-live test environment is not configured (use preset "@user-engine/jest-live")';

/** Thrown when a skipped block's body touches the live context outside a test. */
export class LiveSkippedError extends Error {
  readonly code = 'live_skipped';
  constructor(property: string, reason: string) {
    super(`userEngineLive.${property} is not available: live tests are skipped (${reason})`);
    this.name = 'LiveSkippedError';
  }
}

/**
 * Jest's `describe` is a global of the test sandbox; read it at call time (this module is loaded
 * inside the sandbox) instead of typing the whole package against @types/jest.
 */
function jestDescribe(): DescribeLike {
  const describe = (globalThis as { describe?: DescribeLike }).describe;
  if (typeof describe !== 'function') {
    throw new Error('describeLive must be called inside a Jest test file (no global describe)');
  }
  return describe;
}

/**
 * The body of a skipped block still runs (Jest collects the tests it declares), but nothing in it
 * may reach a database: every property read throws, naming the property and why live is off.
 * Symbols and `then` are exempt so that inspection or an accidental `await` does not explode.
 */
function skippedStandIn(reason: string): LiveContext {
  return new Proxy({} as LiveContext, {
    get(_target, property) {
      if (typeof property === 'symbol' || property === 'then') return undefined;
      throw new LiveSkippedError(property, reason);
    },
  });
}

/**
 * Declares `name` as a `describe` block fed with the live context. When live tests are off
 * (no USER_ENGINE_LIVE_DSN, or no preset), the block is `describe.skip`ped: its tests are reported
 * as skipped and the store is never touched.
 */
export function describeLive(name: string, fn: (live: LiveContext) => void): void {
  const describe = jestDescribe();
  const live = globalThis.userEngineLive;
  if (live?.enabled) {
    describe(name, () => fn(live));
    return;
  }
  const reason = live ? live.reason : NOT_CONFIGURED;
  describe.skip(name, () => fn(skippedStandIn(reason)));
}
