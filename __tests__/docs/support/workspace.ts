/**
 * The fixture provider repos the documented examples make up, side by side in one temp folder
 * that holds the one shared node_modules (this package linked, as built; the tools a TypeScript
 * provider brings). Each repo is `<root>/<repo>/`: the support files of
 * __tests__/docs/fixtures/<repo>/ (what the docs leave to the provider: its store, package.json),
 * then every example block the docs assign to it, written to the file its directive names.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { linkFromRepo, PACKAGE_NAME, REPO } from '../../e2e/support/harness';
import * as ts from 'typescript';
import type { Example } from './extract';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

/** Support folders copied into a repo besides its own (shared spec files). */
const SHARED_SUPPORT: Record<string, string[]> = {
  globals: ['live-spec'],
  reporter: ['live-spec'],
};

/**
 * What a TypeScript provider has besides what the docs install: Jest's default transform
 * (babel-jest) with a babel.config.js of the repo, and the types `tsc` needs.
 */
const PROVIDER_TOOLING = [
  '@babel/preset-typescript',
  '@babel/plugin-transform-modules-commonjs',
  '@types/jest',
  '@types/node',
];

/** One tsc run over every TypeScript file of every repo, as each provider's `tsc --noEmit`. */
const TSCONFIG = {
  compilerOptions: {
    strict: true,
    target: 'ES2022',
    lib: ['ES2022'],
    // nodenext: each file is CommonJS or ESM by its repo's package.json, and the package's
    // `exports` and their `types` are what resolves, as in a provider's project.
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node', 'jest'],
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
  },
  include: ['*/**/*.ts'],
  exclude: ['node_modules'],
};

export interface ProcessResult {
  status: number | null;
  output: string;
}

/** Runs node with `args`; never blocks the event loop (Jest children run beside it). */
function runNode(args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<ProcessResult> {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

export interface Workspace {
  root: string;
  repoDir(repo: string): string;
  /** Installs what an `npm install` line names: links this repository's copies (no network). */
  install(packages: readonly string[]): void;
  /** `tsc --noEmit` over every repo; status and output. */
  typecheck(): Promise<ProcessResult>;
  /**
   * Runs a TypeScript file of a repo as the ES module script it is (types stripped, as a
   * provider's build would), waits for its top-level await, then exits: the documented snippet
   * leaves its connection open, as an application would.
   */
  runScript(repo: string, file: string, env: NodeJS.ProcessEnv): Promise<ProcessResult>;
  remove(): void;
}

/** `export`s a documented declaration, so its type can be compared with the package's. */
function exportedDeclaration(example: Example): string {
  return example.body.replace(/^(interface|type) /m, 'export $1 ');
}

/** A file that fails to compile unless the documented type and the exported one are identical. */
function typeEqualityCheck(module: string, name: string, docFile: string): string {
  return [
    `import type { ${name} as Documented } from './${docFile}.js';`,
    `import type { ${name} as Exported } from '${module}';`,
    'type Same<A, B> =',
    '  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;',
    `export const same: Same<Documented, Exported> = true;`,
    '',
  ].join('\n');
}

function write(file: string, text: string, source: string): void {
  if (fs.existsSync(file)) throw new Error(`${source}: ${file} is written twice`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

export function buildWorkspace(examples: readonly Example[]): Workspace {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ue-docs-'));
  const repoDir = (repo: string) => path.join(root, repo);
  const repos = new Set<string>();
  for (const example of examples) {
    const directive = example.directive;
    if (directive?.kind === 'file' || directive?.kind === 'run') repos.add(directive.repo);
  }
  for (const repo of repos) {
    for (const support of [repo, ...(SHARED_SUPPORT[repo] ?? [])]) {
      const dir = path.join(FIXTURES, support);
      if (fs.existsSync(dir)) fs.cpSync(dir, repoDir(repo), { recursive: true });
    }
  }
  for (const example of examples) {
    const directive = example.directive;
    const source = `${example.file}:${example.line}`;
    if (directive?.kind === 'file') {
      write(path.join(repoDir(directive.repo), directive.file), example.body, source);
    } else if (directive?.kind === 'type') {
      const docFile = `${path.basename(example.file, '.md')}-${example.line}`;
      const dir = path.join(repoDir('types'), 'documented');
      write(path.join(dir, `${docFile}.ts`), exportedDeclaration(example), source);
      write(
        path.join(dir, `${docFile}.check.ts`),
        typeEqualityCheck(directive.module, directive.name, docFile),
        source,
      );
    }
  }
  fs.writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  for (const name of PROVIDER_TOOLING) linkFromRepo(root, name);
  const installed = new Set<string>(PROVIDER_TOOLING);

  return {
    root,
    repoDir,
    install(packages) {
      for (const name of packages) {
        if (installed.has(name)) continue;
        if (name !== PACKAGE_NAME && !fs.existsSync(path.join(REPO, 'node_modules', name))) {
          throw new Error(
            `cannot install ${name} offline: it is not in this repository's node_modules`,
          );
        }
        linkFromRepo(root, name);
        installed.add(name);
      }
    },
    typecheck() {
      const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
      return runNode([tsc, '-p', root, '--pretty', 'false'], root);
    },
    runScript(repo, file, env) {
      const source = fs.readFileSync(path.join(repoDir(repo), file), 'utf8');
      const compiled = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      });
      const script = path.join(repoDir(repo), file.replace(/\.ts$/, '.mjs'));
      fs.writeFileSync(script, compiled.outputText);
      const main = `await import(${JSON.stringify(script)}); process.exit(0);`;
      return runNode(['--input-type=module', '-e', main], repoDir(repo), env);
    },
    remove() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
