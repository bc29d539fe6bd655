/**
 * A `json` column as the driver hands it over: node-postgres parses it, postgres.js may pass the
 * text through (depending on its type options); either way the caller gets the value.
 */
export function jsonColumn<T>(value: T | string | null, empty: T): T {
  if (value === null) return empty;
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}
