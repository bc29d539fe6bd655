/**
 * `@user-engine/jest-live/summary-reporter`: a Jest reporter printing, after the run, the server
 * and driver the live tests used and the passed/failed/skipped counts (see docs/provider-setup.md):
 *
 *   reporters: ['default', ['@user-engine/jest-live/summary-reporter', { label: 'my-store' }]]
 *
 * `export =` (not `export default`): Jest, Node's ESM loader and bundlers all get the class itself.
 */
import SummaryReporter from './jest/parent/summary-reporter';

export = SummaryReporter;
