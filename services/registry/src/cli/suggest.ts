// "Did you mean": the closest of a few known words to a mistyped one (Levenshtein distance,
// with a swap of two neighbouring letters counted as one edit).

/** Edits (insert, delete, replace, swap neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]!.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]!.push(best);
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate `word` most likely meant: the nearest within a third of its length (at
 * least 1, at most 3 edits), or one it is a prefix or plural/singular of; undefined if none.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const typed = word.toLowerCase();
  const budget = Math.min(3, Math.max(1, Math.floor(typed.length / 3)));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(typed, candidate);
    if (distance <= budget && (!best || distance < best.distance)) best = { candidate, distance };
  }
  if (best) return best.candidate;
  if (typed.length >= 3) return candidates.find((c) => c.startsWith(typed) || typed.startsWith(c));
  return undefined;
}

/** "; did you mean "x"?" or "". */
export function didYouMean(word: string, candidates: readonly string[], quote = true): string {
  const guess = closest(word, candidates);
  if (guess === undefined) return "";
  return `; did you mean ${quote ? `"${guess}"` : guess}?`;
}
