// The time zone pages show times in (docs/design.md, "Times in the user's zone"). The CSP
// allows no JavaScript, so the browser cannot report its zone by script, and nothing else
// it sends names it honestly (an address or Accept-Language is a guess): the user picks a
// zone — optionally on the login form, any time on the account page — from the IANA names
// this Node knows (Intl.supportedValuesOf), kept in the session; UTC until then. Each time
// is rendered as <time datetime="ISO instant"> with the text in that zone.
declare module "fastify" {
  interface Session {
    /** The IANA time zone the user chose (time-zones.ts); UTC when absent. */
    timeZone?: string;
  }
}

export const DEFAULT_TIME_ZONE = "UTC";

/** Every zone offered: UTC first, then the IANA names, sorted. */
export const TIME_ZONES: readonly string[] = [
  DEFAULT_TIME_ZONE,
  ...Intl.supportedValuesOf("timeZone").filter((zone) => zone !== DEFAULT_TIME_ZONE),
];
const KNOWN = new Set(TIME_ZONES);

/** A zone a form may set: one of TIME_ZONES exactly (anything else is not a zone). */
export const isTimeZone = (zone: string): boolean => KNOWN.has(zone);

/** The session's zone, or UTC (a value that is no longer known falls back too). */
export const zoneOf = (chosen: string | undefined): string =>
  chosen !== undefined && isTimeZone(chosen) ? chosen : DEFAULT_TIME_ZONE;

// One formatter per zone, made when first used (at most TIME_ZONES.length of them).
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", {
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      timeZone: zone,
      timeZoneName: "short",
    });
    formatters.set(zone, format);
  }
  return format;
}

/** A formatter for the templates' `formatDate`: an ISO instant as text in `zone`. */
export function dateFormatter(zone: string): (iso: string) => string {
  const format = formatterFor(zoneOf(zone));
  return (iso) => {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : format.format(date);
  };
}
