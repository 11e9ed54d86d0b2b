// Durations as the admin API and signetctl write them: a whole number and a unit, e.g. 7d.
// One table for both (the API's `expiring_within`, the CLI's --grace, --expires, ...).

/** Seconds in one of each unit. */
const UNIT_SECONDS: Readonly<Record<string, number>> = {
  s: 1,
  m: 60,
  h: 3_600,
  d: 86_400,
  w: 604_800,
};

/** The API's pattern: the unit is required there. */
export const DURATION_PATTERN = "^[0-9]{1,7}[smhdw]$";

/** "90" (seconds), "30s", "5m", "1h", "7d", "2w" as seconds; undefined for anything else. */
export function durationSeconds(text: string): number | undefined {
  const m = /^([0-9]{1,7})([smhdw]?)$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_SECONDS[m[2] || "s"]! : undefined;
}
