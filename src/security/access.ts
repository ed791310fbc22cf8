import type { Resource } from 'fhir/r4';
import type { Document } from 'mongodb';
import { resourceTypeEntry } from '../fhir/resource-types.js';
import { forbidden } from '../outcome.js';
import { documentMatches, type PlannedWrite, type RequestAccess, type WriteGuard } from '../store/index.js';
import { assertOwnPatientAuditQuery, auditConditions, redactOtherPatients } from './audit-disclosure.js';
import type { ConsentView } from './consent-rules.js';
import type { Caller, Interaction, Scope } from './context.js';
import { MATCH_NOTHING, allOf, anyOf, matchesAll } from './filters.js';

/** What compiling a caller's access needs from the rest of the server. */
export interface AccessOptions {
  /** Security label codes only tokens granting them may see (RESTRICTED_LABELS). */
  restrictedLabels: readonly string[];
  /** A scope's query restriction as a filter on current documents of a type (undefined: not expressible). */
  restriction: (type: string, query: [string, string][]) => Document | undefined;
  /** What the active Consents let this caller read (undefined: they do not restrict it). */
  consent?: ConsentView;
}

const VERB: Record<Interaction, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

const orEverything = (filter: Document | undefined): Document => filter ?? {};
const orUndefined = (filter: Document): Document | undefined => (matchesAll(filter) ? undefined : filter);

/**
 * What one caller may do, compiled from its token: which interactions its scopes grant on each
 * type, and the MongoDB filter every read of a type ANDs in (its patient compartment, the
 * query restrictions of its v2 scopes, the security labels it is not granted, for reads the
 * Consents of the patients). Writes are checked in memory against the same filter (without
 * Consents, which govern disclosure), on the document as it would be stored.
 */
export class AccessPolicy implements RequestAccess {
  private readonly filters = new Map<string, Document | undefined>();
  private readonly hiddenLabels: string[];

  constructor(
    readonly caller: Caller,
    private readonly options: AccessOptions,
  ) {
    const granted = new Set(caller.grantedLabels);
    this.hiddenLabels = caller.breakGlass ? [] : options.restrictedLabels.filter((l) => !granted.has(l));
  }

  /** Everything allowed: authorization is off. */
  get unrestricted(): boolean {
    return !this.caller.authenticated;
  }

  private scopesFor(type: string, interaction: Interaction): Scope[] {
    return this.caller.scopes.filter(
      (s) => (s.type === '*' || s.type === type) && s.interactions.has(interaction) && !(s.context === 'patient' && recordsAboutItself(type, interaction)),
    );
  }

  grants(type: string, interaction: Interaction): boolean {
    return this.unrestricted || this.scopesFor(type, interaction).length > 0;
  }

  /** 403 unless the token has a scope for `interaction` on `type`. */
  require(type: string, interaction: Interaction): void {
    if (this.grants(type, interaction)) return;
    throw forbidden(`The access token has no scope to ${VERB[interaction]} ${type} resources (for example patient/${type}.${interaction === 'r' || interaction === 's' ? 'rs' : 'cud'})`);
  }

  /** The compartment a scope's context limits it to (a filter; {} for none). */
  private compartmentOf(scope: Scope): Document {
    if (scope.context === 'patient') {
      return this.caller.patient ? { compartments: `Patient/${this.caller.patient}` } : MATCH_NOTHING;
    }
    // A patient signed in with user/ scopes is still only that patient.
    if (scope.context === 'user' && this.caller.fhirUser?.startsWith('Patient/')) return { compartments: this.caller.fhirUser };
    return {};
  }

  private scopeFilter(scope: Scope, type: string, withQuery: boolean): Document {
    const compartment = this.compartmentOf(scope);
    if (!scope.query || !withQuery) return compartment;
    return allOf([compartment, this.options.restriction(type, scope.query) ?? MATCH_NOTHING]);
  }

  /**
   * What the scopes granting `interaction` on `type` let through (ORed), the label rule and,
   * for reads, the Consents. `current`: on current documents (history ones keep no search values).
   */
  private compile(type: string, interaction: Interaction, current: boolean): Document | undefined {
    if (this.unrestricted) return undefined;
    const scopes = this.scopesFor(type, interaction);
    if (scopes.length === 0) return MATCH_NOTHING;
    const byScope = anyOf(scopes.map((s) => this.scopeFilter(s, type, current)));
    const labels = this.hiddenLabels.length > 0 ? { labels: { $nin: this.hiddenLabels } } : {};
    const reading = interaction === 'r' || interaction === 's';
    const consent = reading && this.options.consent ? orEverything(this.options.consent(type, !current)) : {};
    return orUndefined(allOf([byScope, labels, consent]));
  }

