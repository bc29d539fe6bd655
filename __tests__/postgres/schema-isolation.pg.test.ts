import { registerSchemaIsolation } from './schema-isolation';

registerSchemaIsolation('pg');
