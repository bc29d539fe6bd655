/**
 * Hand-written broken stores: each is the in-memory reference store with one plausible adapter
 * mistake, and names the contract sentence (docs/store-contract.md) it breaks. The kit test
 * asserts that the shared suite fails on every one of them, and which spec catches it.
 */
import type {
  OutboxEvent,
  UpsertUserInput,
  User,
  UserEngineStore,
  UserPage,
} from '../../../src/store/contract';
import type { ContractId } from '../../../src/conformance/spec';
import {
  DuplicateEmailError,
  InvalidInputError,
  NotFoundError,
  NotReadyError,
} from '../../../src/store/errors';
import { InMemoryUserEngineStore } from '../../../src/store/memory/in-memory-store';
import {
  compareCodePoints,
  emailKeyOf,
  encodeCursor,
  normalizeId,
  normalizePatch,
} from '../../../src/store/validation';
import { wrapStore, type Overrides } from './delegate';

export interface Mutant {
  /** The contract sentence it breaks. */
  breaks: ContractId;
  /** The mistake, as an adapter author would make it. */
  mistake: string;
  /** Specs (`group > name`) known to catch it; the kit asserts each still does. */
  caughtBy: readonly string[];
  make(): UserEngineStore;
}

function mutant(
  breaks: ContractId,
  mistake: string,
  caughtBy: readonly string[],
  overrides: () => Overrides,
): Mutant {
  return {
    breaks,
    mistake,
    caughtBy,
    make: () => wrapStore(new InMemoryUserEngineStore(), overrides()),
  };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function keyOf(email: string): string {
  return emailKeyOf(email.trim());
}

function decodeCursorKey(cursor: string): string {
  return (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k: string }).k;
}

/** Every user, through pages of the inner store. */
async function allUsers(store: UserEngineStore): Promise<User[]> {
  const users: User[] = [];
  let after: string | null = null;
  do {
    const page: UserPage = await store.listUsers({ limit: 500, after });
    users.push(...page.items);
    after = page.next;
  } while (after !== null);
  return users;
}

function pageOf(users: User[], limit: number): UserPage {
  const items = users.slice(0, limit);
  const next = users.length > limit ? encodeCursor(items[items.length - 1].emailKey) : null;
  return { items, next };
}

