/**
 * `preset: '@user-engine/jest-live'`: the Jest options the preset sets. Absolute paths to the
 * compiled environment, global setup/teardown and setup file; spread it into a config of your
 * own when you cannot use `preset` (e.g. `setupFilesAfterEnv: [...preset.setupFilesAfterEnv]`).
 */
declare const preset: {
  readonly testEnvironment: string;
  readonly globalSetup: string;
  readonly globalTeardown: string;
  readonly setupFilesAfterEnv: readonly string[];
};
export = preset;
