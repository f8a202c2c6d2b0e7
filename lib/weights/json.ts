/** A JSON value for an error message: short, and never walked (a hostile file can nest values a million deep). */
export function showJson(v: unknown): string {
  if (Array.isArray(v))
    return v.length <= 8 && v.every((x) => typeof x === 'number') ? JSON.stringify(v) : `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (v !== null && typeof v === 'object') return 'an object';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}
