/**
 * The preset's testEnvironment: Node's, plus `globalThis.userEngineLive`. Jest requires this
 * module once per worker process and constructs the class once per test file.
 *
 * Skip: `{ enabled: false, reason }` and nothing else is loaded. Live: opens the worker's
 * schema-bound pool and hands it to `setup-store` (inside the sandbox) through the bridge; prints
 * diagnostics once for each failing test.
 */
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import type { TestEnvironment as NodeTestEnvironment } from 'jest-environment-node';
import { decideLive, type LiveDecision } from '../../live/config';
import { liveTestCount, recordTallyEntry, writeBridge } from '../handoff';
import { resolveJestEnvironmentNode } from './consumer-jest';
import type { LiveContext, UserEngineLiveGlobal } from '../test/live-context';
import type { FileSession } from './session';

/** Jest's defaults, for resolving a storeFactory given without its extension. */
const DEFAULT_EXTENSIONS = ['js', 'mjs', 'cjs', 'jsx', 'ts', 'mts', 'cts', 'tsx', 'json', 'node'];

/**
 * Stands in until setup-store replaces it; it only survives when that setup file is missing
 * (testEnvironment used without the preset), and then says so instead of failing obscurely.
 */
function unwiredContext(schema: string): LiveContext {
  const missing = (): never => {
    throw new Error(
      'userEngineLive is not wired: use preset "@user-engine/jest-live", or add its ' +
        "setupFilesAfterEnv entry (require('@user-engine/jest-live/jest-preset').setupFilesAfterEnv)",
    );
  };
  return {
    enabled: true,
    get store() {
      return missing();
    },
    get connection() {
      return missing();
    },
    schema,
    runId: '',
    workerId: '',
    serverVersion: '',
    redactedDsn: '',
    createFreshStore: async () => missing(),
    openFreshSchema: async () => missing(),
    reset: async () => missing(),
    recordCounts: async () => missing(),
  };
}

/** The consumer's own Jest Node environment (29 or 30), never a second copy (./consumer-jest). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TestEnvironment } = require(resolveJestEnvironmentNode()) as {
  TestEnvironment: typeof NodeTestEnvironment;
};

export default class UserEngineLiveEnvironment extends TestEnvironment {
  private readonly decision: LiveDecision;
  private readonly rootDir: string;
  private readonly moduleFileExtensions: readonly string[];
  private readonly testPath: string;
  private session: FileSession | undefined;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    const { projectConfig } = config;
    this.decision = decideLive(process.env, projectConfig.testEnvironmentOptions);
    this.rootDir = projectConfig.rootDir;
    this.moduleFileExtensions = projectConfig.moduleFileExtensions ?? DEFAULT_EXTENSIONS;
    this.testPath = context.testPath;
  }

  override async setup(): Promise<void> {
    await super.setup();
    const decision = this.decision;
    if (decision.kind === 'skip') {
      this.expose({ enabled: false, reason: decision.reason });
      return;
    }
    if (decision.kind === 'error') throw decision.error;
    const { openFileSession } = await import('./session');
    this.session = await openFileSession({
      dsn: decision.kind === 'live' ? decision.target.dsn : undefined,
      driver: decision.kind === 'live' ? decision.target.driver : decision.driver,
      password: decision.kind === 'live' ? decision.target.password : undefined,
      options: decision.options,
      rootDir: this.rootDir,
      moduleFileExtensions: this.moduleFileExtensions,
    });
    writeBridge(this.global, this.session.bridge);
    this.expose(unwiredContext(this.session.bridge.schema));
  }

  override async teardown(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    try {
      // For USER_ENGINE_LIVE_REQUIRED's run-wide check (a no-op when the run keeps no tally).
      recordTallyEntry(process.env, {
        testPath: this.testPath,
        liveTests: liveTestCount(this.global),
      });
      if (session) {
        writeBridge(this.global, undefined);
        await session.close();
      }
    } finally {
      await super.teardown();
    }
  }

  async handleTestEvent(event: Circus.Event): Promise<void> {
    await this.session?.handleTestEvent(event);
  }

  private expose(live: UserEngineLiveGlobal): void {
    this.global.userEngineLive = live;
  }
}
