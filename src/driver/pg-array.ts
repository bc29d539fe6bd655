/**
 * PostgreSQL array literals (`{1,2,"a \"b\"",NULL,{3}}`) to JavaScript arrays. postgres.js learns
 * array types by querying the server after connecting; that query is switched off (it rejects
 * unhandled when a stalled connect is abandoned), so the adapter parses the common arrays itself
 * and answers the same shapes pg does.
 */

export type ArrayElement = string | null | ArrayElement[];

/** Parses one array literal into nested arrays of raw element text (`null` for NULL). */
export function parseArrayLiteral(text: string): ArrayElement[] {
  let i = 0;
  // A literal may start with dimension decorations: `[1:2]={1,2}`.
  if (text[0] === '[') i = text.indexOf('=') + 1;

  function parseArray(): ArrayElement[] {
    if (text[i] !== '{') throw new SyntaxError(`malformed array literal: ${text}`);
    i++;
    const out: ArrayElement[] = [];
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      out.push(parseElement());
      const c = text[i++];
      if (c === '}') return out;
      if (c !== ',' && c !== ';') throw new SyntaxError(`malformed array literal: ${text}`);
    }
  }

  function parseElement(): ArrayElement {
    if (text[i] === '{') return parseArray();
    if (text[i] === '"') {
      i++;
      let value = '';
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        value += text[i++];
      }
      i++;
      return value;
    }
    const start = i;
    while (i < text.length && text[i] !== ',' && text[i] !== ';' && text[i] !== '}') i++;
    const raw = text.slice(start, i).trim();
    return raw.toUpperCase() === 'NULL' ? null : raw;
  }

  return parseArray();
}

function mapElements<T>(items: ArrayElement[], parse: (raw: string) => T): unknown[] {
  return items.map((item) =>
    item === null ? null : Array.isArray(item) ? mapElements(item, parse) : parse(item),
  );
}

/** Array type OIDs and how their elements read, matching pg's defaults. */
const ARRAY_ELEMENT_PARSERS: readonly { oids: number[]; parse: (raw: string) => unknown }[] = [
  { oids: [1005, 1007, 1021, 1022, 1028], parse: Number }, // int2, int4, float4, float8, oid
  { oids: [1000], parse: (raw) => raw === 't' }, // bool
  { oids: [1182, 1115, 1185], parse: (raw) => new Date(raw) }, // date, timestamp, timestamptz
  { oids: [199, 3807], parse: (raw) => JSON.parse(raw) as unknown }, // json, jsonb
  // int8 and numeric stay strings, as in pg: they may not fit a double.
  { oids: [1016, 1231, 1009, 1015, 1014, 2951, 1041, 651, 1040], parse: (raw) => raw },
];

/** postgres.js `types` entries that parse the arrays above (results only; never used to send). */
export function postgresJsArrayTypes(): Record<
  string,
  { to: number; from: number[]; serialize: (x: unknown) => string; parse: (x: string) => unknown }
> {
  const entries = ARRAY_ELEMENT_PARSERS.map(({ oids, parse }, index) => [
    `user_engine_array_${index}`,
    {
      to: oids[0],
      from: oids,
      serialize: (x: unknown) => String(x),
      parse: (x: string) => mapElements(parseArrayLiteral(x), parse),
    },
  ]);
  return Object.fromEntries(entries);
}
