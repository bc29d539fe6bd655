import {
  DuplicateEmailError,
  IdentityConflictError,
  InvalidInputError,
  NotFoundError,
  NotReadyError,
  RevisionConflictError,
  TransactionFinishedError,
  UserEngineError,
  isUserEngineError,
} from '../../src/store/errors';

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

// The contract matches on `code` and the fields; the message is what a person reads in a failed
// test or a log, so it must carry the same facts.
describe('store errors: code, fields and message', () => {
  test.each<[string, () => UserEngineError, string, string, Record<string, unknown>]>([
    [
      'InvalidInputError with a detail',
      () => new InvalidInputError('email', 'too_long', 'at most 254 characters'),
      'invalid_input',
      'invalid email: too_long (at most 254 characters)',
      { field: 'email', reason: 'too_long' },
    ],
    [
      'InvalidInputError without a detail',
      () => new InvalidInputError('patch', 'not_an_object'),
      'invalid_input',
      'invalid patch: not_an_object',
      { field: 'patch', reason: 'not_an_object' },
    ],
    [
      'DuplicateEmailError',
      () => new DuplicateEmailError('ann@x.io'),
      'duplicate_email',
      'email "ann@x.io" belongs to another user',
      { emailKey: 'ann@x.io' },
    ],
    [
      'IdentityConflictError',
      () => new IdentityConflictError('github', '42'),
      'identity_conflict',
      'identity github/42 is linked to another user',
      { provider: 'github', subject: '42' },
    ],
    [
      'NotFoundError',
      () => new NotFoundError('user', ID),
      'not_found',
      `user ${ID} not found`,
      { entity: 'user', key: ID },
    ],
    [
      'RevisionConflictError',
      () => new RevisionConflictError(ID, 1, 3),
      'revision_conflict',
      `user ${ID} is at revision 3, not the expected 1`,
      { expectedRevision: 1, actualRevision: 3 },
    ],
    [
      'NotReadyError with pending ids',
      () => new NotReadyError(['0002_create_identities', '0003_create_outbox']),
      'not_ready',
      'store is not migrated; pending migrations: 0002_create_identities, 0003_create_outbox',
      { pending: ['0002_create_identities', '0003_create_outbox'] },
    ],
    [
      'NotReadyError with nothing pending',
      () => new NotReadyError([]),
      'not_ready',
      'store is not migrated; pending migrations: none',
      { pending: [] },
    ],
    [
      'TransactionFinishedError',
      () => new TransactionFinishedError(),
      'transaction_finished',
      'this transaction has already finished; its store is unusable',
      {},
    ],
  ])('%s', (_name, create, code, message, fields) => {
    // Built inside the test, so that the error's construction counts as this test's coverage.
    const error = create();
    expect(error).toBeInstanceOf(Error);
    expect(isUserEngineError(error)).toBe(true);
    expect(error.name).toBe(error.constructor.name);
    expect({ code: error.code, message: error.message }).toEqual({ code, message });
    expect(error).toMatchObject(fields);
  });

  test('isUserEngineError is false for other errors and non-errors', () => {
    expect(isUserEngineError(new Error('x'))).toBe(false);
    expect(isUserEngineError({ code: 'not_found' })).toBe(false);
  });
});
