/**
 * Finds every fenced code block in README.md and docs/**\/*.md, with the `<!-- example: ... -->`
 * directive on the line before its fence (blank lines between are allowed). Pure: the test turns
 * the directives into fixture provider repos and runs them.
 */
import * as fs from 'fs';
import * as path from 'path';

/** What a directive says about its block. */
export type ExampleDirective =
  /** Not runnable; the reason is shown in the test's list of skipped examples. */
  | { kind: 'skip'; reason: string }
  /** The block is the file `file` of the fixture provider repo `repo`. */
  | { kind: 'file'; repo: string; file: string }
  /** Shell commands (or a CI job's steps) run in the fixture provider repo `repo`. */
  | { kind: 'run'; repo: string }
  /** A sample of what `check` prints: the test compares its shape with the real output. */
  | { kind: 'output'; check: string }
  /** A TypeScript declaration that must be identical to the type `name` exported by `module`. */
  | { kind: 'type'; module: string; name: string }
  /** `npx user-engine-live ...` usage lines: each must be the `Usage:` line of its `--help`. */
  | { kind: 'synopsis' };

export interface Example {
  /** Path relative to the repository root, e.g. `docs/cli.md`. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word (`ts`, `sh`, ...), '' when there is none. */
  lang: string;
  body: string;
  /** Undefined when the block has no directive: the test fails for it. */
  directive: ExampleDirective | undefined;
  /** The directive's text when it could not be understood. */
  invalid?: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const DIRECTIVE = /^\s*<!--\s*example:\s*(.*?)\s*-->\s*$/;

/**
 * `skip — reason` (also `-`, `:`), `repo=a file=b`, `repo=a run`, `output=x`, `type=mod#Name`,
 * `synopsis`.
 */
export function parseDirective(text: string): ExampleDirective | undefined {
  if (text === 'synopsis') return { kind: 'synopsis' };
  const skip = /^skip\s*[—–:-]\s*(\S.*)$/.exec(text);
  if (skip) return { kind: 'skip', reason: skip[1] };
  const fields = new Map<string, string>();
  for (const word of text.split(/\s+/)) {
    const [key, ...value] = word.split('=');
    fields.set(key, value.join('='));
  }
  const repo = fields.get('repo');
  if (repo && fields.get('file')) return { kind: 'file', repo, file: fields.get('file')! };
  if (repo && fields.has('run') && fields.size === 2) return { kind: 'run', repo };
  if (fields.get('output') && fields.size === 1)
    return { kind: 'output', check: fields.get('output')! };
  const type = /^([^#]+)#(\w+)$/.exec(fields.get('type') ?? '');
  if (type && fields.size === 1) return { kind: 'type', module: type[1], name: type[2] };
  return undefined;
}

export function extractExamples(markdown: string, file: string): Example[] {
  const lines = markdown.split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    let end = i + 1;
    while (end < lines.length && !lines[end].trimStart().startsWith(fence)) end++;
    const body = lines
      .slice(i + 1, end)
      .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
      .join('\n');
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const comment = before >= 0 ? DIRECTIVE.exec(lines[before]) : null;
    const directive = comment ? parseDirective(comment[1]) : undefined;
    examples.push({
      file,
      line: i + 1,
      lang,
      body: `${body}\n`,
      directive,
      ...(comment && !directive ? { invalid: comment[1] } : {}),
    });
    i = end;
  }
  return examples;
}

/** README.md and every Markdown file under docs/ (docs/internals included), sorted. */
export function documentationFiles(repo: string): string[] {
  const found = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(repo, dir), { withFileTypes: true })) {
      const relative = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.md')) found.push(relative);
    }
  };
  walk('docs');
  return found.sort();
}

export function extractAll(repo: string): Example[] {
  return documentationFiles(repo).flatMap((file) =>
    extractExamples(fs.readFileSync(path.join(repo, file), 'utf8'), file),
  );
}

export function where(example: Example): string {
  return `${example.file}:${example.line} (${example.lang || 'no language'})`;
}
