export { listConformanceSpecs } from './register';
export { runStoreConformance } from './run-store-conformance';
export type { LiveStoreFactory, LiveStoreFactoryArgs } from './live-suite';
export type { ConformanceSpecInfo } from './register';
export { CAPABILITY_NAMES, ConformanceOptionsError, DEFAULT_TIMEOUT_MS } from './options';
export type {
  CapabilityName,
  ConformanceOptions,
  FreshStore,
  SpecRequirement,
  StoreCapabilities,
} from './options';
export type { ContractId } from './spec';
