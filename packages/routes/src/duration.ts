// Gateway API durations (GEP-2257): 1 to 4 `<number><unit>` parts, units h, m, s, ms; "0s" = disabled.

const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds, or undefined when `text` is not a GEP-2257 duration. */
export function parseGatewayDuration(text: string): number | undefined {
  if (!/^([0-9]{1,5}(h|m|s|ms)){1,4}$/.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(/([0-9]{1,5})(ms|h|m|s)/g)) total += Number(match[1]) * units[match[2]!]!;
  return total;
}