  /**
   * The filter on current documents of `type` for `interaction` (r: read, s: search and
   * includes); MATCH_NOTHING when no scope grants it, undefined when everything is visible.
   */
  filter(type: string, interaction: Interaction): Document | undefined {
    const key = `${type}\u0000${interaction}`;
    if (!this.filters.has(key)) this.filters.set(key, this.compile(type, interaction, true));
    return this.filters.get(key);
  }

  /**
   * The filter on history documents, which keep access fields but no search values: a
   * query-restricted scope cannot be applied to them, so it gives no history (403 if it is
   * the only scope).
   */
  historyFilter(type: string, interaction: Interaction): Document | undefined {
    const scopes = this.scopesFor(type, interaction);
    if (!this.unrestricted && scopes.length > 0 && scopes.every((s) => s.query)) {
      throw forbidden(`The access token's ${type} scopes carry query restrictions, which history and versions cannot be checked against`);
    }
    return this.compile(type, interaction, false);
  }

  /** The patient whose compartment every scope granting `interaction` on `type` is limited to (undefined: none such). */
  private onlyPatient(type: string, interaction: Interaction): string | undefined {
    const scopes = this.unrestricted ? [] : this.scopesFor(type, interaction);
    const compartments = scopes.map((s) => this.compartmentOf(s).compartments);
    const first = compartments[0];
    if (typeof first !== 'string' || !compartments.every((c) => c === first)) return undefined;
    return first.slice('Patient/'.length);
  }

  disclose<T extends Resource>(resource: T, interaction: 'r' | 's'): T {
    if (resource.resourceType !== 'AuditEvent') return resource;
    const patient = this.onlyPatient('AuditEvent', interaction);
    return patient === undefined ? resource : redactOtherPatients(resource, patient);
  }

  checkSearch(types: readonly string[], entries: readonly [string, string][]): void {
    const patient = this.onlyPatient('AuditEvent', 's');
    if (patient !== undefined) assertOwnPatientAuditQuery(auditConditions(entries, types.includes('AuditEvent')), patient);
  }

  /** True when every scope granting `interaction` on `type` is limited to a compartment or a query. */
  private limited(type: string, interaction: Interaction): boolean {
    return this.scopesFor(type, interaction).every((s) => s.query || !matchesAll(this.compartmentOf(s)));
  }

  /**
   * A write's checks (store/write.ts): the token needs the interaction's scope; what it may not
   * see is treated as absent, and a write may neither touch it nor put a resource out of reach.
   * So that an answer never tells whether something invisible exists: a DELETE of it deletes
   * nothing, as for a missing id; a PUT on it is refused, and so is a PUT that would create a
   * resource with a client-chosen id under compartment- or query-limited scopes (POST creates).
   */
  readonly guard: WriteGuard = {
    existing: (write, found) => {
      if (this.unrestricted) return found;
      const interaction = writeInteraction(write);
      this.require(write.type, interaction);
      const filter = this.compile(write.type, interaction, true);
      if (!filter) return found;
      const live = found && !found.deleted ? found : null;
      const visible = live !== null && documentMatches(filter, live);
      if (write.method === 'DELETE') return visible ? found : null;
      if (write.method === 'PUT' && live && !visible) {
        throw forbidden(`${write.type}/${write.id} is outside what this access token may update`);
      }
      if (write.method === 'PUT' && !live && this.limited(write.type, interaction)) {
        throw forbidden(`Under compartment- or query-limited scopes a PUT must name a ${write.type} the token can read; create new resources with POST`);
      }
      return found;
    },
    next: (write, next) => {
      if (this.unrestricted || next.deleted) return;
      const filter = this.compile(write.type, writeInteraction(write), true);
      if (filter && !documentMatches(filter, next)) {
        throw forbidden(
          `This ${write.type} would be outside what the access token may write (its patient compartment, scope restrictions or security labels)`,
        );
      }
    },
  };
}

/**
 * Writes a patient app may not make, whatever its scopes say: creating in an audit trail
 * (append-only types), which would let it put records of its own making among those of who
 * accessed its patient's records.
 */
function recordsAboutItself(type: string, interaction: Interaction): boolean {
  return interaction === 'c' && resourceTypeEntry(type)?.appendOnly === true;
}

function writeInteraction(write: PlannedWrite): Interaction {
  if (write.method === 'POST') return 'c';
  return write.method === 'PUT' ? 'u' : 'd';
}
