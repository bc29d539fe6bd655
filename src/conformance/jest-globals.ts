/**
 * Jest's globals, typed narrowly and looked up at call time. Provider repos run this package
 * compiled from node_modules, with or without @types/jest, so the published code must not be typed
 * against it; and importing the module outside Jest (to list the catalogue) must not fail.
 */

type Hook = () => Promise<void>;

interface TestFn {
  (name: string, fn: Hook, timeout?: number): void;
  skip(name: string, fn: Hook): void;
}

interface HookFn {
  (fn: Hook, timeout?: number): void;
}

/** The matchers the specs use; every one exists with this meaning in Jest 29 and 30. */
export interface Matchers<R> {
  toBe(expected: unknown): R;
  toEqual(expected: unknown): R;
  toMatchObject(expected: object): R;
  toBeNull(): R;
  toBeInstanceOf(expected: abstract new (...args: never[]) => unknown): R;
  toHaveLength(expected: number): R;
  toBeGreaterThan(expected: number): R;
  toBeGreaterThanOrEqual(expected: number): R;
  toMatch(expected: RegExp): R;
  toContain(expected: unknown): R;
}

export interface Assertion extends Matchers<void> {
  not: Matchers<void>;
  rejects: Matchers<Promise<void>>;
  resolves: Matchers<Promise<void>>;
}

export interface ExpectFn {
  (actual: unknown): Assertion;
  objectContaining(expected: object): unknown;
}

interface JestGlobals {
  describe(name: string, fn: () => void): void;
  test: TestFn;
  beforeAll: HookFn;
  beforeEach: HookFn;
  afterEach: HookFn;
  afterAll: HookFn;
  expect: ExpectFn;
}

/** A global of the Jest sandbox, or a clear error when called outside Jest. */
export function jestGlobal<K extends keyof JestGlobals>(name: K): JestGlobals[K] {
  const value = (globalThis as Partial<JestGlobals>)[name];
  if (typeof value !== 'function')
    throw new Error(`the conformance suite must run inside Jest (no global ${name})`);
  return value as JestGlobals[K];
}

export const expect: ExpectFn = Object.assign((actual: unknown) => jestGlobal('expect')(actual), {
  objectContaining: (expected: object) => jestGlobal('expect').objectContaining(expected),
});