export const MUTANTS: readonly Mutant[] = [
  // --- data model -------------------------------------------------------------------------
  mutant(
    'C-model-1',
    'upsert returns the id in upper case',
    ['upsert > creates a new user at revision 1, active by default'],
    () => (inner) => ({
      upsertUser: async (input) => {
        const result = await inner.upsertUser(input);
        return { ...result, user: { ...result.user, id: result.user.id.toUpperCase() } };
      },
    }),
  ),
  mutant(
    'C-model-2',
    'a batch returns the display name untrimmed',
    [
      'every rule on every path > a batch honours an explicit status, trims and folds like a single upsert',
    ],
    () => (inner) => ({
      upsertUsers: async (inputs) => {
        const results = await inner.upsertUsers(inputs);
        return results.map((r, i) => ({
          ...r,
          user: { ...r.user, displayName: inputs[i].displayName },
        }));
      },
    }),
  ),
  mutant(
    'C-model-3',
    'emailKey folded with toLowerCase (Unicode case too)',
    ['upsert > emailKey folds ASCII upper case only'],
    () => (inner) => {
      const fold = (user: User): User => ({ ...user, emailKey: user.email.toLowerCase() });
      return {
        upsertUser: async (input) => {
          const result = await inner.upsertUser(input);
          return { ...result, user: fold(result.user) };
        },
        getUser: async (id) => {
          const user = await inner.getUser(id);
          return user && fold(user);
        },
      };
    },
  ),
  mutant(
    'C-model-5',
    'findUserByEmail retries with Unicode upper case',
    ['get/find > findUserByEmail does not fold non-ASCII case'],
    () => (inner) => ({
      findUserByEmail: async (email) =>
        (await inner.findUserByEmail(email)) ??
        (typeof email === 'string' ? inner.findUserByEmail(email.toUpperCase()) : null),
    }),
  ),
  mutant(
    'C-model-9',
    'an unchanged upsert still writes (rename and back)',
    ['upsert > the same data again changes nothing: same revision and updatedAt'],
    () => (inner) => ({
      upsertUser: async (input) => {
        const result = await inner.upsertUser(input);
        if (result.changed) return result;
        const { user } = result;
        await inner.updateUser(
          user.id,
          { displayName: `${user.displayName}~` },
          { expectedRevision: user.revision },
        );
        const back = await inner.updateUser(
          user.id,
          { displayName: user.displayName },
          { expectedRevision: user.revision + 1 },
        );
        return { ...result, user: back.user };
      },
    }),
  ),
  mutant(
    'C-model-10',
    'a write returns createdAt = updatedAt',
    [
      'every rule on every path > creation sets createdAt = updatedAt; a later write moves only updatedAt',
    ],
    () => (inner) => ({
      updateUser: async (id, patch, options) => {
        const result = await inner.updateUser(id, patch, options);
        return { ...result, user: { ...result.user, createdAt: new Date(result.user.updatedAt) } };
      },
      upsertUser: async (input) => {
        const result = await inner.upsertUser(input);
        return { ...result, user: { ...result.user, createdAt: new Date(result.user.updatedAt) } };
      },
    }),
  ),
  mutant(
    'C-model-11',
    'updateUser leaves updatedAt where it was',
    [
      'every rule on every path > creation sets createdAt = updatedAt; a later write moves only updatedAt',
    ],
    () => (inner) => ({
      updateUser: async (id, patch, options) => {
        const before = await inner.getUser(id);
        const result = await inner.updateUser(id, patch, options);
        return {
          ...result,
          user: { ...result.user, updatedAt: new Date(before?.updatedAt ?? result.user.updatedAt) },
        };
      },
    }),
  ),
  mutant(
    'C-model-12',
    'a repeated link refreshes linkedAt',
    ['every rule on every path > a repeated link keeps the original linkedAt in every read'],
    () => (inner) => ({
      linkIdentity: async (input) => {
        const result = await inner.linkIdentity(input);
        return result.linked
          ? result
          : { ...result, identity: { ...result.identity, linkedAt: new Date() } };
      },
    }),
  ),

  // --- order of checks --------------------------------------------------------------------
  mutant(
    'C-order-1',
    'a finished transaction handle validates the id before checking it is finished',
    [
      'edges > a finished transaction handle rejects even invalid arguments with transaction_finished',
    ],
    () => (inner, ctx) =>
      ctx.depth === 0
        ? {}
        : {
            getUser: async (id) => {
              normalizeId(id);
              return inner.getUser(id);
            },
          },
  ),
  mutant(
    'C-order-2',
    'upsertUser checks readiness before validating',
    ['readiness & migration > input validation comes before the readiness check'],
    () => (inner) => ({
      upsertUser: async (input) => {
        const readiness = await inner.readiness();
        if (!readiness.ready) throw new NotReadyError(readiness.pending);
        return inner.upsertUser(input);
      },
    }),
  ),
  mutant(
    'C-order-3',
    'updateUser validates the patch before the id',
    ['edges > updateUser with a bad id, patch and revision: invalid_input on id (not_a_uuid)'],
    () => (inner) => ({
      updateUser: async (id, patch, options) => {
        normalizePatch(patch);
        return inner.updateUser(id, patch, options);
      },
    }),
  ),
  mutant(
    'C-order-4',
    'an empty batch skips the readiness check',
    [
      'edges > a finished transaction handle rejects even invalid arguments with transaction_finished',
    ],
    () => (inner) => ({
      upsertUsers: async (inputs) =>
        Array.isArray(inputs) && inputs.length === 0 ? [] : inner.upsertUsers(inputs),
    }),
  ),
  mutant(
    'C-order-5',
    'updateUser checks duplicate_email before the revision',
    ['validation > a bad email in a patch is invalid_input on patch.email (not_one_at_sign)'],
    () => (inner) => ({
      updateUser: async (id, patch, options) => {
        if (patch && typeof patch.email === 'string') {
          const owner = await inner.findUserByEmail(patch.email);
          if (owner && owner.id !== id.toLowerCase())
            throw new DuplicateEmailError(keyOf(patch.email));
        }
        return inner.updateUser(id, patch, options);
      },
    }),
  ),
  mutant(
    'C-order-6',
    'a batch failing validation writes the items before the bad one',
    ['batch upsert > a rejected batch writes nothing and appends no event'],
    () => (inner) => ({
      upsertUsers: async (inputs) => {
        try {
          return await inner.upsertUsers(inputs);
        } catch (error) {
          const at =
            error instanceof InvalidInputError ? /^inputs\[(\d+)\]/.exec(error.field) : null;
          if (at) for (const input of inputs.slice(0, Number(at[1]))) await inner.upsertUser(input);
          throw error;
        }
      },
    }),
  ),

  // --- errors -----------------------------------------------------------------------------
  mutant(
    'C-errors-1',
    'not_found carries no key',
    ['edges > not_found names the entity and the id, revision_conflict both revisions'],
    () => (inner) => ({
      updateUser: async (id, patch, options) => {
        try {
          return await inner.updateUser(id, patch, options);
        } catch (error) {
          if (error instanceof NotFoundError) throw new NotFoundError('user', '');
          throw error;
        }
      },
    }),
  ),
  mutant(
    'C-errors-2',
    'getUser of an unknown id throws not_found',
    ['get/find > getUser of an unknown id is null'],
    () => (inner) => ({
      getUser: async (id) => {
        const user = await inner.getUser(id);
        if (user === null) throw new NotFoundError('user', id);
        return user;
      },
    }),
  ),

  // --- input rules ------------------------------------------------------------------------
  mutant(
    'C-input-1',
    'email length counted in UTF-16 code units',
    ['validation > an email of 254 code points made of astral characters is accepted'],
    () => (inner) => ({
      upsertUser: async (input) => {
        if (typeof input?.email === 'string' && input.email.trim().length > 254)
          throw new InvalidInputError('email', 'too_long');
        return inner.upsertUser(input);
      },
    }),
  ),
  mutant(
    'C-input-2',
    'a lone surrogate in a display name is replaced, not rejected',
    [
      'validation > a display name with a lone surrogate is invalid_input on displayName (lone_surrogate)',
    ],
    () => (inner) => ({
      upsertUser: async (input) =>
        inner.upsertUser(
          typeof input?.displayName === 'string'
            ? { ...input, displayName: input.displayName.replace(LONE_SURROGATE, '\uFFFD') }
            : input,
        ),
    }),
  ),
  mutant(
    'C-input-3',
    'white space inside an email is dropped instead of rejected',
    ['validation > an email with a space inside is invalid_input on email (whitespace)'],
    () => (inner) => ({
      upsertUser: async (input) =>
        inner.upsertUser(
          typeof input?.email === 'string'
            ? { ...input, email: input.email.trim().replace(/\s/gu, '') }
            : input,
        ),
    }),
  ),
  mutant(
    'C-input-8',
    'an id with trailing characters is cut to 36',
    ['edges > getUser of an id with a trailing character: invalid_input on id (not_a_uuid)'],
    () => (inner) => ({
      getUser: async (id) => inner.getUser(typeof id === 'string' ? id.slice(0, 36) : id),
    }),
  ),
  mutant(
    'C-input-10',
    'a listUsers limit above 500 is clamped',
    ['list & pagination > a limit of 501 is invalid_input on limit'],
    () => (inner) => ({
      listUsers: async (options) =>
        inner.listUsers(
          options && typeof options.limit === 'number'
            ? { ...options, limit: Math.min(options.limit, 500) }
            : options,
        ),
    }),
  ),
  mutant(
    'C-input-11',
    'stray characters are stripped from a cursor',
    ['edges > a returned cursor with stray characters is malformed_cursor'],
    () => (inner) => ({
      listUsers: async (options) =>
        inner.listUsers(
          options && typeof options.after === 'string' && options.after !== ''
            ? { ...options, after: options.after.replace(/[^A-Za-z0-9_-]/g, '') }
            : options,
        ),
    }),
  ),
  mutant(
    'C-input-12',
    'a negative afterSequence reads from the start',
    ['outbox > a negative afterSequence is invalid_input on afterSequence'],
    () => (inner) => ({
      outboxEvents: async (query) =>
        inner.outboxEvents(
          query && typeof query.afterSequence === 'number' && query.afterSequence < 0
            ? { ...query, afterSequence: 0 }
            : query,
        ),
    }),
  ),
  mutant(
    'C-input-13',
    'the outbox default limit is 50',
    ['outbox > the default limit is 100'],
    () => (inner) => ({
      outboxEvents: async (query) =>
        inner.outboxEvents(query?.limit === undefined ? { ...query, limit: 50 } : query),
    }),
  ),
  mutant(
    'C-input-14',
    'batch errors name the field without its position',
    ['batch upsert > an invalid item rejects the whole batch naming its position'],
    () => (inner) => ({
      upsertUsers: async (inputs) => {
        try {
          return await inner.upsertUsers(inputs);
        } catch (error) {
          if (error instanceof InvalidInputError && error.field.startsWith('inputs['))
            throw new InvalidInputError(
              error.field.replace(/^inputs\[\d+\]\.?/, '') || 'input',
              error.reason,
            );
          throw error;
        }
      },
    }),
  ),
  mutant(
    'C-input-15',
    'upsertUser(null) fails with a TypeError',
    ['edges > upsertUser(null): invalid_input on input (not_an_object)'],
    () => (inner) => ({
      upsertUser: async (input) => {
        void (input as UpsertUserInput).email;
        return inner.upsertUser(input);
      },
    }),
  ),

  // --- readiness --------------------------------------------------------------------------
  mutant(
    'C-ready-1',
    'readiness lists pending migrations newest first',
    [
      'readiness & migration > a fresh store is not ready, at version 0, with every migration pending',
    ],
    () => (inner) => ({
      readiness: async () => {
        const readiness = await inner.readiness();
        return { ...readiness, pending: [...readiness.pending].reverse() };
      },
    }),
  ),
  mutant(
    'C-ready-2',
    'a second migrate reports the catalogue again',
    ['readiness & migration > migrate is idempotent: a second call applies nothing'],
    () => (inner) => {
      let last: string[] = [];
      return {
        migrate: async () => {
          const result = await inner.migrate();
          if (result.applied.length > 0) last = result.applied;
          return { applied: last };
        },
      };
    },
  ),

  // --- upsert -----------------------------------------------------------------------------
  mutant(
    'C-upsert-1',
    'upsert reports created when the spelling of the email differs',
    ['upsert > emails differing in ASCII case are one user'],
    () => (inner) => ({
      upsertUser: async (input) => {
        const existing =
          typeof input?.email === 'string' ? await inner.findUserByEmail(input.email) : null;
        const result = await inner.upsertUser(input);
        return existing && existing.email !== result.user.email
          ? { ...result, created: true }
          : result;
      },
    }),
  ),
  mutant(
    'C-upsert-3',
    'an omitted status resets the user to active',
    ['upsert > an omitted status keeps the current one'],
    () => (inner) => ({
      upsertUser: async (input) =>
        inner.upsertUser(
          input && input.status === undefined ? { ...input, status: 'active' } : input,
        ),
    }),
  ),
  mutant(
    'C-upsert-5',
    'upsert ignores a status change of an existing user',
    ['upsert > a change appends user.updated naming the changed fields'],
    () => (inner) => ({
      upsertUser: async (input) => {
        const existing =
          typeof input?.email === 'string' ? await inner.findUserByEmail(input.email) : null;
        return inner.upsertUser(existing ? { ...input, status: existing.status } : input);
      },
    }),
  ),
  mutant(
    'C-upsert-4',
    'an unchanged upsert reports changed: true',
    ['upsert > the same data again changes nothing: same revision and updatedAt'],
    () => (inner) => ({
      upsertUser: async (input) => ({ ...(await inner.upsertUser(input)), changed: true }),
    }),
  ),

  // --- batch ------------------------------------------------------------------------------
  mutant(
    'C-batch-1',
    'a batch drops the status of its items',
    [
      'validation > an unknown status in a batch is invalid_input on inputs[0].status (unknown_status)',
    ],
    () => (inner) => ({
      upsertUsers: async (inputs) =>
        inner.upsertUsers(
          Array.isArray(inputs)
            ? inputs.map((i) => (i && typeof i === 'object' ? { ...i, status: undefined } : i))
            : inputs,
        ),
    }),
  ),
  mutant(
    'C-batch-2',
    'duplicates in a batch are found by exact email only; case variants are applied one by one',
    ['batch upsert > two inputs with one key are duplicate_in_batch at the second position'],
    () => (inner) => ({
      upsertUsers: async (inputs) => {
        const keys = inputs.map((i) => (typeof i?.email === 'string' ? keyOf(i.email) : i));
        const exact = inputs.map((i) => i?.email);
        const caseOnly = new Set(keys).size < keys.length && new Set(exact).size === exact.length;
        if (!caseOnly) return inner.upsertUsers(inputs);
        const results = [];
        for (const input of inputs) results.push(await inner.upsertUser(input));
        return results;
      },
    }),
  ),
  mutant(
    'C-batch-4',
    'batch results come back in email order',
    ['batch upsert > returns one result per input, in input order'],
    () => (inner) => ({
      upsertUsers: async (inputs) =>
        (await inner.upsertUsers(inputs)).sort((a, b) =>
          a.user.emailKey < b.user.emailKey ? -1 : 1,
        ),
    }),
  ),

  // --- reads ------------------------------------------------------------------------------
  mutant(
    'C-read-1',
    'getUser caches on the root handle; writes through a transaction do not invalidate',
    [
      'every rule on every path > a read before a write through a transaction does not hide the committed write',
    ],
    () => (inner, ctx) => {
      if (ctx.depth > 0) return {};
      const cache = new Map<string, User | null>();
      const clear = <T>(result: T): T => {
        cache.clear();
        return result;
      };
      return {
        getUser: async (id) => {
          const key = typeof id === 'string' ? id.toLowerCase() : '';
          if (!cache.has(key)) cache.set(key, await inner.getUser(id));
          const user = cache.get(key) ?? null;
          return (
            user && {
              ...user,
              createdAt: new Date(user.createdAt),
              updatedAt: new Date(user.updatedAt),
            }
          );
        },
        upsertUser: async (input) => clear(await inner.upsertUser(input)),
        upsertUsers: async (inputs) => clear(await inner.upsertUsers(inputs)),
        updateUser: async (id, patch, options) => clear(await inner.updateUser(id, patch, options)),
        deleteUser: async (id) => clear(await inner.deleteUser(id)),
      };
    },
  ),
  mutant(
    'C-read-2',
    'findUserByEmail caches; only upsertUser invalidates',
    [
      'every rule on every path > a read before a write through a transaction does not hide the committed write',
    ],
    () => (inner, ctx) => {
      if (ctx.depth > 0) return {};
      const cache = new Map<string, User | null>();
      return {
        findUserByEmail: async (email) => {
          const key = typeof email === 'string' ? keyOf(email) : '';
          if (!cache.has(key)) cache.set(key, await inner.findUserByEmail(email));
          const user = cache.get(key) ?? null;
          return (
            user && {
              ...user,
              createdAt: new Date(user.createdAt),
              updatedAt: new Date(user.updatedAt),
            }
          );
        },
        upsertUser: async (input) => {
          cache.clear();
          return inner.upsertUser(input);
        },
      };
    },
  ),

  // --- update -----------------------------------------------------------------------------
  mutant(
    'C-update-2',
    'a no-op patch skips the revision check',
    ['edges > not_found names the entity and the id, revision_conflict both revisions'],
    () => (inner) => ({
      updateUser: async (id, patch, options) => {
        const current = await inner.getUser(id);
        if (current && patch && Object.keys(patch).length === 0)
          return { user: current, changed: false };
        return inner.updateUser(id, patch, options);
      },
    }),
  ),
  mutant(
    'C-update-3',
    'a case-only email change is refused as duplicate_email',
    ['update > a case-only email change is allowed and keeps the key'],
    () => (inner) => ({
      updateUser: async (id, patch, options) => {
        const current = await inner.getUser(id);
        if (
          current &&
          typeof patch?.email === 'string' &&
          patch.email.trim() !== current.email &&
          keyOf(patch.email) === current.emailKey
        )
          throw new DuplicateEmailError(current.emailKey);
        return inner.updateUser(id, patch, options);
      },
    }),
  ),
  mutant(
    'C-update-5',
    'updateUser returns the user as it was before the write',
    ['update > a patch at the current revision writes and bumps the revision'],
    () => (inner) => ({
      updateUser: async (id, patch, options) => {
        const before = await inner.getUser(id);
        const result = await inner.updateUser(id, patch, options);
        return { ...result, user: before ?? result.user };
      },
    }),
  ),
  mutant(
    'C-update-5',
    'the old email still finds the user after an email change',
    ['update > a new email is trimmed and the old one is free afterwards'],
    () => (inner, ctx) => {
      if (ctx.depth > 0) return {};
      const aliases = new Map<string, string>();
      return {
        updateUser: async (id, patch, options) => {
          const before = await inner.getUser(id);
          const result = await inner.updateUser(id, patch, options);
          if (before && before.emailKey !== result.user.emailKey)
            aliases.set(before.emailKey, result.user.id);
          return result;
        },
        findUserByEmail: async (email) => {
          const found = await inner.findUserByEmail(email);
          const alias = typeof email === 'string' ? aliases.get(keyOf(email)) : undefined;
          return found ?? (alias ? inner.getUser(alias) : null);
        },
      };
    },
  ),

  // --- delete -----------------------------------------------------------------------------
  mutant(
    'C-delete-1',
    'deleting an unknown id returns true',
    ['delete > deleting twice returns false the second time'],
    () => (inner) => ({
      deleteUser: async (id) => {
        await inner.deleteUser(id);
        return true;
      },
    }),
  ),
  mutant(
    'C-delete-2',
    'delete unlinks identities one by one, with events',
    ['delete > deleting appends only user.deleted with userId and email'],
    () => (inner) => ({
      deleteUser: async (id) => {
        for (const identity of await inner.listIdentities(id))
          await inner.unlinkIdentity(identity.provider, identity.subject);
        return inner.deleteUser(id);
      },
    }),
  ),
  mutant(
    'C-delete-3',
    'the email of a deleted user stays reserved for updates',
    ['every rule on every path > an email freed by a delete can be taken by an update'],
    () => (inner, ctx) => {
      if (ctx.depth > 0) return {};
      const reserved = new Set<string>();
      return {
        deleteUser: async (id) => {
          const user = await inner.getUser(id);
          const deleted = await inner.deleteUser(id);
          if (user && deleted) reserved.add(user.emailKey);
          return deleted;
        },
        updateUser: async (id, patch, options) => {
          if (typeof patch?.email === 'string' && reserved.has(keyOf(patch.email)))
            throw new DuplicateEmailError(keyOf(patch.email));
          return inner.updateUser(id, patch, options);
        },
      };
    },
  ),

  // --- list -------------------------------------------------------------------------------
  mutant(
    'C-ordering-1',
    'listUsers orders keys by JavaScript <',
    ['list & pagination > lists users in code-point order of their email key'],
    () => (inner) => ({
      listUsers: async (options) => {
        await inner.listUsers(options);
        const limit = options?.limit ?? 50;
        const after = options?.after ? decodeCursorKey(options.after) : null;
        const users = (await allUsers(inner))
          .sort((a, b) => (a.emailKey < b.emailKey ? -1 : 1))
          .filter((u) => after === null || u.emailKey > after);
        return pageOf(users, limit);
      },
    }),
  ),
  mutant(
    'C-list-2',
    'a full last page still returns a next cursor',
    ['list & pagination > next is null when a page ends exactly at the last user'],
    () => (inner) => ({
      listUsers: async (options) => {
        const page = await inner.listUsers(options);
        const limit = options?.limit ?? 50;
        return page.next === null && page.items.length === limit
          ? { ...page, next: encodeCursor(page.items[limit - 1].emailKey) }
          : page;
      },
    }),
  ),
  mutant(
    'C-list-3',
    'cursors remember a position, not a key',
    ['list & pagination > a cursor stays valid after its last user is deleted'],
    () => (inner, ctx) => {
      if (ctx.depth > 0) return {};
      const offsets = new Map<string, number>();
      return {
        listUsers: async (options) => {
          const first = await inner.listUsers(options);
          const limit = options?.limit ?? 50;
          const offset = options?.after ? offsets.get(options.after) : 0;
          if (offset === undefined) return first;
          const page = pageOf((await allUsers(inner)).slice(offset), limit);
          if (page.next) offsets.set(page.next, offset + page.items.length);
          return page;
        },
      };
    },
  ),

  // --- identities -------------------------------------------------------------------------
  mutant(
    'C-ident-2',
    'a repeated link reports linked: true',
    ['identities > linking the same pair to the same user again is a no-op'],
    () => (inner) => ({
      linkIdentity: async (input) => ({ ...(await inner.linkIdentity(input)), linked: true }),
    }),
  ),
  mutant(
    'C-ident-3',
    'a pair owned by another user is moved instead of refused',
    ['identities > linking a pair owned by another user is identity_conflict'],
    () => (inner) => ({
      linkIdentity: async (input) => {
        const owner =
          typeof input?.provider === 'string' &&
          typeof input.subject === 'string' &&
          input.provider !== '' &&
          input.subject !== ''
            ? await inner.findUserByIdentity(input.provider, input.subject).catch(() => null)
            : null;
        if (owner && owner.id !== String(input.userId).toLowerCase())
          await inner.unlinkIdentity(input.provider, input.subject);
        return inner.linkIdentity(input);
      },
    }),
  ),
  mutant(
    'C-ident-5',
    'findUserByIdentity retries with a lower-case subject',
    ['identities > identity lookups are exact: a subject differing only in case finds nothing'],
    () => (inner) => ({
      findUserByIdentity: async (provider, subject) =>
        (await inner.findUserByIdentity(provider, subject)) ??
        (typeof subject === 'string'
          ? inner.findUserByIdentity(provider, subject.toLowerCase())
          : null),
    }),
  ),
  mutant(
    'C-ident-6',
    'unlinking an unknown pair returns true',
    ['identities > unlinking an unknown pair returns false and appends no event'],
    () => (inner) => ({
      unlinkIdentity: async (provider, subject) => {
        await inner.unlinkIdentity(provider, subject);
        return true;
      },
    }),
  ),
  mutant(
    'C-ident-8',
    'listIdentities orders by subject, then provider',
    ['identities > listIdentities orders by provider, then subject, in code points'],
    () => (inner) => ({
      listIdentities: async (userId) =>
        (await inner.listIdentities(userId)).sort(
          (a, b) =>
            compareCodePoints(a.subject, b.subject) || compareCodePoints(a.provider, b.provider),
        ),
    }),
  ),

  // --- outbox, events, counts -------------------------------------------------------------
  mutant(
    'C-outbox-1',
    'afterSequence is inclusive',
    ['outbox > afterSequence returns only later events'],
    () => (inner) => ({
      outboxEvents: async (query) =>
        inner.outboxEvents(
          query && typeof query.afterSequence === 'number' && query.afterSequence > 0
            ? { ...query, afterSequence: query.afterSequence - 1 }
            : query,
        ),
    }),
  ),
  mutant(
    'C-outbox-2',
    'reading the outbox consumes what it returned',
    ['update > a rejected update appends no event'],
    () => (inner, ctx) => {
      if (ctx.depth > 0) return {};
      let consumed = 0;
      return {
        outboxEvents: async (query) => {
          const events = (await inner.outboxEvents(query)).filter((e) => e.sequence > consumed);
          if (events.length > 0) consumed = events[events.length - 1].sequence;
          return events;
        },
      };
    },
  ),
  mutant(
    'C-events-3',
    'changes are listed in alphabetical order',
    ['update > an update appends user.updated listing changes in email, displayName, status order'],
    () => (inner) => ({
      outboxEvents: async (query) =>
        (await inner.outboxEvents(query)).map((e): OutboxEvent =>
          Array.isArray(e.payload.changes)
            ? {
                ...e,
                payload: { ...e.payload, changes: [...(e.payload.changes as string[])].sort() },
              }
            : e,
        ),
    }),
  ),
  mutant(
    'C-events-4',
    'identity events are keyed by the pair, not the user',
    ['delete > deleting appends only user.deleted with userId and email'],
    () => (inner) => ({
      outboxEvents: async (query) =>
        (await inner.outboxEvents(query)).map((e) =>
          e.type.startsWith('identity.')
            ? { ...e, aggregateId: `${String(e.payload.provider)}/${String(e.payload.subject)}` }
            : e,
        ),
    }),
  ),
  mutant(
    'C-events-2',
    'user.deleted carries the email the user was created with',
    ['every rule on every path > the delete event carries the email as last written'],
    () => (inner) => ({
      outboxEvents: async (query) => {
        const all = await inner.outboxEvents({ limit: 1000 });
        const createdEmail = new Map(
          all.filter((e) => e.type === 'user.created').map((e) => [e.aggregateId, e.payload.email]),
        );
        return (await inner.outboxEvents(query)).map((e) =>
          e.type === 'user.deleted'
            ? {
                ...e,
                payload: {
                  ...e.payload,
                  email: createdEmail.get(e.aggregateId) ?? e.payload.email,
                },
              }
            : e,
        );
      },
    }),
  ),
  mutant(
    'C-counts-1',
    'identity count is not reduced when a user is deleted',
    ["delete > deleting removes the user's identities"],
    () => (inner, ctx) => {
      if (ctx.depth > 0) return {};
      let orphaned = 0;
      return {
        deleteUser: async (id) => {
          const owned =
            typeof id === 'string' && id.length === 36
              ? (await inner.listIdentities(id)).length
              : 0;
          const deleted = await inner.deleteUser(id);
          if (deleted) orphaned += owned;
          return deleted;
        },
        recordCounts: async () => {
          const counts = await inner.recordCounts();
          return { ...counts, user_engine_identities: counts.user_engine_identities + orphaned };
        },
      };
    },
  ),
  mutant(
    'C-counts-2',
    'recordCounts on an unmigrated store answers zeros',
    ['edges > recordCounts before migrate is refused with not_ready and the pending ids'],
    () => (inner) => ({
      recordCounts: async () =>
        (await inner.readiness()).ready
          ? inner.recordCounts()
          : { user_engine_users: 0, user_engine_identities: 0, user_engine_outbox: 0 },
    }),
  ),

  // --- close ------------------------------------------------------------------------------
  mutant(
    'C-close-1',
    'close() on the root store does nothing',
    ['edges > a closed store rejects every call, with valid or invalid arguments'],
    () => (_inner, ctx) => (ctx.depth === 0 ? { close: async () => undefined } : {}),
  ),
  mutant(
    'C-close-2',
    'close() on a transaction handle rejects',
    ['transactions & savepoints > tx.close() is a no-op: the transaction goes on and commits'],
    () => (_inner, ctx) =>
      ctx.depth > 0
        ? {
            close: async () => {
              throw new Error('cannot close a transaction');
            },
          }
        : {},
  ),

  // --- transactions -----------------------------------------------------------------------
  mutant(
    'C-tx-1',
    "transaction drops fn's value",
    ['transactions & savepoints > writes of a committed transaction are visible afterwards'],
    () => (inner, ctx) => ({
      transaction: async <T>(fn: (tx: UserEngineStore) => Promise<T>) => {
        await inner.transaction((tx) => fn(ctx.child(tx)));
        return undefined as T;
      },
    }),
  ),
  mutant(
    'C-tx-2',
    'transaction rethrows a copy of the error',
    ['transactions & savepoints > a throw rejects with the very same error'],
    () => (inner, ctx) => ({
      transaction: async <T>(fn: (tx: UserEngineStore) => Promise<T>) => {
        try {
          return await inner.transaction((tx) => fn(ctx.child(tx)));
        } catch (error) {
          throw Object.assign(
            new Error(error instanceof Error ? error.message : String(error)),
            error,
          );
        }
      },
    }),
  ),
  mutant(
    'C-tx-3',
    'reads through a transaction handle go to the committed data',
    ['transactions & savepoints > reads inside a transaction see its own writes'],
    () => (_inner, ctx) =>
      ctx.depth === 0
        ? {}
        : {
            getUser: (id) => ctx.root.getUser(id),
            findUserByEmail: (email) => ctx.root.findUserByEmail(email),
          },
  ),
  mutant(
    'C-tx-6',
    'a failed savepoint swallows its error',
    ['transactions & savepoints > a rolled-back savepoint keeps the outer writes'],
    () => (inner, ctx) =>
      ctx.depth === 0
        ? {}
        : {
            transaction: async <T>(fn: (tx: UserEngineStore) => Promise<T>) =>
              inner.transaction((tx) => fn(ctx.child(tx))).catch(() => undefined as T),
          },
  ),
  mutant(
    'C-tx-8',
    'a finished handle falls back to the root store',
    [
      'transactions & savepoints > the transaction store is unusable after commit: transaction_finished',
    ],
    () => (inner, ctx) => {
      if (ctx.depth === 0) return {};
      const fallback =
        <A extends unknown[], R>(call: (s: UserEngineStore) => (...args: A) => Promise<R>) =>
        async (...args: A): Promise<R> => {
          try {
            return await call(inner)(...args);
          } catch (error) {
            if ((error as { code?: string }).code !== 'transaction_finished') throw error;
            return call(ctx.root)(...args);
          }
        };
      return {
        upsertUser: fallback((s) => s.upsertUser.bind(s)),
        getUser: fallback((s) => s.getUser.bind(s)),
      };
    },
  ),
  mutant(
    'C-tx-9',
    'readiness inside a transaction reports the committed state',
    [
      'edges > a finished transaction handle rejects even invalid arguments with transaction_finished',
    ],
    () => (_inner, ctx) => (ctx.depth === 0 ? {} : { readiness: () => ctx.root.readiness() }),
  ),

  // --- concurrency ------------------------------------------------------------------------
  mutant(
    'C-conc-1',
    'upsert decides created by a read before the write',
    ['concurrency > 20 concurrent upserts of one key create exactly one user'],
    () => (inner) => ({
      upsertUser: async (input) => {
        const existing =
          typeof input?.email === 'string'
            ? await inner.findUserByEmail(input.email).catch(() => null)
            : null;
        await Promise.resolve();
        const result = await inner.upsertUser(input);
        return {
          ...result,
          created: existing === null,
          changed: existing === null || result.changed,
        };
      },
    }),
  ),
  mutant(
    'C-conc-2',
    'updateUser checks the revision on a read, then writes at whatever is current',
    ['concurrency > 10 concurrent updates at one revision: one wins, the rest revision_conflict'],
    () => (inner) => ({
      updateUser: async (id, patch, options) => {
        const current = await inner.getUser(id);
        if (current === null || current.revision !== options?.expectedRevision)
          return inner.updateUser(id, patch, options);
        return inner.transaction(async (tx) => {
          const now = await tx.getUser(id);
          return tx.updateUser(id, patch, { expectedRevision: now?.revision ?? current.revision });
        });
      },
    }),
  ),
  mutant(
    'C-conc-5',
    'delete answers true when a read found the user',
    ['concurrency > concurrent deletes of one user: exactly one returns true'],
    () => (inner) => ({
      deleteUser: async (id) => {
        const existing = await inner.getUser(id);
        const deleted = await inner.deleteUser(id);
        return existing !== null || deleted;
      },
    }),
  ),

  // --- returned values --------------------------------------------------------------------
  mutant(
    'C-returned-1',
    'getUser hands out the cached object itself',
    ['edges > mutating returned identities, events and pages does not change the store'],
    () => (inner, ctx) => {
      if (ctx.depth > 0) return {};
      const cache = new Map<string, User>();
      return {
        getUser: async (id) => {
          const user = await inner.getUser(id);
          if (user === null) return null;
          const held = cache.get(user.id);
          if (held && held.revision === user.revision) return held;
          cache.set(user.id, user);
          return user;
        },
      };
    },
  ),
  mutant(
    'C-returned-2',
    'upsertUser keeps the input and reads the name from it later',
    ['update > a patch at the current revision writes and bumps the revision'],
    () => (inner, ctx) => {
      if (ctx.depth > 0) return {};
      const held = new Map<string, UpsertUserInput>();
      return {
        upsertUser: async (input) => {
          const result = await inner.upsertUser(input);
          held.set(result.user.id, input);
          return result;
        },
        getUser: async (id) => {
          const user = await inner.getUser(id);
          const input = user && held.get(user.id);
          return user && input ? { ...user, displayName: input.displayName.trim() } : user;
        },
      };
    },
  ),
];
