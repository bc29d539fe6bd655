/**
 * `runStoreConformance`, both forms: `(name, factory)` is the one-liner for a provider test file
 * under the preset (./live-suite); `(name, options)` the lower-level form for any store
 * (./register).
 */
import type { ConformanceOptions } from './options';
import { runStoreConformance as runWithOptions } from './register';
import { runLiveStoreConformance, type LiveStoreFactory } from './live-suite';

/** The shared suite, live through the preset, on the stores `factory` builds (one line). */
export function runStoreConformance(name: string, factory: LiveStoreFactory): void;
/** The shared suite on any store, with its lifecycle spelled out (see ConformanceOptions). */
export function runStoreConformance(name: string, options: ConformanceOptions): void;
export function runStoreConformance(
  name: string,
  factoryOrOptions: LiveStoreFactory | ConformanceOptions,
): void {
  if (typeof factoryOrOptions === 'function') runLiveStoreConformance(name, factoryOrOptions);
  else runWithOptions(name, factoryOrOptions);
}
