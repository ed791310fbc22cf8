import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { MetricsConfig } from '../config.js';
import { interactionLabels, type ServerMetrics } from '../metrics/index.js';
import { unauthorized } from '../outcome.js';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

const digest = (text: string) => createHash('sha256').update(text).digest();

/** True when the Authorization header is `Bearer <token>` (compared in constant time). */
function bearerMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice('Bearer '.length).trim()), digest(token));
}

/**
 * Observes every request under the FHIR base path (or unmatched) by interaction and status
 * class, and serves `GET /metrics` in Prometheus' text format. The route is outside the base
 * path: it is no FHIR interaction, needs no access token (METRICS_TOKEN, when set, instead) and
 * leaves no AuditEvent.
 */
export function registerMetrics(app: FastifyInstance, metrics: ServerMetrics, config: MetricsConfig, basePath: string): void {
  const labels = interactionLabels(basePath);
  app.addHook('onResponse', async (request, reply) => {
    // Probes and the scrape itself are not FHIR traffic.
    if (request.routeOptions.config?.audit === false) return;
    const interaction = labels.of(request.method, request.routeOptions.url, request.ctx?.audit?.interaction);
    const status = STATUS_CLASSES[Math.floor(reply.statusCode / 100) - 1] ?? 'other';
    metrics.requests.observe({ interaction, status }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { config: { audit: false } }, async (request, reply) => {
    if (config.token !== undefined && !bearerMatches(request.headers.authorization, config.token)) {
      throw unauthorized('GET /metrics needs the bearer token set in METRICS_TOKEN', { 'www-authenticate': 'Bearer realm="metrics"' });
    }
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(await metrics.text());
  });
}
