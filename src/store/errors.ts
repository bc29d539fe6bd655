import { CodedError } from '../coded-error';

export type UserEngineErrorCode =
  | 'invalid_input'
  | 'duplicate_email'
  | 'identity_conflict'
  | 'not_found'
  | 'revision_conflict'
  | 'not_ready'
  | 'transaction_finished';

/** Base of every error a store raises on purpose; `code` is stable, the message is for humans. */
export class UserEngineError extends CodedError<UserEngineErrorCode> {}

/** `field` names the input at fault; `reason` is a stable machine-readable word. */
export class InvalidInputError extends UserEngineError {
  readonly field: string;
  readonly reason: string;
  constructor(field: string, reason: string, detail?: string) {
    super('invalid_input', `invalid ${field}: ${reason}${detail ? ` (${detail})` : ''}`);
    this.field = field;
    this.reason = reason;
  }
}

export class DuplicateEmailError extends UserEngineError {
  readonly emailKey: string;
  constructor(emailKey: string) {
    super('duplicate_email', `email ${JSON.stringify(emailKey)} belongs to another user`);
    this.emailKey = emailKey;
  }
}

export class IdentityConflictError extends UserEngineError {
  readonly provider: string;
  readonly subject: string;
  constructor(provider: string, subject: string) {
    super('identity_conflict', `identity ${provider}/${subject} is linked to another user`);
    this.provider = provider;
    this.subject = subject;
  }
}

export class NotFoundError extends UserEngineError {
  readonly entity: string;
  readonly key: string;
  constructor(entity: string, key: string) {
    super('not_found', `${entity} ${key} not found`);
    this.entity = entity;
    this.key = key;
  }
}

export class RevisionConflictError extends UserEngineError {
  readonly expectedRevision: number;
  readonly actualRevision: number;
  constructor(id: string, expectedRevision: number, actualRevision: number) {
    super(
      'revision_conflict',
      `user ${id} is at revision ${actualRevision}, not the expected ${expectedRevision}`,
    );
    this.expectedRevision = expectedRevision;
    this.actualRevision = actualRevision;
  }
}

export class NotReadyError extends UserEngineError {
  readonly pending: string[];
  constructor(pending: string[]) {
    super(
      'not_ready',
      `store is not migrated; pending migrations: ${pending.join(', ') || 'none'}`,
    );
    this.pending = pending;
  }
}

export class TransactionFinishedError extends UserEngineError {
  constructor() {
    super('transaction_finished', 'this transaction has already finished; its store is unusable');
  }
}

export function isUserEngineError(value: unknown): value is UserEngineError {
  return value instanceof UserEngineError;
}
