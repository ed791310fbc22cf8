/**
 * Every kind of response the server sends (test/helpers/responses.ts) is valid R4 by HL7's own
 * validator: HAPI FHIR's FhirInstanceValidator running org.hl7.fhir.validation offline, built from
 * ../shared/tools/fhir-validator (one JVM in --server mode for all bodies, with our profiles/
 * loaded). An error is a failure; warnings are listed as comments, each with why it is not ours
 * to fix (see the README, "Responses checked by HL7's validator").
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t, { type Test } from 'tap';
import { collectResponses } from '../helpers/responses.js';

const BUILD_DIR = process.env.ORACLE_BUILD_DIR ?? join(homedir(), '.cache', 'fhir-records-server', 'validator');
const JAR = join(BUILD_DIR, 'validator.jar');
const BUILD = `ORACLE_BUILD_DIR=${BUILD_DIR} bash ../shared/tools/fhir-validator/build.sh`;
const PROFILES = join(import.meta.dirname, '..', '..', 'profiles');

interface Issue {
  severity: string;
  messageId?: string;
  location?: string;
  message: string;
}
interface Verdict {
  id: string;
  valid: boolean;
  errors: Issue[];
  warnings: Issue[];
}

/**
 * Warnings HL7's validator gives that are not the server's to act on, each with the reason. Any
 * other warning fails the test, so a new one is looked at rather than scrolled past.
 */
const ACCEPTED_WARNINGS: { reason: string; applies(issue: Issue): boolean }[] = [
  {
    reason: 'inside a resource a client wrote, which the server returns as written (its own validator accepted it)',
    applies: (issue) => /^(Patient|DocumentReference|Consent)\b|\*(Patient|DocumentReference|Consent)\//.test(issue.location ?? ''),
  },
  {
    reason: 'dom-6 ("A resource should have narrative"), a best-practice rule, on an AuditEvent: the server writes one or more ' +
      'per request, for machines (BALP gives them no narrative); its OperationOutcomes and CapabilityStatement have one',
    applies: (issue) => issue.messageId?.endsWith('#dom-6') === true && /(^|\*)AuditEvent\b/.test(issue.location ?? ''),
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
if (!existsSync(JAR)) {
  // CI builds it in .ci/run: there a missing validator is a failure, never a skip.
  if (process.env.CI) t.fail(`HL7's validator is not built (${BUILD})`);
  else t.plan(0, `HL7's validator is not built: run \`${BUILD}\` (Java 17 and Maven) to include this test`);
} else {
  t.test('every kind of response the server sends is valid R4 by HL7\'s validator', run);
}

async function run(t: Test) {
  // The validator takes a while to load R4: start it first, collect the responses meanwhile.
  const validator = startValidator(t);
  const responses = await collectResponses(t);

  // Controls: what the validator must refuse, so a pass below means something.
  const controls: Record<string, unknown> = {
    'control-issue-without-code': { resourceType: 'OperationOutcome', issue: [{ severity: 'error', diagnostics: 'x' }] },
    'control-searchset-entry-without-fullurl': { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Patient', id: 'a' }, search: { mode: 'match' } }] },
    'control-audit-event-without-agent': { resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: '2024-01-01T00:00:00Z', source: { observer: { display: 'x' } } },
  };
  const inputs = [
    ...responses.map(({ name, body }) => ({ id: name, resource: JSON.parse(body) })),
    ...Object.entries(controls).map(([id, resource]) => ({ id, resource })),
  ];
  const verdicts = await validator.validate(inputs);
  t.equal(verdicts.size, inputs.length, 'the validator answered for every body');

  for (const id of Object.keys(controls)) t.equal(verdicts.get(id)?.valid, false, `${id} is refused`);
  const unexplained: string[] = [];
  const accepted = new Map<string, number>();
  for (const { name } of responses) {
    const verdict = verdicts.get(name);
    t.same(verdict?.errors.map(describe), [], `${name} has no errors`);
    for (const warning of verdict?.warnings ?? []) {
      const rule = ACCEPTED_WARNINGS.find((r) => r.applies(warning));
      if (rule) accepted.set(rule.reason, (accepted.get(rule.reason) ?? 0) + 1);
      else unexplained.push(`${name}: ${describe(warning)}`);
    }
  }
  for (const [reason, count] of accepted) t.comment(`${count} warnings accepted: ${reason}`);
  t.same(unexplained, [], 'every warning is one the server cannot act on');
}

const describe = (issue: Issue) => `${issue.messageId ?? ''} at ${issue.location ?? '?'}: ${issue.message}`;

/** The validator in --server mode: JSON lines in ({id, resource}), one verdict line out for each. */
function startValidator(t: Test) {
  const child = spawn('java', ['-jar', JAR, '--server', '--quiet', '--profiles', PROFILES], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill();
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
  const verdicts = new Map<string, Verdict>();
  const done = new Promise<Map<string, Verdict>>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const verdict = JSON.parse(line) as Verdict;
      verdicts.set(String(verdict.id), verdict);
    });
    child.on('error', reject);
    // Exit status 1 means some input was invalid (the controls are): only 2 is a failure to run.
    child.on('close', (code) => (code === 2 || code === null ? reject(new Error(`the validator stopped (${code}): ${stderr}`)) : resolve(verdicts)));
  });
  return {
    validate(inputs: { id: string; resource: unknown }[]) {
      child.stdin.end(inputs.map((input) => JSON.stringify(input)).join('\n') + '\n');
      return done;
    },
  };
}
