import type { Consent } from 'fhir/r4';
import type { Document } from 'mongodb';
import type { DefinitionSource } from '../store/index.js';
import { consentFilter, type ResourceConditions } from './consent.js';
import type { Caller } from './context.js';

const PATIENT_PRIVACY = 'http://terminology.hl7.org/CodeSystem/consentscope|patient-privacy';
/** The most active privacy Consents kept; beyond it the server says so at every load. */
const MAX_CONSENTS = 50_000;
/** Compiled filters are kept this long at most (provision periods are decided when compiled). */
const CACHE_MS = 60_000;

/** A request's view of the Consents: the filter they add to reads of a type (undefined: none). */
export type ConsentView = (type: string, history: boolean) => Document | undefined;

/**
 * The active `patient-privacy` Consents, kept in memory by every instance and reloaded when
 * the Consent change counter moved (any instance's Consent write moves it), so a stored or
 * changed Consent applies from the next request on. Their filters are compiled per kind of
 * request (user, roles, purposes) and cached until the next change.
 */
export class ConsentRules {
  private consents: Consent[] = [];
  private loadedAt = -1;
  private loading: Promise<void> | undefined;
  private compiled = new Map<string, Document | undefined>();
  private compiledAt = 0;

  constructor(
    private readonly store: DefinitionSource,
    private readonly on: ResourceConditions,
    private readonly defaultPermit: boolean,
    private readonly warn: (message: string) => void,
  ) {}

  /** Brings the Consents up to the database's state as of now. */
  async refresh(): Promise<void> {
    const count = await this.store.changeCount('Consent');
    while (this.loadedAt < count) {
      this.loading ??= this.load().finally(() => (this.loading = undefined));
      await this.loading;
    }
  }

  private async load(): Promise<void> {
    // Read the counter first: a write landing during the load moves it past what is kept.
    const count = await this.store.changeCount('Consent');
    const filter = this.on.restriction('Consent', [['status', 'active'], ['scope', PATIENT_PRIVACY]]);
    if (!filter) throw new Error('the Consent search parameters status and scope are missing');
    const consents = await this.store.policyResources<Consent>('Consent', filter, MAX_CONSENTS + 1);
    if (consents.length > MAX_CONSENTS) this.warn(`more than ${MAX_CONSENTS} active privacy Consents: only ${MAX_CONSENTS} are enforced`);
    this.consents = consents.slice(0, MAX_CONSENTS);
    this.compiled.clear();
    this.loadedAt = count;
  }

  /**
   * Whether Consents can restrict the caller at all: not when it breaks the glass, nor when it is
   * a patient reading her own compartment (every scope is limited to it; a patient's Consents
   * govern others' access to her records, and what is in her compartment is hers).
   */
  static restricts(caller: Caller): boolean {
    if (caller.breakGlass) return false;
    const ownPatient = (scope: Caller['scopes'][number]) =>
      (scope.context === 'patient' && caller.patient !== undefined) || (scope.context === 'user' && caller.fhirUser?.startsWith('Patient/'));
    return !caller.scopes.every(ownPatient);
  }

  /** What the Consents let this caller see; undefined when they cannot restrict it. */
  view(caller: Caller): ConsentView | undefined {
    if (this.consents.length === 0 || !ConsentRules.restricts(caller)) return undefined;
    const now = Date.now();
    if (now - this.compiledAt > CACHE_MS) {
      this.compiled.clear();
      this.compiledAt = now;
    }
    // A patient's own Consents govern others' access to her records, not her own.
    const exempt = caller.patient ? `Patient/${caller.patient}` : caller.fhirUser?.startsWith('Patient/') ? caller.fhirUser : undefined;
    const facts = { fhirUser: caller.fhirUser, roles: caller.roles, purposes: caller.purposeOfUse, action: 'access', now: new Date(now) };
    const key = JSON.stringify([facts.fhirUser, facts.roles, facts.purposes, exempt]);
    return (type, history) => {
      const entry = `${key}\u0000${type}\u0000${history}`;
      if (!this.compiled.has(entry)) {
        this.compiled.set(entry, consentFilter(this.consents, type, facts, this.on, this.defaultPermit, exempt, history));
      }
      return this.compiled.get(entry);
    };
  }
}
