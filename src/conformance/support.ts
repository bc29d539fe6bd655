/**
 * Helpers for spec bodies. Expected payloads are written out here by hand instead of importing the
 * stores' builders, so the suite stays an independent oracle.
 */
import { expect } from './jest-globals';
import type { JsonValue, OutboxEvent, User, UserEngineStore, UserPage } from '../store/contract';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Well-formed but never assigned by a store (version nibble 4, all zeros otherwise). */
export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

export interface EventView {
  type: OutboxEvent['type'];
  aggregateId: string;
  payload: { [key: string]: JsonValue };
}

export function view(event: OutboxEvent): EventView {
  return { type: event.type, aggregateId: event.aggregateId, payload: event.payload };
}

function snapshot(user: User) {
  return {
    userId: user.id,
    email: user.email,
    displayName: user.displayName,
    status: user.status,
    revision: user.revision,
  };
}

export function created(user: User): EventView {
  return { type: 'user.created', aggregateId: user.id, payload: snapshot(user) };
}

export function updated(user: User, changes: string[]): EventView {
  return { type: 'user.updated', aggregateId: user.id, payload: { ...snapshot(user), changes } };
}

export function deleted(user: User): EventView {
  return {
    type: 'user.deleted',
    aggregateId: user.id,
    payload: { userId: user.id, email: user.email },
  };
}

export function linked(userId: string, provider: string, subject: string): EventView {
  return { type: 'identity.linked', aggregateId: userId, payload: { userId, provider, subject } };
}

export function unlinked(userId: string, provider: string, subject: string): EventView {
  return { type: 'identity.unlinked', aggregateId: userId, payload: { userId, provider, subject } };
}

/** Every outbox event after `afterSequence`, paging with the maximum limit. */
export async function allEvents(store: UserEngineStore, afterSequence = 0): Promise<OutboxEvent[]> {
  const out: OutboxEvent[] = [];
  let after = afterSequence;
  for (;;) {
    const page = await store.outboxEvents({ afterSequence: after, limit: 1000 });
    out.push(...page);
    if (page.length < 1000) return out;
    after = page[page.length - 1].sequence;
  }
}

export async function allEventViews(store: UserEngineStore, afterSequence = 0) {
  return (await allEvents(store, afterSequence)).map(view);
}

/** The highest sequence so far (0 when the outbox is empty). */
export async function lastSequence(store: UserEngineStore): Promise<number> {
  const events = await allEvents(store);
  return events.length === 0 ? 0 : events[events.length - 1].sequence;
}

export async function seedUser(
  store: UserEngineStore,
  email: string,
  displayName = 'Seed User',
): Promise<User> {
  return (await store.upsertUser({ email, displayName })).user;
}

/** Walks every page of `listUsers`, returning the pages as they came. */
export async function collectPages(store: UserEngineStore, limit: number): Promise<UserPage[]> {
  const pages: UserPage[] = [];
  let after: string | null = null;
  // A store that never returns `next: null` must not hang the suite.
  for (let guard = 0; guard < 10_000; guard++) {
    const page: UserPage = await store.listUsers({ limit, after });
    pages.push(page);
    if (page.next === null) return pages;
    after = page.next;
  }
  throw new Error('listUsers never returned next: null');
}

/** Zero-padded numbers keep generated emails in the same order as their indexes. */
export function numbered(prefix: string, count: number, domain = 'x.io'): string[] {
  return Array.from(
    { length: count },
    (_, i) => `${prefix}${String(i).padStart(4, '0')}@${domain}`,
  );
}

export function emails(users: readonly User[]): string[] {
  return users.map((user) => user.email);
}

export function time(date: Date): number {
  return date.getTime();
}

export function expectUserShape(user: User): void {
  expect(user.id).toMatch(UUID);
  expect(user.createdAt).toBeInstanceOf(Date);
  expect(user.updatedAt).toBeInstanceOf(Date);
  expect(Number.isNaN(user.createdAt.getTime())).toBe(false);
  expect(time(user.updatedAt)).toBeGreaterThanOrEqual(time(user.createdAt));
}

export function rejectedReasons(results: PromiseSettledResult<unknown>[]): unknown[] {
  return results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
}

export function fulfilledValues<T>(results: PromiseSettledResult<T>[]): T[] {
  return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
}
