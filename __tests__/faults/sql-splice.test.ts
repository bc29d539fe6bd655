/**
 * No string is ever spliced into SQL: every `${...}` in a template literal that builds SQL under
 * src/ (and every `+` onto SQL text) must be a quoting call (`quoteIdent`, `quoteIdentifier`,
 * `qualifiedName`, pg's `escapeIdentifier`), a compile-time constant, a `const` initialised from
 * one of those, or an entry of the allow-list below that says why the value is safe. A new
 * unquoted splice fails this test; so does an allow-list entry that no longer matches anything.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const SRC = path.resolve(__dirname, '..', '..', 'src');

const QUOTERS = new Set([
  'quoteIdent',
  'quoteIdentifier',
  'quoteLiteral',
  'qualifiedName',
  'escapeIdentifier',
]);

/** Text that starts an SQL statement (upper case, as this code base writes SQL). */
const STATEMENT_START =
  /^\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|DROP|ALTER|TRUNCATE|LOCK|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|DO|SET|RESET|GRANT|REVOKE|COMMENT|VACUUM|ANALYZE|EXPLAIN|COPY|LISTEN|NOTIFY|DECLARE|EXECUTE|PERFORM)\b/;
/** A keyword right before a splice: what follows is an identifier slot. */
const IDENTIFIER_SLOT = /\b(FROM|INTO|JOIN|UPDATE|TABLE|SCHEMA|DATABASE|EXISTS|ON|TO)\s*\(?$/;
/** Calls whose argument is SQL whatever it looks like. */
const SQL_SINKS = new Set(['query', 'unsafe']);

/**
 * `file: expression` → why it is safe. Keep each reason checkable by reading the named code.
 */
const ALLOWED: Record<string, string> = {
  'driver/pg-adapter.ts: name': 'savepoint name `ue_sp_<counter>`, generated',
  'driver/postgres-js-adapter.ts: name': 'savepoint name `s<counter>_ue`, generated',
  'driver/pg-adapter.ts: binding.prelude':
    'setLocalStatements() output: checked GUC names, quoteLiteral values, quoteIdentifier schema',
  'driver/session-settings.ts: value':
    'the search_path value: quoteIdentifier(options.schema), built in create-connection.ts',
  'driver/session-settings.ts: current':
    'a value of the constant CURRENT_TRANSACTION map (transaction_isolation, …)',
  'driver/session-settings.ts: name':
    'a GUC name matched against GUC_NAME by validateSessionSettings, or search_path/statement_timeout',
  "jest/worker/session.ts: selects.join(', ')":
    'each element is `(SELECT count(*) FROM quoteIdent(schema).quoteIdent(table)) AS <table>`',
  'live/reset.ts: lockTimeoutMs': 'checked to be a positive safe integer by checkStatementArgs',
  'live/reset.ts: key.namespace': 'resetFunctionLockKey(): a constant int4 namespace',
  'live/reset.ts: key.key': 'resetFunctionLockKey(): a 31-bit integer hash',
  "live/reset.ts: leaseGuard(schema).join('\\n')":
    'constant PL/pgSQL, the constant RUNS (qualifiedName) and the [a-z0-9]{10} run id of a checked run schema',
  'live/collect.ts: grace': "crashedRunsSql's argument: always a `$n` placeholder literal",
  "live/collect.ts: crashedRunsSql('$1')": 'crashedRunsSql with a constant placeholder only',
  'live/lease.ts: crashedRunsSql':
    "crashedRunsSql('$2') of collect.ts: constant ledger SQL with a `$n` placeholder",
  'live/run-schemas.ts: resetFunctionStatement(schema)':
    'reset.ts: static PL/pgSQL over qualifiedName(...) of a checked run schema',
  "store/postgres/migrator.ts: MIGRATION_LOCK_CALL.replace('$1', literal(sql.schema))":
    'the constant lock call with the schema as a quoted literal (literal())',
  'live/reset.ts: sessionSettings(lockTimeoutMs)':
    'constant set_config text with lockTimeoutMs, checked to be a positive safe integer',
  'live/ledger-identity.ts: object.slice(6)':
    'message text for a human (never executed): `"schema"."table"` built with quoteIdent',
  'live/ledger-identity.ts: p':
    'message text for a human (never executed): privilege names and quoteIdent-ed objects',
  'live/reset.ts: t': 'an element of managedTables(schema): qualifiedName of a checked run schema',
  'live/reset.ts: rows': 'count subqueries over managedTables(schema) and a numeric constant',
  "live/reset.ts: managedTables(schema).join(', ')": 'qualifiedName of each managed table',
  'live/reset.ts: list': 'SQL string literals of qualifiedName(...) of a checked run schema',
  'store/postgres/migrator.ts: sql.ledger':
    'StoreStatements.ledger: qualifiedName(schema, LEDGER_TABLE), quoted where statements.ts builds it',
  'store/postgres/migrator.ts: rows':
    "the catalogue's own versions (integers) with names and checksums as quoted literals (literal())",
  "store/postgres/migrator.ts: TABLES.map((t) => `to_regclass(format('%I.%I', $1::text, '${t}')) IS NOT NULL AS ${t}`).join(', ')":
    'TABLES are the constant table names of the migration catalogue; the schema is bound as $1',
  'store/postgres/statements.ts: USER_COLUMNS': 'userColumns(): the constant column names',
  "store/postgres/statements.ts: userColumns('u')": 'constant column names with a constant alias',
  "store/postgres/statements.ts: userColumns('e')": 'constant column names with a constant alias',
  'store/postgres/statements.ts: type': 'eventFrom argument: always a `$n` placeholder literal',
  'store/postgres/statements.ts: aggregateId': 'eventFrom argument: always a `$n` placeholder',
  'store/postgres/statements.ts: payload': 'eventFrom argument: always a `$n` placeholder',
  'store/postgres/statements.ts: source': 'eventFrom argument: always a constant CTE name',
  "store/postgres/statements.ts: eventFrom('updated', '$7', '$8', '$9')":
    'eventFrom with constant arguments only',
  "store/postgres/statements.ts: eventFrom('deleted', '$3', '$4', '$5')":
    'eventFrom with constant arguments only',
  "store/postgres/statements.ts: eventFrom('linked', '$4', '$5', '$6')":
    'eventFrom with constant arguments only',
  "store/postgres/statements.ts: eventFrom('deleted', '$4', '$5', '$6')":
    'eventFrom with constant arguments only',
};

interface Splice {
  /** `file: expression`, the allow-list key. */
  key: string;
  at: string;
  sql: string;
}

type ConstInitializers = Map<string, ts.Expression[]>;

/** Every `const` initializer in the file, by name (any scope: a name is safe only if all are). */
function constInitializers(source: ts.SourceFile): ConstInitializers {
  const found: ConstInitializers = new Map();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclarationList(node) && (node.flags & ts.NodeFlags.Const) !== 0) {
      for (const declaration of node.declarations) {
        if (ts.isIdentifier(declaration.name) && declaration.initializer) {
          const name = declaration.name.text;
          found.set(name, [...(found.get(name) ?? []), declaration.initializer]);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Names imported from relative modules → the file that defines them. */
function importsOf(
  source: ts.SourceFile,
  file: string,
  exists: (file: string) => boolean,
): Map<string, { file: string; name: string }> {
  const imports = new Map<string, { file: string; name: string }>();
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier))
      continue;
    const spec = statement.moduleSpecifier.text;
    if (!spec.startsWith('.')) continue;
    const base = path.resolve(path.dirname(file), spec);
    const target = [`${base}.ts`, path.join(base, 'index.ts')].find(exists);
    const bindings = statement.importClause?.namedBindings;
    if (!target || !bindings || !ts.isNamedImports(bindings)) continue;
    for (const element of bindings.elements) {
      imports.set(element.name.text, {
        file: target,
        name: (element.propertyName ?? element.name).text,
      });
    }
  }
  return imports;
}

interface FileFacts {
  source: ts.SourceFile;
  consts: ConstInitializers;
  imports: Map<string, { file: string; name: string }>;
}

interface SourceReader {
  readFile(file: string): string;
  exists(file: string): boolean;
}

const DISK: SourceReader = {
  readFile: (file) => fs.readFileSync(file, 'utf8'),
  exists: (file) => fs.existsSync(file),
};

/** Parses source files on demand; the reader lets the self-test feed in-memory sources. */
class Scanner {
  readonly #facts = new Map<string, FileFacts>();
  constructor(private readonly reader: SourceReader) {}

  facts(file: string): FileFacts {
    let facts = this.#facts.get(file);
    if (!facts) {
      const text = this.reader.readFile(file);
      const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
      const imports = importsOf(source, file, (f) => this.reader.exists(f));
      facts = { source, consts: constInitializers(source), imports };
      this.#facts.set(file, facts);
    }
    return facts;
  }

  /** A quoting call, a literal, or built only from those (through consts, across imports). */
  isSafe(expression: ts.Expression, file: string, depth = 0): boolean {
    if (depth > 8) return false;
    const e = expression;
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e))
      return this.isSafe(e.expression, file, depth + 1);
    if (ts.isStringLiteral(e) || ts.isNumericLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e))
      return true;
    if (ts.isTemplateExpression(e))
      return e.templateSpans.every((span) => this.isSafe(span.expression, file, depth + 1));
    if (ts.isConditionalExpression(e))
      return this.isSafe(e.whenTrue, file, depth + 1) && this.isSafe(e.whenFalse, file, depth + 1);
    if (ts.isCallExpression(e)) {
      const callee = e.expression;
      const name = ts.isIdentifier(callee)
        ? callee.text
        : ts.isPropertyAccessExpression(callee)
          ? callee.name.text
          : '';
      return QUOTERS.has(name);
    }
    if (ts.isIdentifier(e)) {
      const { consts, imports } = this.facts(file);
      const initializers = consts.get(e.text);
      if (initializers) return initializers.every((i) => this.isSafe(i, file, depth + 1));
      const imported = imports.get(e.text);
      if (!imported) return false;
      const there = this.facts(imported.file).consts.get(imported.name);
      return !!there && there.every((i) => this.isSafe(i, imported.file, depth + 1));
    }
    return false;
  }

  /** Every unsafe splice into SQL text in `file`. */
  splices(file: string, label: string): Splice[] {
    const { source } = this.facts(file);
    const found: Splice[] = [];
    const report = (expression: ts.Expression, sql: string) => {
      if (this.isSafe(expression, file)) return;
      const line = source.getLineAndCharacterOfPosition(expression.getStart()).line + 1;
      found.push({
        key: `${label}: ${expression.getText()}`,
        at: `${label}:${line}`,
        sql: sql.replace(/\s+/g, ' ').slice(0, 80),
      });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isTemplateExpression(node)) {
        const parts = [node.head.text, ...node.templateSpans.map((s) => s.literal.text)];
        const sink =
          ts.isCallExpression(node.parent) &&
          ts.isPropertyAccessExpression(node.parent.expression) &&
          SQL_SINKS.has(node.parent.expression.name.text);
        const isSql = sink || STATEMENT_START.test(node.head.text);
        node.templateSpans.forEach((span, i) => {
          if (isSql || IDENTIFIER_SLOT.test(parts[i])) report(span.expression, parts.join('${}'));
        });
      }
      if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
        const sqlText = (n: ts.Expression) =>
          (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) &&
          (STATEMENT_START.test(n.text) || IDENTIFIER_SLOT.test(n.text));
        if (sqlText(node.left)) report(node.right, (node.left as ts.StringLiteral).text);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
  }
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

