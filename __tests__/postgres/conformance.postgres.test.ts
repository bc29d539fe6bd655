import { registerPostgresConformance } from './conformance-suite';

registerPostgresConformance('postgres');
