/**
 * A real `import()` for code running in a Jest sandbox. TypeScript's CommonJS output rewrites
 * `import()` into `require()`, which cannot load an ES module; this file is plain JavaScript, so
 * Jest compiles the expression below with its own ESM loader (the same module registry as the
 * test file). It works when Jest runs ES modules (node --experimental-vm-modules).
 */
module.exports = function importEsm(specifier) {
  return import(specifier);
};