function scanSrc(): Splice[] {
  const scanner = new Scanner(DISK);
  return sourceFiles(SRC).flatMap((file) =>
    scanner.splices(file, path.relative(SRC, file).split(path.sep).join('/')),
  );
}

describe('SQL is never built by splicing strings', () => {
  const splices = scanSrc();

  test('every splice into SQL under src/ is quoted, constant or allow-listed with a reason', () => {
    const unexplained = splices
      .filter((s) => !(s.key in ALLOWED))
      .map((s) => `${s.at}  \${${s.key.slice(s.key.indexOf(': ') + 2)}}  in  ${s.sql}`);
    expect(unexplained).toEqual([]);
  });

  test('the allow-list has no stale entries', () => {
    const seen = new Set(splices.map((s) => s.key));
    expect(Object.keys(ALLOWED).filter((key) => !seen.has(key))).toEqual([]);
  });

  test('the scanner catches a new unquoted splice and passes quoted ones (self-test)', () => {
    const files: Record<string, string> = {
      '/virtual/names.ts': `export const TABLE = 'user_engine_users';\n`,
      '/virtual/a.ts': [
        `import { TABLE } from './names';`,
        `import { quoteIdent } from './isolation';`,
        `const SCHEMA = \`ue_\${'x'}\`;`,
        `export async function f(conn: any, name: string, schema: string) {`,
        `  await conn.query(\`SELECT * FROM \${name}\`);`,
        `  await conn.query(\`DROP SCHEMA \${quoteIdent(schema)} CASCADE\`);`,
        `  await conn.query(\`SELECT count(*) FROM \${TABLE} WHERE k = $1\`, [name]);`,
        `  const q = \`DELETE FROM \${SCHEMA}.t WHERE a = '\${name}'\`;`,
        `  const w = 'SELECT * FROM ' + name;`,
        `  throw new Error(\`could not connect to \${name} on \${schema}\`);`,
        `}`,
      ].join('\n'),
    };
    const scanner = new Scanner({
      readFile: (file) => files[file] ?? '',
      exists: (file) => file in files,
    });
    const found = scanner.splices('/virtual/a.ts', 'a.ts').map((s) => s.key);
    expect(found).toEqual(['a.ts: name', 'a.ts: name', 'a.ts: name']);
  });
});
