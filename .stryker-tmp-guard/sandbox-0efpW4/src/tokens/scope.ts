/** Splits a space-separated scope string into a set. */
// @ts-nocheck

export function scopeSet(scope: string | undefined): Set<string> {
  return new Set((scope ?? '').split(' ').filter((s) => s !== ''))
}

/** Members of `a` that are not in `b`. */
export function scopeMinus(a: Set<string>, b: Set<string>): string[] {
  return [...a].filter((s) => !b.has(s))
}
