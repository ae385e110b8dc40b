// Medians, ranges and table cells. Every cell is "median (min–max)" over the runs.
export const median = (list: number[]): number => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export function cell(list: number[] | undefined, digits = 2, prefix = ''): string {
  if (!list || list.length === 0) return 'n/a';
  const fmt = (value: number): string => `${value >= 0 ? prefix : ''}${value.toFixed(digits)}`;
  if (list.length === 1) return fmt(list[0]!);
  return `${fmt(median(list))} (${fmt(Math.min(...list))}–${fmt(Math.max(...list))})`;
}

export function ratio(value: number[] | undefined, baseline: number[] | undefined): string {
  if (!value?.length || !baseline?.length || median(baseline) === 0) return 'n/a';
  return `${(median(value) / median(baseline)).toFixed(2)}×`;
}

/** Pairwise per-run differences (runs are interleaved, so run i of each path saw the same machine). */
export function added(value: number[] | undefined, baseline: number[] | undefined): number[] | undefined {
  if (!value?.length || !baseline?.length) return undefined;
  return value.map((entry, index) => entry - baseline[Math.min(index, baseline.length - 1)]!);
}
