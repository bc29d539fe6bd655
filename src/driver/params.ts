/**
 * Parameters are turned into PostgreSQL's text form here, once, for both drivers. pg would do the
 * same, but postgres.js re-serialises a value by the type the server infers for it (a string bound
 * to a jsonb parameter is JSON-encoded again, 'true' bound to a boolean becomes false, NULL array
 * elements are quoted): sending finished text with an unspecified type makes both drivers behave
 * alike, with the server doing every conversion.
 */
import type { QueryParam } from './port';

type Scalar = string | number | boolean | null;

function scalarText(value: Scalar, position: number): string | null {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      throw new TypeError(`query parameter $${position}: unsupported ${typeof value} value`);
  }
}

const NEEDS_ESCAPE = /[\\"]/;
const ESCAPED = /[\\"]/g;

/** `{"a",NULL,"b\"c"}`: every element quoted, so no element text needs further escaping rules. */
function arrayLiteral(values: readonly Scalar[], position: number): string {
  const elements = values.map((value) => {
    const text = scalarText(value, position);
    if (text === null) return 'NULL';
    // Bulk statements bind tens of thousands of elements: skip the replace when nothing needs it.
    return NEEDS_ESCAPE.test(text) ? `"${text.replace(ESCAPED, '\\$&')}"` : `"${text}"`;
  });
  return `{${elements.join(',')}}`;
}

export function toTextParam(value: QueryParam, position: number): string | null {
  if (value === undefined)
    throw new TypeError(`query parameter $${position} is undefined; pass null for SQL NULL`);
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw new TypeError(`query parameter $${position} is an invalid Date`);
    return value.toISOString();
  }
  if (Array.isArray(value)) return arrayLiteral(value, position);
  return scalarText(value as Scalar, position);
}

export function toTextParams(params: readonly QueryParam[] | undefined): (string | null)[] {
  if (params === undefined) return [];
  if (!Array.isArray(params)) throw new TypeError('query parameters must be an array');
  return params.map((value, index) => toTextParam(value, index + 1));
}
