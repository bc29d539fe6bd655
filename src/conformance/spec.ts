import type { UserEngineStore } from '../store/contract';
import type { SpecRequirement } from './options';

/** What a spec body gets from the harness. */
export interface SpecContext {
  /** The store under test: migrated and empty at the start of every test. */
  readonly store: UserEngineStore;
  /** A new empty, unmigrated store, disposed after the test (needs `freshStore`). */
  freshStore(): Promise<UserEngineStore>;
}

/** One behaviour, one test. */
export interface Spec {
  name: string;
  requires?: readonly SpecRequirement[];
  run(ctx: SpecContext): Promise<void>;
}

export interface SpecGroup {
  title: string;
  specs: readonly Spec[];
}

/** Shorthand that keeps spec tables readable. */
export function spec(
  name: string,
  run: (ctx: SpecContext) => Promise<void>,
  requires: readonly SpecRequirement[] = [],
): Spec {
  return { name, run, requires };
}
