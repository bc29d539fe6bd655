/**
 * Input rules shared by every store, applied before any write so that all stores reject the same
 * inputs with the same `field` and `reason`.
 */
import { InvalidInputError } from './errors';
import type {
  LinkIdentityInput,
  ListUsersOptions,
  OutboxQuery,
  UpsertUserInput,
  UserPatch,
  UserStatus,
} from './contract';

export const LIMITS = Object.freeze({
  emailMax: 254,
  displayNameMax: 200,
  providerMax: 64,
  subjectMax: 255,
  listDefault: 50,
  listMax: 500,
  outboxDefault: 100,
  outboxMax: 1000,
});

const CONTROL = /\p{Cc}/u;
const WHITESPACE = /\s/u;
const PROVIDER = /^[a-z0-9._-]{1,64}$/;
// Lone (unpaired) UTF-16 surrogates; `String#isWellFormed` would do, but not on Node 18.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function codePointLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

function requireString(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new InvalidInputError(field, 'not_a_string');
  // Lone surrogates cannot be stored as UTF-8 by PostgreSQL; reject them everywhere alike.
  if (LONE_SURROGATE.test(value)) throw new InvalidInputError(field, 'lone_surrogate');
  if (value.includes('\u0000')) throw new InvalidInputError(field, 'nul_character');
  return value;
}

/** ASCII A-Z folded to a-z; every other character compares exactly. */
export function emailKeyOf(trimmedEmail: string): string {
  return trimmedEmail.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

export interface NormalizedEmail {
  email: string;
  emailKey: string;
}

export function normalizeEmail(value: unknown, field = 'email'): NormalizedEmail {
  const email = requireString(field, value).trim();
  if (email.length === 0) throw new InvalidInputError(field, 'empty');
  if (codePointLength(email) > LIMITS.emailMax)
    throw new InvalidInputError(field, 'too_long', `at most ${LIMITS.emailMax} characters`);
  if (CONTROL.test(email)) throw new InvalidInputError(field, 'control_character');
  if (WHITESPACE.test(email)) throw new InvalidInputError(field, 'whitespace');
  const at = email.indexOf('@');
  if (at < 0 || email.indexOf('@', at + 1) >= 0)
    throw new InvalidInputError(field, 'not_one_at_sign');
  if (at === 0 || at === email.length - 1) throw new InvalidInputError(field, 'empty_part');
  return { email, emailKey: emailKeyOf(email) };
}

export function normalizeDisplayName(value: unknown, field = 'displayName'): string {
  const name = requireString(field, value).trim();
  const length = codePointLength(name);
  if (length === 0) throw new InvalidInputError(field, 'empty');
  if (length > LIMITS.displayNameMax)
    throw new InvalidInputError(field, 'too_long', `at most ${LIMITS.displayNameMax} characters`);
  return name;
}

export function normalizeStatus(value: unknown, field = 'status'): UserStatus {
  if (value !== 'active' && value !== 'suspended')
    throw new InvalidInputError(field, 'unknown_status', 'expected active or suspended');
  return value;
}

export function normalizeProvider(value: unknown, field = 'provider'): string {
  const provider = requireString(field, value);
  if (!PROVIDER.test(provider))
    throw new InvalidInputError(field, 'bad_format', '1-64 characters of [a-z0-9._-]');
  return provider;
}

export function normalizeSubject(value: unknown, field = 'subject'): string {
  const subject = requireString(field, value);
  const length = codePointLength(subject);
  if (length === 0) throw new InvalidInputError(field, 'empty');
  if (length > LIMITS.subjectMax)
    throw new InvalidInputError(field, 'too_long', `at most ${LIMITS.subjectMax} characters`);
  return subject;
}

/** Ids are UUIDs; upper case is accepted and folded, anything else is invalid input. */
export function normalizeId(value: unknown, field = 'id'): string {
  const id = requireString(field, value).toLowerCase();
  if (!UUID.test(id)) throw new InvalidInputError(field, 'not_a_uuid');
  return id;
}

export function normalizeRevision(value: unknown, field = 'expectedRevision'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new InvalidInputError(field, 'not_a_positive_integer');
  return value;
}

function normalizeLimit(value: unknown, field: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max)
    throw new InvalidInputError(field, 'out_of_range', `an integer from 1 to ${max}`);
  return value;
}

export interface NormalizedUpsert {
  email: string;
  emailKey: string;
  displayName: string;
  status: UserStatus | undefined;
}

