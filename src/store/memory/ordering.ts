/** Ordering helpers that keep paging cheap without changing what `compareCodePoints` defines. */

/**
 * Rearranges UTF-16 code units so that JavaScript's native `<` on the results orders the inputs
 * exactly as `compareCodePoints` does: U+E000..U+FFFF move below the surrogates, which is the
 * only place where code-unit order and code-point order disagree. Only for well-formed strings
 * (every stored key is one): a lone low surrogate would sort after astral characters.
 */
export function codePointOrderKey(value: string): string {
  if (!/[\uD800-\uFFFF]/.test(value)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    out += String.fromCharCode(
      unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit,
    );
  }
  return out;
}

/**
 * The `count` least items in ascending order, in one pass: a page of 50 out of 100k rows should
 * not cost a full sort.
 */
export function smallest<T>(items: Iterable<T>, count: number, less: (a: T, b: T) => boolean): T[] {
  const best: T[] = [];
  if (count <= 0) return best;
  for (const item of items) {
    if (best.length === count && !less(item, best[count - 1])) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (less(item, best[mid])) hi = mid;
      else lo = mid + 1;
    }
    best.splice(lo, 0, item);
    if (best.length > count) best.pop();
  }
  return best;
}
