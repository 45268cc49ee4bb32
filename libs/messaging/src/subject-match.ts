// NATS subject matching ('*' one token, '>' the rest), for client-side filtering where the server
// cannot filter (several filter subjects on a NATS server older than 2.10).

export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const t = f[i]!;
    if (t === '>') return s.length > i;
    if (i >= s.length) return false;
    if (t !== '*' && t !== s[i]) return false;
  }
  return f.length === s.length;
}

export function anySubjectMatches(filters: readonly string[], subject: string): boolean {
  return filters.length === 0 || filters.some((f) => subjectMatches(f, subject));
}

/** Parses `major.minor.patch` (ignores pre-release); true when `version >= min`. */
export function versionAtLeast(version: string | undefined, min: [number, number, number]): boolean {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return false;
  const v = [Number(m[1]), Number(m[2]), Number(m[3])];
  for (let i = 0; i < 3; i++) {
    if (v[i]! !== min[i]!) return v[i]! > min[i]!;
  }
  return true;
}
