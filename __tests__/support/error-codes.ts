/**
 * Every error code the source declares: for each class that extends `CodedError` (src/coded-error.ts),
 * the string literals its `code` property can hold, read with the TypeScript compiler from src/.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const SRC = path.resolve(__dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function extendsCodedError(type: ts.InterfaceType, checker: ts.TypeChecker): boolean {
  return checker.getBaseTypes(type).some((base) => {
    const name = base.getSymbol()?.getName();
    return name === 'CodedError' || extendsCodedError(base as ts.InterfaceType, checker);
  });
}

/** code -> the classes that can raise it. */
export function declaredErrorCodes(): Map<string, Set<string>> {
  const program = ts.createProgram(sourceFiles(SRC), {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const codes = new Map<string, Set<string>>();
  for (const file of program.getSourceFiles()) {
    if (!file.fileName.startsWith(SRC)) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isClassDeclaration(node) && node.name) {
        const type = checker.getTypeAtLocation(node) as ts.InterfaceType;
        if (extendsCodedError(type, checker)) {
          const code = type.getProperty('code');
          const codeType = code && checker.getTypeOfSymbolAtLocation(code, node);
          const members = codeType?.isUnion() ? codeType.types : codeType ? [codeType] : [];
          for (const member of members) {
            if (!member.isStringLiteral()) continue;
            const classes = codes.get(member.value) ?? new Set<string>();
            classes.add(node.name.text);
            codes.set(member.value, classes);
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return codes;
}
