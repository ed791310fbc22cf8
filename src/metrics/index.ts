import type { MongoClient } from 'mongodb';
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
  /** Each database command the server sends (reads, writes, searches, audit inserts), by command name and outcome. */
  dbCommands: Histogram<'command' | 'outcome'>;
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
    dbCommands: new Histogram({
      name: 'fhir_db_command_duration_seconds',
      help: 'Database commands as the MongoDB driver times them (send to reply), by command name and outcome',
      labelNames: ['command', 'outcome'],
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

/** Command names worth a series of their own; any other (rare, administrative) is counted as `other`. */
const COMMANDS = new Set([
  'find', 'getMore', 'aggregate', 'count', 'insert', 'update', 'delete', 'findAndModify',
  'commitTransaction', 'abortTransaction', 'createIndexes', 'killCursors',
]);

/**
 * Observes every command of the client through the driver's command monitoring (the client must
 * be made with `monitorCommands: true`; src/db/client.ts does so when metrics are on). Heartbeats
 * and handshakes are not commands of this kind, so they are not counted.
 */
export function observeDatabaseCommands(client: MongoClient, histogram: ServerMetrics['dbCommands']): void {
  const label = (name: string) => (COMMANDS.has(name) ? name : 'other');
  client.on('commandSucceeded', (event) => histogram.observe({ command: label(event.commandName), outcome: 'ok' }, event.duration / 1000));
  client.on('commandFailed', (event) => histogram.observe({ command: label(event.commandName), outcome: 'error' }, event.duration / 1000));
}
