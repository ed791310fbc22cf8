import { STATUS_CODES } from 'node:http';
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from 'fhir/r4';
import type { RequestAudit } from './audit-facts.js';
import type { AuditAction } from './audit-interaction.js';
import type { Caller } from './context.js';

/** Code systems of the R4 AuditEvent bindings (and IHE BALP's own, for the request id). */
const SYSTEM = {
  eventType: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
  interaction: 'http://hl7.org/fhir/restful-interaction',
  dicom: 'http://dicom.nema.org/resources/ontology/DCM',
  actReason: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  sourceType: 'http://terminology.hl7.org/CodeSystem/security-source-type',
  entityType: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
  objectRole: 'http://terminology.hl7.org/CodeSystem/object-role',
  balpEntityType: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType',
  balpAgentType: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/UserAgentTypes',
} as const;

const EVENT_TYPE: Coding = { system: SYSTEM.eventType, code: 'rest', display: 'RESTful Operation' };
const SOURCE_TYPE: Coding = { system: SYSTEM.sourceType, code: '4', display: 'Application Server' };
const SYSTEM_OBJECT: Coding = { system: SYSTEM.entityType, code: '2', display: 'System Object' };
const PERSON: Coding = { system: SYSTEM.entityType, code: '1', display: 'Person' };
const PATIENT_ROLE: Coding = { system: SYSTEM.objectRole, code: '1', display: 'Patient' };
const QUERY_ROLE: Coding = { system: SYSTEM.objectRole, code: '24', display: 'Query' };
const REQUEST_ID: Coding = { system: SYSTEM.balpEntityType, code: 'XrequestId' };
const CLIENT_ROLE: Coding = { system: SYSTEM.dicom, code: '110153', display: 'Source Role ID' };
const SERVER_ROLE: Coding = { system: SYSTEM.dicom, code: '110152', display: 'Destination Role ID' };
const USER_ROLE: Coding = { system: SYSTEM.balpAgentType, code: 'UserOauthAgent', display: 'User OAuth Agent participant' };
const BREAK_GLASS: Coding = { system: SYSTEM.actReason, code: 'BTG', display: 'break the glass' };
/** AuditEvent.agent.network.type: 2 = IP address. */
const IP_ADDRESS = '2';

/** Everything one request's AuditEvent is made of. */
export interface AuditFacts {
  /** restful-interaction code; undefined when no route matched. */
  interaction?: string;
  action: AuditAction;
  /** The HTTP status the client is answered with. */
  status: number;
  recorded: Date;
  requestId: string;
  caller: Caller;
  /** This server's BASE_URL: the observer that records the event. */
  baseUrl: string;
  audit: RequestAudit;
}

/** `0` success (2xx, 3xx), `4` the request was refused or wrong (4xx), `8` the server failed (5xx). */
export function outcomeOf(status: number): '0' | '4' | '8' {
  if (status < 400) return '0';
  return status < 500 ? '4' : '8';
}

/** `outcomeDesc`: the HTTP status with its reason phrase, `404 Not Found`. */
const statusText = (status: number) => `${status} ${STATUS_CODES[status] ?? ''}`.trim();

const codeable = (coding: Coding) => ({ coding: [coding] });

/** The caller's purposes of use (and BTG when it broke the glass), as v3-ActReason codes. */
function purposesOf(caller: Caller, breakGlass: boolean) {
  const codes = new Set(caller.purposeOfUse);
  if (breakGlass) codes.add('BTG');
  return [...codes].map((code) => (code === 'BTG' ? codeable(BREAK_GLASS) : codeable({ system: SYSTEM.actReason, code })));
}

/**
 * The agents of BALP's basic patterns: the client application (with the network address the
 * request came from), the user the token names, and this server. The requestor (initiator) is the
 * user when the token names one, otherwise the client; the purposes of use go with the requestor.
 */
function agentsOf(facts: AuditFacts, breakGlass: boolean): AuditEventAgent[] {
  const { caller } = facts;
  const hasUser = caller.fhirUser !== undefined || caller.subject !== undefined;
  const purposeOfUse = purposesOf(caller, breakGlass);
  const withPurpose = (agent: AuditEventAgent): AuditEventAgent => (purposeOfUse.length > 0 ? { ...agent, purposeOfUse } : agent);

  const client: AuditEventAgent = {
    type: codeable(CLIENT_ROLE),
    who: caller.clientId !== undefined
      ? { identifier: { value: caller.clientId } }
      : { display: caller.authenticated ? 'client without client_id' : 'unauthenticated client (authorization off)' },
    requestor: !hasUser,
    network: { address: caller.address, type: IP_ADDRESS },
  };
  const agents: AuditEventAgent[] = [hasUser ? client : withPurpose(client)];
  if (hasUser) {
    const who: AuditEventAgent['who'] = {};
    if (caller.fhirUser !== undefined) who.reference = caller.fhirUser;
    if (caller.subject !== undefined) who.identifier = { value: caller.subject };
    agents.push(withPurpose({ type: codeable(USER_ROLE), who, requestor: true }));
  }
  agents.push({ type: codeable(SERVER_ROLE), who: { display: facts.baseUrl }, requestor: false });
  return agents;
}

