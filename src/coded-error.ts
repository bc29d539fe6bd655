/**
 * The one base of every error this package raises on purpose. `code` is stable: match on it (each
 * code, its meaning and its fix are listed in docs/errors.md); the message is for humans, may
 * change, and never carries a password. One field name per concept across all subclasses:
 * `setting` names an environment variable or an option (`testEnvironmentOptions.userEngineLive.*`,
 * `options.*`) at fault; `field` names an argument or a field of an input value.
 *
 * No imports: every layer (driver, store, live, jest, cli) extends it.
 */
export class CodedError<Code extends string = string> extends Error {
  readonly code: Code;
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
