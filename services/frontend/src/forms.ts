// Form fields and query parameters as the pages read them: always one string, so a field that
// is absent or repeated never ends in a validation error page.

/** One field of a parsed form or query string ("" when absent; the first value when repeated). */
export function field(values: unknown, name: string): string {
  if (!values || typeof values !== "object") return "";
  const value = (values as Record<string, unknown>)[name];
  const one = Array.isArray(value) ? value[0] : value;
  return typeof one === "string" ? one : "";
}
