import type { UserEngineStore } from '../store/contract';
import type { SpecRequirement } from './options';

/**
 * The id of one normative sentence of docs/store-contract.md, written there as `**[C-area-n]**`.
 * The traceability test checks that every id in the document is covered by a spec and that specs
 * name no id the document lacks.
 */
export type ContractId = `C-${string}-${number}`;

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
  /** The contract sentences this spec checks; at least one. */
  covers: readonly ContractId[];
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
  covers: readonly ContractId[],
  run: (ctx: SpecContext) => Promise<void>,
  requires: readonly SpecRequirement[] = [],
): Spec {
  return { name, covers, run, requires };
}
