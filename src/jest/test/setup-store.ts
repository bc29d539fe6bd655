/**
 * setupFilesAfterEnv of the preset: runs inside every test file's sandbox, after the environment
 * and before the file. When live tests are off it loads nothing beyond the bridge lookup, so the
 * skip path costs a test file almost nothing; when live, `live-setup` builds the store here.
 */
import { readBridge } from '../handoff/bridge';

const bridge = readBridge(globalThis);
if (bridge) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { installLiveContext } = require('./live-setup') as typeof import('./live-setup');
  installLiveContext(bridge, globalThis);
}