/**
 * The resources (a version-specific reference when the version is known: it says exactly what
 * was read or written), each patient once (a Patient resource is entered as the patient), the
 * query of a search, and the request id (BALP's X-Request-Id entity, which the logs carry too).
 */
function entitiesOf(facts: AuditFacts, audit: RequestAudit): AuditEventEntity[] {
  const entities: AuditEventEntity[] = [];
  const all = [...audit.resources];
  const patients = new Map<string, string>();
  for (const reference of all) {
    if (!reference.includes('/_history/') && all.some((r) => r.startsWith(`${reference}/_history/`))) continue;
    const [type, id] = reference.split('/');
    if (type === 'Patient') patients.set(id, reference);
    else entities.push({ what: { reference }, type: SYSTEM_OBJECT });
  }
  for (const id of audit.patients) if (!patients.has(id)) patients.set(id, `Patient/${id}`);
  for (const reference of patients.values()) entities.push({ what: { reference }, type: PERSON, role: PATIENT_ROLE });
  if (audit.query !== undefined) {
    // A search without parameters has no query to record: an empty base64Binary is not valid FHIR (ele-1).
    const query = audit.query === '' ? {} : { query: Buffer.from(audit.query, 'utf8').toString('base64') };
    entities.push({ type: SYSTEM_OBJECT, role: QUERY_ROLE, ...query });
  }
  entities.push({ what: { identifier: { value: facts.requestId } }, type: REQUEST_ID });
  return entities;
}

/**
 * The AuditEvent (R4, IHE BALP shape) of one REST interaction: what was done (type rest, the
 * restful-interaction subtype, the action), when, how it ended, who asked, and which resources,
 * patients and query it touched. Never a request body or a returned resource: references and ids only.
 *
 * One event per interaction, a search's too: it names every patient whose records it returned
 * (BALP's query pattern writes one per patient instead, which multiplied the trail's writes by
 * the page size). Each of those patients finds it in their accounting of disclosures, shown
 * without the other patients (security/audit-disclosure.ts).
 */
export function buildAuditEvent(facts: AuditFacts): AuditEvent {
  const breakGlass = facts.caller.breakGlass;
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    type: EVENT_TYPE,
    action: facts.action,
    recorded: facts.recorded.toISOString(),
    outcome: outcomeOf(facts.status),
    outcomeDesc: statusText(facts.status),
    agent: agentsOf(facts, breakGlass),
    source: { observer: { display: facts.baseUrl }, type: [SOURCE_TYPE] },
    entity: entitiesOf(facts, facts.audit),
  };
  if (facts.interaction) event.subtype = [{ system: SYSTEM.interaction, code: facts.interaction }];
  if (breakGlass) event.meta = { security: [BREAK_GLASS] };
  return event;
}

const USER_AUTHENTICATION: Coding = { system: SYSTEM.dicom, code: '110114', display: 'User Authentication' };
const LOGIN: Coding = { system: SYSTEM.dicom, code: '110122', display: 'Login' };

/** One sign-in at the built-in authorization server, as it ended. */
export interface SignInFacts {
  /** The username typed (never the password); the account's fhirUser when the sign-in succeeded. */
  username: string;
  fhirUser?: string;
  /** The application the user was signing in to. */
  clientId?: string;
  status: number;
  address: string;
  requestId: string;
  baseUrl: string;
}

/**
 * The AuditEvent of a sign-in (DICOM's User Authentication / Login, as BALP's and ATNA's login
 * events): succeeded (outcome 0) or refused (4: a wrong password or a locked username), who tried,
 * from where, for which application. Refused sign-ins are how password guessing shows in the trail.
 */
export function buildSignInEvent(facts: SignInFacts): AuditEvent {
  const user: AuditEventAgent = {
    type: codeable(USER_ROLE),
    who: { identifier: { value: facts.username }, ...(facts.fhirUser ? { reference: facts.fhirUser } : {}) },
    requestor: true,
    network: { address: facts.address, type: IP_ADDRESS },
  };
  const agents: AuditEventAgent[] = [user];
  if (facts.clientId) agents.push({ type: codeable(CLIENT_ROLE), who: { identifier: { value: facts.clientId } }, requestor: false });
  agents.push({ type: codeable(SERVER_ROLE), who: { display: facts.baseUrl }, requestor: false });
  return {
    resourceType: 'AuditEvent',
    type: USER_AUTHENTICATION,
    subtype: [LOGIN],
    action: 'E',
    recorded: new Date().toISOString(),
    outcome: outcomeOf(facts.status),
    outcomeDesc: statusText(facts.status),
    agent: agents,
    source: { observer: { display: facts.baseUrl }, type: [SOURCE_TYPE] },
    entity: [{ what: { identifier: { value: facts.requestId } }, type: REQUEST_ID }],
  };
}
