import { registerPostgresConformance } from './conformance-suite';

registerPostgresConformance('pg');
