/**
 * `describeLive`: a `describe` block that runs only when the preset made a live store available,
 * and is reported as skipped otherwise. Loads nothing (no driver, no store) when imported.
 */
import { CodedError } from '../../coded-error';
import { ENV, readFlag } from '../../live/config/env';
import type { LiveContext } from './live-context';
import { countLiveTest } from '../handoff/bridge';
import { inactiveEnvironmentError, type InactiveCause } from './required-checks';

type BlockFn = () => void;
interface DescribeLike {
  (name: string, fn: BlockFn): void;
  skip(name: string, fn: BlockFn): void;
}
type HookLike = (fn: () => void) => void;
interface ExpectLike {
  getState(): { testPath?: string };
}

const NOT_CONFIGURED =
  'the @user-engine/jest-live test environment is not configured (use preset "@user-engine/jest-live")';

/** Thrown when a skipped block's body touches the live context outside a test. */
export class LiveSkippedError extends CodedError<'live_skipped'> {
  constructor(property: string, reason: string) {
    super(
      'live_skipped',
      `userEngineLive.${property} is not available: live tests are skipped (${reason})`,
    );
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

/** The test file being collected (Jest keeps it in expect's state), when Jest says so. */
function currentTestPath(): string | undefined {
  const expect = (globalThis as { expect?: ExpectLike }).expect;
  try {
    return expect?.getState().testPath;
  } catch {
    return undefined;
  }
}

/** `@jest-environment <name>` of the leading comment, where Jest reads docblocks (jest-docblock). */
function docblockEnvironment(testPath: string | undefined): string | undefined {
  if (!testPath) return undefined;
  let head: string;
  try {
    // Loaded only on this error path: describeLive itself does no I/O.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { readFileSync } = require('fs') as typeof import('fs');
    head = readFileSync(testPath, 'utf8').slice(0, 20_000);
  } catch {
    return undefined;
  }
  const docblock = /^\s*(?:#![^\n]*\n\s*)?\/\*\*?([\s\S]*?)\*\//.exec(head);
  return docblock ? /@jest-environment\s+(\S+)/.exec(docblock[1])?.[1] : undefined;
}

/** Why no live context reached this file: the docblock, the config, or no preset at all. */
function inactiveCause(testPath: string | undefined): InactiveCause {
  const environment = docblockEnvironment(testPath);
  if (environment) return { kind: 'docblock', environment };
  // Only globalSetup of the preset writes the run state, and only for a live run.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RUN_STATE_ENV } = require('../handoff') as typeof import('../handoff');
  return process.env[RUN_STATE_ENV]
    ? { kind: 'environment_overridden' }
    : { kind: 'preset_inactive' };
}

/** USER_ENGINE_LIVE_REQUIRED is on (a malformed value already fails the run elsewhere). */
function liveRequired(): boolean {
  return readFlag(process.env, ENV.required) === true;
}

/**
 * Counts every test of the block that starts live, for the run-wide "zero live tests" check of
 * USER_ENGINE_LIVE_REQUIRED (see ./live-tally). Registered first in the block, it runs before the
 * block's own beforeEach hooks and changes nothing they see.
 */
function countTestsOfBlock(): void {
  const beforeEach = (globalThis as { beforeEach?: HookLike }).beforeEach;
  beforeEach?.(() => countLiveTest(globalThis));
}

/**
 * Declares `name` as a `describe` block fed with the live context. When live tests are off
 * (no USER_ENGINE_LIVE_DSN, or no preset), the block is `describe.skip`ped: its tests are reported
 * as skipped and the store is never touched. With USER_ENGINE_LIVE_REQUIRED=1, a block that finds
 * no live context (its file runs in another test environment) throws `LiveRequiredError`
 * instead, which fails the file with the cause and the fix.
 */
export function describeLive(name: string, fn: (live: LiveContext) => void): void {
  const describe = jestDescribe();
  const live = globalThis.userEngineLive;
  if (live?.enabled) {
    describe(name, () => {
      countTestsOfBlock();
      fn(live);
    });
    return;
  }
  if (!live && liveRequired()) {
    const testPath = currentTestPath();
    throw inactiveEnvironmentError(name, testPath, inactiveCause(testPath));
  }
  const reason = live ? live.reason : NOT_CONFIGURED;
  describe.skip(name, () => fn(skippedStandIn(reason)));
}
