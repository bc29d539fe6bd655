/** Every piece of text a decision can show a human, minus the fields that hold the secret. */
import { describeDecision, type LiveDecision, type LiveTarget } from '../../src/live/config';

export function decisionOutputs(decision: LiveDecision): string[] {
  const out = [describeDecision(decision)];
  switch (decision.kind) {
    case 'skip':
      out.push(decision.reason);
      break;
    case 'error': {
      const { error } = decision;
      out.push(error.message, String(error), error.stack ?? '', JSON.stringify(error));
      break;
    }
    case 'live': {
      const shown: Partial<LiveTarget> = { ...decision.target };
      delete shown.dsn;
      delete shown.password;
      out.push(decision.target.redactedDsn, JSON.stringify({ ...decision, target: shown }));
      break;
    }
    case 'embedded':
      out.push(JSON.stringify(decision));
      break;
  }
  return out;
}

export function baseEnv(dsn: string | undefined, reset?: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (dsn !== undefined) env.USER_ENGINE_LIVE_DSN = dsn;
  if (reset !== undefined) env.USER_ENGINE_LIVE_RESET = reset;
  return env;
}
