import type { CodeableConcept, Coding, Consent, ConsentProvision } from 'fhir/r4';
import type { Document } from 'mongodb';
import { parseInstantRange } from '../fhir/date-range.js';
import { MATCH_ALL as TRUE, MATCH_NOTHING, allOf as and, anyOf as or, matchesAll as isTrue, noneOf as not } from './filters.js';

/**
 * Consent enforcement: an active `patient-privacy` Consent decides which of its patient's
 * resources a request may see. Its provisions are a tree: each provision applies when both its
 * request conditions (actor, action, purpose, period) and its resource conditions (class,
 * code, securityLabel, dataPeriod, data) hold, and then its `type` (permit or deny) replaces
 * the decision of its parent; nested provisions are exceptions to it. Request conditions are
 * decided in memory, resource conditions become a MongoDB filter, so a Consent narrows
 * searches, totals and includes like the patient compartment does.
 */

/** What a request brings to a Consent's request conditions. */
export interface RequestFacts {
  /** `Type/id` of the user (the token's fhirUser). */
  fhirUser?: string;
  /** Role codes of the user (the token's `roles` claim). */
  roles: string[];
  purposes: string[];
  /** consent-action code of the request: `access` for reads. */
  action: string;
  now: Date;
}

/** How a resource condition becomes a filter on the current documents of a type. */
export interface ResourceConditions {
  /** A search (name/value pairs) on `type` as a filter; undefined if it cannot be one. */
  restriction(type: string, query: [string, string][]): Document | undefined;
  /** The reference search parameters of a type (for `data` with meaning `related`). */
  referenceParams(type: string): string[];
  /** The type's clinical date parameter (for `dataPeriod`), if it has one. */
  dateParam(type: string): string | undefined;
  /** The type's code parameter (for `code`), if it has one. */
  codeParam(type: string): string | undefined;
}

const codes = (concepts: (CodeableConcept | Coding)[] | undefined): string[] =>
  (concepts ?? []).flatMap((c) => ('coding' in c ? c.coding ?? [] : [c as Coding])).map((c) => c.code).filter((c): c is string => !!c);

const localKey = (reference: string | undefined): string | undefined => /([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})$/.exec(reference ?? '')?.[1];

function within(period: { start?: string; end?: string } | undefined, now: Date): boolean {
  if (!period) return true;
  const start = period.start ? parseInstantRange(period.start)?.low : undefined;
  const end = period.end ? parseInstantRange(period.end)?.high : undefined;
  return (!start || start <= now) && (!end || now <= end);
}

/** Whether a provision's request conditions hold for this request. */
function appliesToRequest(provision: ConsentProvision, facts: RequestFacts): boolean {
  if (!within(provision.period, facts.now)) return false;
  if (provision.actor?.length) {
    const matches = provision.actor.some(
      (actor) => (actor.reference && localKey(actor.reference.reference) === facts.fhirUser) || codes([actor.role]).some((r) => facts.roles.includes(r)),
    );
    if (!matches) return false;
  }
  if (provision.action?.length && !codes(provision.action).includes(facts.action)) return false;
  if (provision.purpose?.length && !codes(provision.purpose).some((p) => facts.purposes.includes(p))) return false;
  return true;
}

/**
 * A provision's resource conditions on documents of `type`. `unknown` is what a condition that
 * cannot be decided here counts as (history documents keep no search values): the caller picks
 * the side that hides more.
 */
