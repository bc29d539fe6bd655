/**
 * Runs Jest in band, in THIS process, through its API (`runCLI`), then reports which database
 * drivers ended up in Node's module cache. Usage: node probe-in-band.js <path to jest package>
 * (cwd: the project). Prints one JSON line last.
 */
const { runCLI } = require(process.argv[2]);

const DRIVER_MODULE = /[\\/]node_modules[\\/](pg|pg-pool|pg-protocol|pg-types|postgres)[\\/]/;

runCLI({ _: [], $0: 'jest', runInBand: true, ci: true, silent: true }, [process.cwd()]).then(
  ({ results }) => {
    const drivers = Object.keys(require.cache).filter((file) => DRIVER_MODULE.test(file));
    const summary = {
      success: results.success,
      passed: results.numPassedTests,
      pending: results.numPendingTests,
      failed: results.numFailedTests,
      drivers,
    };
    process.stdout.write(`\n${JSON.stringify(summary)}\n`);
  },
  (error) => {
    process.stdout.write(`\n${JSON.stringify({ error: String(error) })}\n`);
    process.exitCode = 1;
  },
);
