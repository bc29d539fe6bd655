import { registerSchemaIsolation } from './schema-isolation';

registerSchemaIsolation('postgres');
