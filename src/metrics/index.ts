import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Validator } from '../validation/index.js';

export { interactionLabels, type InteractionLabels } from './interaction-label.js';

/**
 * The server's Prometheus metrics, one set per app (tests build several in one process). Labels
 * are drawn from fixed sets only (interaction codes, operation names of routes, status classes):
 * never a URL, an id or a query, so no health data and a bounded number of series.
 */
export interface ServerMetrics {
  /** FHIR requests by interaction and status class: the rate is `_count`, the latency the buckets. */
  requests: Histogram<'interaction' | 'status'>;
  /** Each database query of a search or a condition: the calls whose sum `Server-Timing: db` reports. */
  dbQueries: Histogram;
  /** Each validation of a resource (writes, bundle entries, $validate). */
  validations: Histogram;
  /** AuditEvents written together in one flush of the audit trail. */
  auditBatches: Histogram;
  /** The text Prometheus scrapes: these, then the process's own. */
  text(): Promise<string>;
  contentType: string;
}

let processRegistry: Registry | undefined;

/** CPU, memory, event-loop lag, GC, handles: the process's, so collected once per process whatever the number of apps. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  const process = processMetrics();
  return {
    requests: new Histogram({
      name: 'fhir_request_duration_seconds',
      help: 'FHIR requests: time from arrival to the last byte of the answer, by interaction and status class',
      labelNames: ['interaction', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    dbQueries: new Histogram({
      name: 'fhir_db_query_duration_seconds',
      help: 'Database queries of searches and conditional interactions (the calls Server-Timing db sums)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    validations: new Histogram({
      name: 'fhir_validation_duration_seconds',
      help: 'Validation of one resource against the base definitions and its profiles',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    auditBatches: new Histogram({
      name: 'fhir_audit_batch_size',
      help: 'AuditEvents written together in one flush of the audit trail',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
      registers: [registry],
    }),
    text: async () => (await registry.metrics()) + (await process.metrics()),
    contentType: registry.contentType,
  };
}

/** The validator, with the time of each validation observed. */
export function timedValidator(validator: Validator, histogram: Histogram): Validator {
  return {
    async validate(resource, options) {
      const started = performance.now();
      try {
        return await validator.validate(resource, options);
      } finally {
        histogram.observe((performance.now() - started) / 1000);
      }
    },
    profilesChanged: () => validator.profilesChanged(),
  };
}
