/**
 * Runs a snippet in a plain Node process that can require this repository's TypeScript sources
 * (transpiled on the fly), for checks Jest's sandbox would distort: require.cache, process exit.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

const TS_HOOK = `
const fs = require('fs');
const ts = require('typescript');
require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  });
  module._compile(outputText, filename);
};
`;

export interface ScriptResult {
  stdout: string;
  stderr: string;
  /** Wall time until the process exited on its own. */
  ms: number;
}

/** Rejects if the process fails or has not exited on its own after `timeoutMs`. */
export function runNodeScript(
  body: string,
  options: { args?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ScriptResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', TS_HOOK + body, ...(options.args ?? [])],
      { cwd: ROOT, env: options.env ?? process.env, timeout: options.timeoutMs ?? 20_000 },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stdout, stderr }));
        else resolve({ stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}
