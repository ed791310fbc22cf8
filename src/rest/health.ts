import type { FastifyInstance } from 'fastify';
import type { Db } from 'mongodb';

/** Liveness and readiness for load balancers, outside the FHIR base path. */
export function healthRoutes(db: Db) {
  return async (app: FastifyInstance) => {
    // Probes are not FHIR interactions: no AuditEvent (security/audit-hook.ts).
    const config = { audit: false };
    app.get('/healthz', { config }, async () => ({ status: 'up' }));
    app.get('/readyz', { config }, async (_request, reply) => {
      try {
        await db.command({ ping: 1 });
        return { status: 'ready' };
      } catch {
        return reply.code(503).send({ status: 'database unreachable' });
      }
    });
  };
}
