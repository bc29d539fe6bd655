/**
 * Compares documented output samples with real output by shape: JSON keys (values are examples),
 * and text lines with their numbers, versions and parenthesised DSNs as placeholders.
 */

/** JSON with comments and trailing commas (`jsonc`) to a value. */
export function parseJsonc(text: string): unknown {
  let plain = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      plain += char;
      if (char === '\\') plain += text[++i];
      else if (char === '"') inString = false;
    } else if (char === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      plain += '\n';
    } else {
      if (char === '"') inString = true;
      plain += char;
    }
  }
  return JSON.parse(plain.replace(/,(\s*[}\]])/g, '$1'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Keys the sample has and the actual output lacks, and the reverse, at every level where both
 * are objects (arrays: their first elements). `null` on either side says nothing about keys.
 */
export function shapeDifferences(sample: unknown, actual: unknown, at = '$'): string[] {
  if (Array.isArray(sample) && Array.isArray(actual)) {
    return sample.length > 0 && actual.length > 0
      ? shapeDifferences(sample[0], actual[0], `${at}[0]`)
      : [];
  }
  if (!isObject(sample) || !isObject(actual)) return [];
  const differences: string[] = [];
  for (const key of Object.keys(sample)) {
    if (!(key in actual)) differences.push(`${at}.${key}: documented, not in the output`);
    else differences.push(...shapeDifferences(sample[key], actual[key], `${at}.${key}`));
  }
  for (const key of Object.keys(actual)) {
    if (!(key in sample)) differences.push(`${at}.${key}: in the output, not documented`);
  }
  return differences;
}

/**
 * A documented output line as a pattern: numbers (counts, versions, times) and a parenthesised
 * DSN or `(embedded)` may differ, and a count's word may be singular.
 */
export function linePattern(sample: string): RegExp {
  const escaped = sample
    .trim()
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\\\(postgres(ql)?:\/\/[^)]*\\\)/g, '\\(([^)]+)\\)')
    .replace(/\d+(\\\.\d+)*/g, '[\\d.]+')
    .replace(/(\[\\d\.\]\+ \w+?)s\b/g, '$1s?');
  return new RegExp(`^${escaped}$`, 'm');
}
