import type { FastifyReply, FastifyRequest } from 'fastify';
import { FHIR_JSON } from '../rest/content.js';
import { issue, outcome } from '../outcome.js';
import { buildAuditEvent } from './audit-event.js';
import { newRequestAudit } from './audit-facts.js';
import { interactionOf, targetOf } from './audit-interaction.js';
import type { AuditTrail } from './audit-trail.js';
import { unrestrictedCaller } from './context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** False on routes that are not FHIR interactions (health probes): no AuditEvent. */
    audit?: boolean;
  }
}

/** Headers of the withheld answer that would describe it. */
const RESULT_HEADERS = ['etag', 'last-modified', 'location', 'content-location', 'x-search-index'];

/** Seconds a client is asked to wait before repeating a request whose audit record failed. */
const RETRY_AFTER_SECONDS = '5';

/**
 * The root `onSend` hook that records one AuditEvent per request under the FHIR base path,
 * errors included (401/403/404/500 answers come through the error or not-found handler, then
 * here). Fastify awaits it before the first byte of the answer is written, so the answer of a
 * request is only sent once its AuditEvent is durable: a process killed after the answer has
 * lost no audit record. (`onResponse` runs after the answer is sent, too late for that.)
 *
 * Failure policy: when the AuditEvent of a successful answer (2xx, 3xx) cannot be written, the
 * answer is withheld and replaced by a 503 OperationOutcome ("the access could not be recorded").
 * An access the audit trail does not show must not be disclosed (BALP and ATNA put the record
 * before the disclosure), so a read's data is not sent; and a client must not be told of a
 * success the trail cannot account for. A write that was applied stays applied (its history has
 * it), but its client hears 503, not 201. 503 rather than 500: the fault is an unavailable
 * dependency, transient, not a bug in handling the request, and clients and load balancers retry
 * 503s. An error answer (4xx, 5xx) discloses nothing and claims no success, so it is sent as it
 * is (a database outage still answers 500 with its request id). Either way the failure is logged,
 * with ids only: that log line is all that is left of the lost record.
 *
 * The audit writes themselves are store calls, not requests, so they are never audited in turn;
 * a request is recorded once even if Fastify runs `onSend` again for it.
 *
 * `GET /metadata` is audited too (BALP records every interaction); its event is the cheapest
 * there is (no resource, no patient, no query entity) and shares a flush with its neighbours.
 */
export function auditOnSend(trail: AuditTrail, baseUrl: string, basePath: string) {
  const underBase = (url: string) => {
    const path = url.split('?')[0];
    return basePath === '' || path === basePath || path.startsWith(`${basePath}/`);
  };

  // Requests already recorded: one AuditEvent per request, even if Fastify sends twice.
  const recorded = new WeakSet<FastifyRequest>();

  return async function recordAuditEvent(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    if (request.routeOptions.config?.audit === false || !underBase(request.url) || recorded.has(request)) return payload;
    recorded.add(request);
    const ctx = request.ctx;
    // No context when the request failed before it was made (a fault in the onRequest hook).
    const audit = ctx?.audit ?? newRequestAudit();

    const interaction = interactionOf(request.method, request.routeOptions.url, basePath, audit.interaction);
    // What the URL names, when no service got as far as noting it (refused and failed requests).
    const target = targetOf(interaction.code, request.params);
    if (target.resource && audit.resources.size === 0) audit.resources.add(target.resource);
    if (target.patient) audit.patients.add(target.patient);

    const facts = {
      interaction: interaction.code,
      action: interaction.action,
      status: reply.statusCode,
      recorded: new Date(),
      requestId: request.id,
      caller: ctx?.caller ?? unrestrictedCaller(request.ip),
      baseUrl,
      audit,
    };
    const events = [buildAuditEvent(facts)];
    // A batch or transaction: one more event per entry, as if each had been a request of its own.
    for (const entry of audit.entries ?? []) {
      const { code, action } = interactionOf(request.method, undefined, basePath, entry.interaction);
      events.push(buildAuditEvent({ ...facts, interaction: code, action, status: entry.status, audit: entry }));
    }
    try {
      await Promise.all(events.map((event) => trail.record(event)));
      return payload;
    } catch (error) {
      const { name, code } = error as { name?: string; code?: unknown };
      const withheld = reply.statusCode < 400;
      request.log.error(
        { requestId: request.id, route: request.routeOptions.url, status: reply.statusCode, withheld, error: name, code },
        'the AuditEvent of a request could not be written',
      );
      return withheld ? unrecorded(request, reply) : payload;
    }
  };
}

/** The 503 that replaces an answer whose AuditEvent could not be written. */
function unrecorded(request: FastifyRequest, reply: FastifyReply): string {
  for (const name of RESULT_HEADERS) reply.removeHeader(name);
  reply.code(503).header('content-type', FHIR_JSON).header('retry-after', RETRY_AFTER_SECONDS);
  const text =
    `The access could not be recorded in the audit trail, so its result is withheld (request id ${request.id}). ` +
    'If the request was a write, it may have been applied: read the resource before repeating it.';
  return JSON.stringify(outcome([issue('fatal', 'transient', text)]));
}
