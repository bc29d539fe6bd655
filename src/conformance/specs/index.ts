import type { SpecGroup } from '../spec';
import { batchSpecs } from './batch';
import { concurrencySpecs } from './concurrency';
import { countSpecs } from './counts';
import { deleteSpecs } from './delete';
import { edgeSpecs } from './edges';
import { identitySpecs } from './identities';
import { listSpecs } from './list';
import { outboxSpecs } from './outbox';
import { pathSpecs } from './paths';
import { readSpecs } from './read';
import { readinessSpecs } from './readiness';
import { transactionSpecs } from './transactions';
import { updateSpecs } from './update';
import { upsertSpecs } from './upsert';
import { validationSpecs } from './validation';

/** Every group, in the order they are registered. */
export const SPEC_GROUPS: readonly SpecGroup[] = [
  readinessSpecs,
  upsertSpecs,
  batchSpecs,
  readSpecs,
  updateSpecs,
  deleteSpecs,
  listSpecs,
  identitySpecs,
  outboxSpecs,
  countSpecs,
  transactionSpecs,
  validationSpecs,
  pathSpecs,
  edgeSpecs,
  concurrencySpecs,
];