export function normalizeUpsert(input: UpsertUserInput, prefix = ''): NormalizedUpsert {
  if (typeof input !== 'object' || input === null)
    throw new InvalidInputError(prefix ? prefix.replace(/\.$/, '') : 'input', 'not_an_object');
  const { email, emailKey } = normalizeEmail(input.email, `${prefix}email`);
  const displayName = normalizeDisplayName(input.displayName, `${prefix}displayName`);
  const status =
    input.status === undefined ? undefined : normalizeStatus(input.status, `${prefix}status`);
  return { email, emailKey, displayName, status };
}

/** Validates a batch; two inputs with one key are `duplicate_in_batch`, naming both positions. */
export function normalizeUpsertBatch(inputs: readonly UpsertUserInput[]): NormalizedUpsert[] {
  if (!Array.isArray(inputs)) throw new InvalidInputError('inputs', 'not_an_array');
  const seen = new Map<string, number>();
  return inputs.map((input, index) => {
    const normalized = normalizeUpsert(input, `inputs[${index}].`);
    const first = seen.get(normalized.emailKey);
    if (first !== undefined)
      throw new InvalidInputError(
        `inputs[${index}].email`,
        'duplicate_in_batch',
        `same key as inputs[${first}]`,
      );
    seen.set(normalized.emailKey, index);
    return normalized;
  });
}

export interface NormalizedPatch {
  email?: NormalizedEmail;
  displayName?: string;
  status?: UserStatus;
}

export function normalizePatch(patch: UserPatch): NormalizedPatch {
  if (typeof patch !== 'object' || patch === null)
    throw new InvalidInputError('patch', 'not_an_object');
  const out: NormalizedPatch = {};
  if (patch.email !== undefined) out.email = normalizeEmail(patch.email, 'patch.email');
  if (patch.displayName !== undefined)
    out.displayName = normalizeDisplayName(patch.displayName, 'patch.displayName');
  if (patch.status !== undefined) out.status = normalizeStatus(patch.status, 'patch.status');
  return out;
}

export interface NormalizedLink {
  userId: string;
  provider: string;
  subject: string;
}

export function normalizeLink(input: LinkIdentityInput): NormalizedLink {
  if (typeof input !== 'object' || input === null)
    throw new InvalidInputError('input', 'not_an_object');
  return {
    userId: normalizeId(input.userId, 'userId'),
    provider: normalizeProvider(input.provider),
    subject: normalizeSubject(input.subject),
  };
}

/** Cursors are opaque to callers: base64url of a versioned JSON carrying the last key. */
export function encodeCursor(emailKey: string): string {
  return Buffer.from(JSON.stringify({ v: 1, k: emailKey }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const bad = () => new InvalidInputError('after', 'malformed_cursor');
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    (parsed as { v?: unknown }).v !== 1 ||
    typeof (parsed as { k?: unknown }).k !== 'string'
  )
    throw bad();
  const key = (parsed as { k: string }).k;
  if (LONE_SURROGATE.test(key) || key.includes('\u0000')) throw bad();
  return key;
}

export interface NormalizedListOptions {
  limit: number;
  afterKey: string | null;
}

export function normalizeListOptions(options: ListUsersOptions = {}): NormalizedListOptions {
  if (typeof options !== 'object' || options === null)
    throw new InvalidInputError('options', 'not_an_object');
  const limit = normalizeLimit(options.limit, 'limit', LIMITS.listDefault, LIMITS.listMax);
  const after = options.after;
  if (after === undefined || after === null) return { limit, afterKey: null };
  if (typeof after !== 'string') throw new InvalidInputError('after', 'malformed_cursor');
  return { limit, afterKey: decodeCursor(after) };
}

export interface NormalizedOutboxQuery {
  afterSequence: number;
  limit: number;
}

export function normalizeOutboxQuery(query: OutboxQuery = {}): NormalizedOutboxQuery {
  if (typeof query !== 'object' || query === null)
    throw new InvalidInputError('query', 'not_an_object');
  const afterSequence = query.afterSequence ?? 0;
  if (
    typeof afterSequence !== 'number' ||
    !Number.isSafeInteger(afterSequence) ||
    afterSequence < 0
  )
    throw new InvalidInputError('afterSequence', 'out_of_range', 'a non-negative integer');
  return {
    afterSequence,
    limit: normalizeLimit(query.limit, 'limit', LIMITS.outboxDefault, LIMITS.outboxMax),
  };
}

/**
 * Plain code-point order, which is what PostgreSQL's `COLLATE "C"` gives on UTF-8. JavaScript's
 * `<` compares UTF-16 code units and orders U+E000..U+FFFF after astral characters; this does not.
 */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0) as number;
    const cy = y.value.codePointAt(0) as number;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}
