import { InvalidRunStateError } from '../../src/live/errors';
import {
  RUN_STATE_ENV,
  clearRunState,
  readRunState,
  writeRunState,
  type LiveRunState,
} from '../../src/jest/handoff';

const state: LiveRunState = {
  runId: 'abcdefghij',
  driver: 'pg',
  serverVersion: '15.20',
  redactedDsn: 'postgres://app:***@db.example:5432/test',
};

describe('run state in one environment variable', () => {
  it('round-trips through USER_ENGINE_LIVE_RUN only', () => {
    const env: Record<string, string | undefined> = {};
    writeRunState(env, state);
    expect(Object.keys(env)).toEqual([RUN_STATE_ENV]);
    expect(readRunState(env)).toEqual(state);
    clearRunState(env);
    expect(env).toEqual({});
  });

  it('keeps optional fields only when given', () => {
    const env: Record<string, string | undefined> = {};
    writeRunState(env, state);
    expect(readRunState(env) && 'embeddedDsn' in readRunState(env)!).toBe(false);
    writeRunState(env, { ...state, embeddedDsn: 'postgres://u:p@127.0.0.1:6000/x' });
    expect(readRunState(env)).toEqual({ ...state, embeddedDsn: 'postgres://u:p@127.0.0.1:6000/x' });
  });

  it('never stores a password given by mistake in redactedDsn', () => {
    const env: Record<string, string | undefined> = {};
    writeRunState(env, { ...state, redactedDsn: 'postgres://app:s3cr3t@db.example/test' });
    expect(env[RUN_STATE_ENV]).not.toContain('s3cr3t');
    expect(readRunState(env)?.redactedDsn).toBe('postgres://app:***@db.example/test');
  });

  it('is absent when the variable is unset or blank', () => {
    expect(readRunState({})).toBeUndefined();
    expect(readRunState({ [RUN_STATE_ENV]: '  ' })).toBeUndefined();
  });

  it.each([
    ['not json', /USER_ENGINE_LIVE_RUN is invalid: not JSON/],
    ['[]', /expected a JSON object/],
    ['{"format":2}', /format 2 is not 1/],
    [JSON.stringify({ ...state, format: 1, runId: 'UPPER' }), /runId: expected 10 characters/],
    [
      JSON.stringify({ ...state, format: 1, driver: 'mysql' }),
      /driver: expected one of pg, postgres/,
    ],
    [JSON.stringify({ ...state, format: 1, embeddedDsn: '' }), /embeddedDsn/],
  ])('rejects %s naming the variable', (raw, message) => {
    const read = () => readRunState({ [RUN_STATE_ENV]: raw });
    expect(read).toThrow(InvalidRunStateError);
    expect(read).toThrow(message);
  });

  it('refuses to write a malformed state, naming the field', () => {
    expect(() => writeRunState({}, { ...state, runId: 'x' })).toThrow(/invalid state\.runId/);
  });
});
