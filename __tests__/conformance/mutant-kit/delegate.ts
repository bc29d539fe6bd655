/**
 * Broken stores for the mutant kit are wrappers: a `UserEngineStore` that forwards every call to a
 * correct store, except the methods a mutant overrides. Transaction and savepoint handles are
 * wrapped the same way (with `depth` telling where the handle sits), so a mutant can break a rule
 * on every path, or on one path only.
 */
import type { UserEngineStore } from '../../../src/store/contract';

export interface WrapContext {
  /** 0 for the root store, 1 for a transaction handle, 2 for a savepoint handle... */
  depth: number;
  /** The root store as the caller sees it (wrapped). */
  root: UserEngineStore;
  /** Wraps a handle the inner store passed to a transaction function. */
  child(tx: UserEngineStore): UserEngineStore;
}

export type Overrides = (inner: UserEngineStore, ctx: WrapContext) => Partial<UserEngineStore>;

function forward(inner: UserEngineStore, ctx: WrapContext): UserEngineStore {
  return {
    readiness: () => inner.readiness(),
    migrate: () => inner.migrate(),
    upsertUser: (input) => inner.upsertUser(input),
    upsertUsers: (inputs) => inner.upsertUsers(inputs),
    getUser: (id) => inner.getUser(id),
    findUserByEmail: (email) => inner.findUserByEmail(email),
    updateUser: (id, patch, options) => inner.updateUser(id, patch, options),
    deleteUser: (id) => inner.deleteUser(id),
    listUsers: (options) => inner.listUsers(options),
    linkIdentity: (input) => inner.linkIdentity(input),
    unlinkIdentity: (provider, subject) => inner.unlinkIdentity(provider, subject),
    findUserByIdentity: (provider, subject) => inner.findUserByIdentity(provider, subject),
    listIdentities: (userId) => inner.listIdentities(userId),
    outboxEvents: (query) => inner.outboxEvents(query),
    recordCounts: () => inner.recordCounts(),
    transaction: (fn) =>
      typeof fn === 'function'
        ? inner.transaction((tx) => fn(ctx.child(tx)))
        : inner.transaction(fn),
    close: () => inner.close(),
  };
}

export function wrapStore(inner: UserEngineStore, overrides: Overrides): UserEngineStore {
  const make = (store: UserEngineStore, depth: number, root: UserEngineStore | undefined) => {
    const ctx: WrapContext = {
      depth,
      get root() {
        return root ?? wrapped;
      },
      child: (tx) => make(tx, depth + 1, root ?? wrapped),
    };
    const wrapped: UserEngineStore = { ...forward(store, ctx), ...overrides(store, ctx) };
    return wrapped;
  };
  return make(inner, 0, undefined);
}
