/**
 * Every kind of response the server sends (test/helpers/responses.ts) is valid R4 by HL7's own
 * validator: HAPI FHIR's FhirInstanceValidator running org.hl7.fhir.validation offline, built from
 * ../shared/tools/fhir-validator (one JVM in --server mode for all bodies, with our profiles/
 * loaded). An error is a failure, and so is a warning unless a rule below says why it is not the
 * server's to act on (those are counted, per reason, in comments; the README's Clients section
 * says which).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { BUILD_DIR, startHl7Validator, type Hl7Issue } from '../../scripts/validation-corpus/hl7-validator.js';
import { collectResponses } from '../helpers/responses.js';

const BUILD = `ORACLE_BUILD_DIR=${BUILD_DIR} bash ../shared/tools/fhir-validator/build.sh`;

/**
 * Warnings HL7's validator gives that are not the server's to act on, each with the reason. Any
 * other warning fails the test, so a new one is looked at rather than scrolled past.
 */
const ACCEPTED_WARNINGS: { reason: string; applies(issue: Hl7Issue): boolean }[] = [
  {
    reason: 'inside a resource a client wrote, which the server returns as written (its own validator accepted it)',
    applies: (issue) => /^(Patient|DocumentReference|Consent)\b|\*(Patient|DocumentReference|Consent)\//.test(issue.expression ?? ''),
  },
  {
    reason: 'dom-6 ("A resource should have narrative"), a best-practice rule, on an AuditEvent: the server writes one or more ' +
      'per request, for machines (BALP gives them no narrative); its OperationOutcomes and CapabilityStatement have one',
    applies: (issue) => issue.messageId?.endsWith('#dom-6') === true && /(^|\*)AuditEvent\b/.test(issue.expression ?? ''),
  },
  {
    reason: 'a code system the offline validator does not have (no terminology server): IHE BALP\'s, LOINC',
    applies: (issue) => issue.messageId === 'Terminology_PassThrough_TX_Message' && /CodeSystem is unknown and can't be validated/.test(issue.message),
  },
  {
    reason: 'an IHE BALP code where R4\'s binding is extensible and its value set has no suitable code (a request id entity, ' +
      'an OAuth user agent): "a code should come from this value set unless it has no suitable code"',
    applies: (issue) => /^Terminology_TX_NoValid_(13|2_CC)$/.test(issue.messageId ?? '') && issue.message.includes('https://profiles.ihe.net/ITI/BALP/'),
  },
];
// The JVM loads all of R4 before its first answer (ten to thirty seconds on a busy machine).
t.setTimeout(300_000);
if (!existsSync(join(BUILD_DIR, 'validator.jar'))) {
  // CI builds it in .ci/run: there a missing validator is a failure, never a skip.
  if (process.env.CI) t.fail(`HL7's validator is not built (${BUILD})`);
  else t.plan(0, `HL7's validator is not built: run \`${BUILD}\` (Java 17 and Maven) to include this test`);
} else {
  t.test('every kind of response the server sends is valid R4 by HL7\'s validator', run);
}

async function run(t: Test) {
  // The validator takes a while to load R4: start it first, collect the responses meanwhile.
  const starting = startHl7Validator();
  t.teardown(async () => (await starting).close());
  const responses = await collectResponses(t);
  const hl7 = await starting;

  // Controls: what the validator must refuse, so a pass below means something.
  const controls: Record<string, unknown> = {
    'control-issue-without-code': { resourceType: 'OperationOutcome', issue: [{ severity: 'error', diagnostics: 'x' }] },
    'control-searchset-entry-without-fullurl': { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Patient', id: 'a' }, search: { mode: 'match' } }] },
    'control-audit-event-without-agent': { resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: '2024-01-01T00:00:00Z', source: { observer: { display: 'x' } } },
  };
  for (const [name, resource] of Object.entries(controls)) t.equal((await hl7.validate(JSON.stringify(resource))).valid, false, `${name} is refused`);

  const unexplained: string[] = [];
  const accepted = new Map<string, number>();
  for (const { name, body } of responses) {
    const verdict = await hl7.validate(body);
    t.same(verdict.errors.map(describe), [], `${name} has no errors`);
    for (const warning of verdict.warnings) {
      const rule = ACCEPTED_WARNINGS.find((r) => r.applies(warning));
      if (rule) accepted.set(rule.reason, (accepted.get(rule.reason) ?? 0) + 1);
      else unexplained.push(`${name}: ${describe(warning)}`);
    }
  }
  for (const [reason, count] of accepted) t.comment(`${count} warnings accepted: ${reason}`);
  t.same(unexplained, [], 'every warning is one the server cannot act on');
}

const describe = (issue: Hl7Issue) => `${issue.messageId ?? ''} at ${issue.expression ?? '?'}: ${issue.message}`;
