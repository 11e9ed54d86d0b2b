// Reading an app's Prometheus registry in tests (data pods, the registry).
import type { FastifyInstance } from "fastify";

/** The sum of a counter's, gauge's or histogram's samples named `name` whose labels include `labels`. */
export async function metricValue(
  app: FastifyInstance,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = await app.metrics.getSingleMetric(name)?.get();
  if (!metric) return 0;
  let total = 0;
  for (const v of metric.values) {
    const sample = (v as { metricName?: string }).metricName;
    if (sample && sample !== name) continue; // a histogram's _bucket, _sum and _count
    if (
      Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want)
    )
      total += v.value;
  }
  return total;
}