function resourceCondition(provision: ConsentProvision, type: string, on: ResourceConditions, unknown: Document, history: boolean): Document {
  const parts: Document[] = [];
  if (provision.class?.length) {
    const types = provision.class.map((c) => c.code);
    if (!types.includes(type)) return MATCH_NOTHING;
  }
  if (provision.securityLabel?.length) parts.push({ labels: { $in: codes(provision.securityLabel) } });
  const searched = (query: [string, string][] | undefined) => {
    if (!query || history) return unknown;
    return on.restriction(type, query) ?? unknown;
  };
  if (provision.code?.length) {
    const param = on.codeParam(type);
    const tokens = provision.code.flatMap((c) => c.coding ?? []).filter((c) => c.code).map((c) => (c.system ? `${c.system}|${c.code}` : c.code!));
    parts.push(param ? searched([[param, tokens.join(',')]]) : MATCH_NOTHING);
  }
  if (provision.dataPeriod) {
    const param = on.dateParam(type);
    const query: [string, string][] = [];
    if (provision.dataPeriod.start) query.push([param ?? '', `ge${provision.dataPeriod.start}`]);
    if (provision.dataPeriod.end) query.push([param ?? '', `le${provision.dataPeriod.end}`]);
    parts.push(!param ? MATCH_NOTHING : query.length ? searched(query) : TRUE);
  }
  if (provision.data?.length) {
    parts.push(or(provision.data.map((data) => {
      const key = localKey(data.reference.reference);
      if (!key) return MATCH_NOTHING;
      const [refType, id] = key.split('/');
      const instance = refType === type ? { _id: id } : MATCH_NOTHING;
      if (data.meaning !== 'related') return data.meaning === 'instance' ? instance : unknown;
      return or([instance, ...on.referenceParams(type).map((code) => searched([[code, key]]))]);
    })));
  }
  return and(parts);
}

/**
 * Which documents of `type` a provision lets through, given the decision of its parent
 * (`inherited`) for the documents it does not apply to.
 */
function visible(provision: ConsentProvision, inherited: boolean, type: string, facts: RequestFacts, on: ResourceConditions, history: boolean): Document {
  const constant = inherited ? TRUE : MATCH_NOTHING;
  if (!appliesToRequest(provision, facts)) return constant;
  // Undecidable conditions count as holding where holding hides (under a permit) and as failing where holding shows.
  const condition = resourceCondition(provision, type, on, inherited ? TRUE : MATCH_NOTHING, history);
  const own = provision.type ? provision.type === 'permit' : inherited;
  const exceptions = (provision.provision ?? []).map((child) => visible(child, own, type, facts, on, history));
  const inner = exceptions.length === 0 ? (own ? TRUE : MATCH_NOTHING) : own ? and(exceptions) : or(exceptions);
  return inherited ? or([not(condition), inner]) : and([condition, inner]);
}

/** The patient a Consent is about (`Patient/id`), or undefined. */
export function consentPatient(consent: Consent): string | undefined {
  const key = localKey(consent.patient?.reference);
  return key?.startsWith('Patient/') ? key : undefined;
}

/**
 * What the active Consents let a request see of `type`, as a filter: the resources of each
 * consenting patient's compartment pass that patient's Consents; the resources of patients
 * without one follow the default (`permit`: all pass; `deny`: none does). The patient's own
 * requests are not restricted by their Consents (`exempt`: the caller's own `Patient/id`).
 */
export function consentFilter(
  consents: Consent[],
  type: string,
  facts: RequestFacts,
  on: ResourceConditions,
  defaultPermit: boolean,
  exempt: string | undefined,
  history: boolean,
): Document | undefined {
  const byPatient = new Map<string, Consent[]>();
  for (const consent of consents) {
    const patient = consentPatient(consent);
    if (patient && patient !== exempt) byPatient.set(patient, [...(byPatient.get(patient) ?? []), consent]);
  }
  const parts: Document[] = [];
  for (const [patient, list] of byPatient) {
    const allowed = and(list.map((c) => (c.provision ? visible(c.provision, defaultPermit, type, facts, on, history) : defaultPermit ? TRUE : MATCH_NOTHING)));
    if (!isTrue(allowed)) parts.push(or([{ compartments: { $ne: patient } }, allowed]));
  }
  if (!defaultPermit) {
    // Resources of a patient with no Consent at all are not shown.
    const consenting = [...byPatient.keys(), ...(exempt ? [exempt] : [])];
    parts.push({ compartments: { $not: { $elemMatch: { $nin: consenting } } } });
  }
  const result = and(parts);
  return isTrue(result) ? undefined : result;
}
