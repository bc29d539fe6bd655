/**
 * Turns the spec catalogue into Jest blocks. The Jest functions come in through `SuiteApi` so that
 * the registration itself (names, skips) can be checked without running a store.
 */
import type { UserEngineStore } from '../store/contract';
import {
  resolveOptions,
  type ConformanceOptions,
  type ResolvedOptions,
  type SpecRequirement,
} from './options';
import type { ContractId, Spec, SpecContext } from './spec';
import { jestGlobal } from './jest-globals';
import { SPEC_GROUPS } from './specs';

type Hook = () => Promise<void>;

/** The slice of Jest's globals the suite uses. */
export interface SuiteApi {
  describe(name: string, fn: () => void): void;
  test(name: string, fn: Hook, timeout: number): void;
  skip(name: string, fn: Hook): void;
  beforeAll(fn: Hook, timeout: number): void;
  beforeEach(fn: Hook, timeout: number): void;
  afterEach(fn: Hook, timeout: number): void;
  afterAll(fn: Hook, timeout: number): void;
}

/** Jest's globals, looked up at call time: importing this module must work outside Jest too. */
export const jestSuiteApi: SuiteApi = {
  describe: (name, fn) => jestGlobal('describe')(name, fn),
  test: (name, fn, timeout) => jestGlobal('test')(name, fn, timeout),
  skip: (name, fn) => jestGlobal('test').skip(name, fn),
  beforeAll: (fn, timeout) => jestGlobal('beforeAll')(fn, timeout),
  beforeEach: (fn, timeout) => jestGlobal('beforeEach')(fn, timeout),
  afterEach: (fn, timeout) => jestGlobal('afterEach')(fn, timeout),
  afterAll: (fn, timeout) => jestGlobal('afterAll')(fn, timeout),
};

export interface ConformanceSpecInfo {
  /** The describe block, e.g. `transactions & savepoints`. */
  group: string;
  /** The test name when it runs (a skipped one gets a `[skipped: ...]` suffix). */
  name: string;
  requires: readonly SpecRequirement[];
  /** The contract ids (docs/store-contract.md) the spec checks. */
  covers: readonly ContractId[];
}

/** The whole catalogue, independent of any options: what a store is measured against. */
export function listConformanceSpecs(): ConformanceSpecInfo[] {
  return SPEC_GROUPS.flatMap((group) =>
    group.specs.map((s) => ({
      group: group.title,
      name: s.name,
      requires: s.requires ?? [],
      covers: s.covers,
    })),
  );
}

/** Why a spec cannot run against these options, or null when it can. */
export function skipReason(
  requires: readonly SpecRequirement[],
  options: Pick<ResolvedOptions, 'capabilities' | 'createFreshStore'>,
): string | null {
  const missing = requires.flatMap((requirement) => {
    if (requirement === 'freshStore')
      return options.createFreshStore ? [] : ['no createFreshStore given (capability freshStore)'];
    return options.capabilities[requirement] ? [] : [`store declares ${requirement}: false`];
  });
  return missing.length === 0 ? null : missing.join('; ');
}

export function skippedName(name: string, reason: string): string {
  return `${name} [skipped: ${reason}]`;
}

/** Per-suite state the hooks fill in and the spec bodies read. */
class Harness implements SpecContext {
  private current: UserEngineStore | undefined;
  private fresh: Array<() => Promise<void>> = [];

  constructor(private readonly options: ResolvedOptions) {}

  get store(): UserEngineStore {
    if (!this.current)
      throw new Error('conformance: no store under test (did createStore or migrate fail?)');
    return this.current;
  }

  async open(): Promise<void> {
    const store = await this.options.createStore();
    this.current = store;
    await store.migrate();
  }

  async reset(): Promise<void> {
    const { reset } = this.options;
    if (reset && this.current) await reset(this.current);
  }

  async close(): Promise<void> {
    const store = this.current;
    this.current = undefined;
    if (store) await this.options.closeStore(store);
  }

  async freshStore(): Promise<UserEngineStore> {
    const create = this.options.createFreshStore;
    if (!create) throw new Error('conformance: this spec needs createFreshStore');
    const fresh = await create();
    this.fresh.push(() => fresh.dispose());
    return fresh.store;
  }

  /** Disposes every fresh store of the test, reporting the first failure after trying them all. */
  async disposeFresh(): Promise<void> {
    const disposers = this.fresh;
    this.fresh = [];
    const results = await Promise.allSettled(disposers.map((dispose) => dispose()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

function registerSpec(api: SuiteApi, harness: Harness, options: ResolvedOptions, s: Spec): void {
  const reason = skipReason(s.requires ?? [], options);
  if (reason !== null) {
    api.skip(skippedName(s.name, reason), async () => undefined);
    return;
  }
  api.test(s.name, () => s.run(harness), options.timeoutMs);
}

/** Registers the suite through `api`; `runStoreConformance` is this with Jest's globals. */
export function registerConformance(
  name: string,
  options: ConformanceOptions,
  api: SuiteApi,
): void {
  const resolved = resolveOptions(name, options);
  const harness = new Harness(resolved);
  const timeout = resolved.timeoutMs;
  api.describe(name, () => {
    if (resolved.reset) {
      api.beforeAll(() => harness.open(), timeout);
      api.beforeEach(() => harness.reset(), timeout);
      api.afterAll(() => harness.close(), timeout);
    } else {
      api.beforeEach(() => harness.open(), timeout);
      api.afterEach(() => harness.close(), timeout);
    }
    api.afterEach(() => harness.disposeFresh(), timeout);
    for (const group of SPEC_GROUPS)
      api.describe(group.title, () => {
        for (const s of group.specs) registerSpec(api, harness, resolved, s);
      });
  });
}

/**
 * Defines the shared conformance suite as Jest `describe`/`test` blocks for one store. Call it at
 * the top level of a test file. Specs needing a capability the store lacks are registered as
 * skipped, with the reason in their name.
 */
export function runStoreConformance(name: string, options: ConformanceOptions): void {
  registerConformance(name, options, jestSuiteApi);
}
