/**
 * Where `testEnvironmentOptions.userEngineLive.storeFactory` points. Resolved in the environment
 * (so a wrong path fails the file with the option named) and loaded later inside the sandbox.
 */
import { existsSync, statSync } from 'fs';
import * as path from 'path';
import { FACTORY_OPTION } from './config/options';
import { LivePresetError } from './preset-errors';

function isFile(file: string): boolean {
  return existsSync(file) && statSync(file).isFile();
}

/** `storeFactory` as given, `<rootDir>`-expanded, resolved like Jest resolves a module path. */
export function resolveStoreFactory(
  spec: string | undefined,
  rootDir: string,
  extensions: readonly string[],
): string | undefined {
  if (spec === undefined) return undefined;
  const expanded = spec.replace(/^<rootDir>/, rootDir);
  // A file under rootDir first (with or without its extension), then a package module path.
  const base = path.resolve(rootDir, expanded);
  const found = [base, ...extensions.map((ext) => `${base}.${ext}`)].find(isFile);
  if (found) return found;
  try {
    return require.resolve(expanded, { paths: [rootDir] });
  } catch {
    throw new LivePresetError(
      'store_factory_not_found',
      `${FACTORY_OPTION}=${JSON.stringify(spec)} cannot be resolved from rootDir ${rootDir}`,
      FACTORY_OPTION,
    );
  }
}
