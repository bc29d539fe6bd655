export { runStoreConformance, listConformanceSpecs } from './register';
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
