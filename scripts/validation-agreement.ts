/**
 * How often our validator and HL7's agree, over the validation corpus (scripts/validation-corpus).
 *
 *   npm run validation-agreement [-- --out DIR]
 *
 * Ours runs in-process, as $validate without a mode runs it (createValidator with the validation
 * settings of the environment, as the server reads them, and the profiles/ folder; general
 * validation, the purpose $validate gives a call without mode, as HL7's validator validates; the
 * case's text parsed by the server's body parser, parseJsonText, so repeated member names are seen
 * as over HTTP). Writes are stricter (a reference no server could resolve is refused). HL7's
 * runs as one JVM in --server mode with the same profiles and the
 * flags that mirror our settings: `--any-extensions` when UNKNOWN_EXTENSIONS=accept,
 * `--display-warnings` when DISPLAY_MISMATCH=warning. A verdict is "valid" when there is no issue
 * of severity error or fatal. Two figures are printed: the raw verdict agreement, and the agreement
 * with the documented deliberate differences (validation-corpus/differences.md) and a configured
 * policy HL7 has no flag for (REQUIRE_KNOWN_PROFILES=false) set apart, each listed by family.
 * Writes validation-agreement.json (every case, both answers) and validation-agreement.md (the
 * disagreements by rule family) to DIR (default scripts/validation-corpus/out).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type ValidationConfig } from '../src/config.js';
import { FhirError, type Issue } from '../src/outcome.js';
import { parseJsonText } from '../src/rest/content.js';
import { validationPurpose } from '../src/services/validate.js';
import { createValidator } from '../src/validation/index.js';
import { buildCorpus, caseText, type CorpusCase } from './validation-corpus/corpus.js';
import { deliberateDifference, POLICY_FAMILIES } from './validation-corpus/differences.js';
import { PROFILES_DIR, startHl7Validator, type Hl7Issue } from './validation-corpus/hl7-validator.js';

/** HL7's flags for our settings: unknown extensions accepted, display mismatches only warned. */
export function hl7Flags(config: ValidationConfig): string[] {
  return [...(config.unknownExtensions === 'accept' ? ['--any-extensions'] : []), ...(config.displayMismatch === 'warning' ? ['--display-warnings'] : [])];
}

interface Finding {
  severity: string;
  expression: string;
  message: string;
  rule?: string;
}

interface CaseResult {
  id: string;
  family: string;
  rule: string;
  expect: 'valid' | 'invalid';
  ours: { valid: boolean; errors: Finding[] };
  hl7: { valid: boolean; errors: Finding[] };
  outcome: 'both valid' | 'both invalid' | 'we accept, HL7 rejects' | 'we reject, HL7 accepts' | 'HL7 threw';
  hl7Ms: number;
  /** Both reject: do the error locations agree? */
  locations?: 'same' | 'overlap' | 'related' | 'different';
  /** A disagreement set apart: documented in differences.md, or a configured policy HL7 has no flag for. */
  setApart?: { kind: 'deliberate' | 'policy'; why: string };
}

/**
 * One spelling for a location: HL7 writes `value.ofType(Coding)` where we write `valueCoding`,
 * and annotates contained resources with comments.
 */
export function normaliseExpression(expression: string): string {
  return expression
    .replace(/\/\*.*?\*\//g, '')
    .replace(/\.ofType\((\w)(\w*)\)/g, (_m, first: string, rest: string) => first.toUpperCase() + rest)
    .replace(/\.$/, '');
}

function compareLocations(ours: Finding[], hl7: Finding[]): CaseResult['locations'] {
  const a = new Set(ours.map((f) => f.expression));
  const b = new Set(hl7.map((f) => f.expression));
  if (a.size === b.size && [...a].every((x) => b.has(x))) return 'same';
  if ([...a].some((x) => b.has(x))) return 'overlap';
  const within = (x: string, y: string) => y.startsWith(x) && /^[.[]/.test(y.slice(x.length));
  if ([...a].some((x) => [...b].some((y) => within(x, y) || within(y, x)))) return 'related';
  return 'different';
}

const fromOurs = (i: Issue): Finding => ({ severity: i.severity, expression: normaliseExpression(i.expression?.[0] ?? ''), message: i.diagnostics ?? '', rule: i.code });
const fromHl7 = (i: Hl7Issue): Finding => ({
  severity: i.severity,
  expression: normaliseExpression(i.expression ?? ''),
  message: i.message,
  rule: i.invariant ?? i.messageId ?? i.code,
});

async function ourVerdict(validator: ReturnType<typeof createValidator>, text: string): Promise<Finding[]> {
  let body: unknown;
  try {
    body = parseJsonText(text).value;
  } catch (error) {
    // Over HTTP a 400: unsafe keys (a FhirError with its own words) or bad JSON.
    const message = error instanceof FhirError ? error.message : `The body is not valid JSON: ${(error as Error).message}`;
    return [{ severity: 'error', expression: '', message, rule: 'structure' }];
  }
  try {
    return (await validator.validate(body, { purpose: validationPurpose(undefined) })).filter((i) => i.severity === 'error' || i.severity === 'fatal').map(fromOurs);
  } catch (error) {
    // Over HTTP this would be a 500: counted as a rejection and listed apart.
    return [{ severity: 'fatal', expression: '', message: `validator threw: ${(error as Error).message}`, rule: CRASH }];
  }
}

const CRASH = 'exception';
const SNAPSHOT_ERROR = 'ERROR_GENERATING_SNAPSHOT';

function outcomeOf(ours: boolean, hl7: boolean): CaseResult['outcome'] {
  if (ours && hl7) return 'both valid';
  if (!ours && !hl7) return 'both invalid';
  return ours ? 'we accept, HL7 rejects' : 'we reject, HL7 accepts';
}

const percent = (n: number, of: number) => (of === 0 ? '-' : `${((100 * n) / of).toFixed(1)}%`);

async function main(): Promise<void> {
  const outIndex = process.argv.indexOf('--out');
  const outDir = outIndex > 0 ? process.argv[outIndex + 1] : fileURLToPath(new URL('./validation-corpus/out/', import.meta.url));
  const corpus: CorpusCase[] = buildCorpus();
  const config = loadConfig(process.env).validation;
  const ours = createValidator({ ...config, profilesDir: PROFILES_DIR });
  const flags = hl7Flags(config);
  const settings = `UNKNOWN_EXTENSIONS=${config.unknownExtensions} DISPLAY_MISMATCH=${config.displayMismatch} REQUIRE_KNOWN_PROFILES=${config.requireKnownProfiles}`;
  console.log(`corpus: ${corpus.length} cases; ours with ${settings}; starting HL7's validator (${flags.join(' ')})`);
  const hl7 = await startHl7Validator(flags);
  const hl7Answers = Promise.all(corpus.map((c) => hl7.validate(caseText(c))));
  const ourAnswers: Finding[][] = [];
  for (const c of corpus) ourAnswers.push(await ourVerdict(ours, caseText(c)));
  const theirs = await hl7Answers;
  await hl7.close();

  // HL7's validator offline cannot regenerate the snapshots of some US Core extension definitions
  // (it reports that for the unchanged file too): that error says nothing about the case.
  const snapshotTrouble = new Set(
    corpus.filter((c, i) => c.family === 'valid' && theirs[i].errors.length > 0 && theirs[i].errors.every((e) => e.messageId === SNAPSHOT_ERROR)).map((c) => c.base),
  );
  const results: CaseResult[] = corpus.map((c, i) => {
    const ourErrors = ourAnswers[i];
    const hl7Errors = theirs[i].errors.filter((e) => !(snapshotTrouble.has(c.base) && e.messageId === SNAPSHOT_ERROR)).map(fromHl7);
    const result: CaseResult = {
      id: c.id,
      family: c.family,
      rule: c.rule,
      expect: c.expect,
      ours: { valid: ourErrors.length === 0, errors: ourErrors },
      hl7: { valid: hl7Errors.length === 0, errors: hl7Errors },
      outcome: outcomeOf(ourErrors.length === 0, hl7Errors.length === 0),
      hl7Ms: theirs[i].ms,
    };
    if (hl7Errors.some((e) => e.rule === CRASH)) result.outcome = 'HL7 threw';
    if (result.outcome === 'both invalid') result.locations = compareLocations(ourErrors, hl7Errors);
    const deliberate = result.outcome === 'we reject, HL7 accepts' ? deliberateDifference(c.family, c.rule) : undefined;
    if (deliberate) result.setApart = { kind: 'deliberate', why: deliberate.why };
    if (result.outcome === 'we accept, HL7 rejects' && c.family === POLICY_FAMILIES.unknownProfileWarns && !config.requireKnownProfiles) {
      result.setApart = { kind: 'policy', why: 'REQUIRE_KNOWN_PROFILES=false: an unknown meta.profile is a warning here, an error for HL7' };
    }
    return result;
  });

  const report = summarise(results, flags, settings);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'validation-agreement.json'), JSON.stringify({ settings: { ours: settings, hl7: flags }, summary: report.summary, cases: results }, null, 1) + '\n');
  writeFileSync(join(outDir, 'validation-agreement.md'), report.markdown);
  console.log(report.text);
  console.log(`details: ${join(outDir, 'validation-agreement.md')} and validation-agreement.json`);
}

function summarise(all: CaseResult[], flags: string[], settings: string) {
  const hl7Threw = all.filter((r) => r.outcome === 'HL7 threw');
  const results = all.filter((r) => r.outcome !== 'HL7 threw');
  const count = (f: (r: CaseResult) => boolean) => results.filter(f).length;
  const n = results.length;
  const agree = count((r) => r.ours.valid === r.hl7.valid);
  const outcomes = ['both valid', 'both invalid', 'we accept, HL7 rejects', 'we reject, HL7 accepts'] as const;
  const confusion = Object.fromEntries(outcomes.map((o) => [o, count((r) => r.outcome === o)]));
  const bothInvalid = results.filter((r) => r.outcome === 'both invalid');
  const locations = Object.fromEntries((['same', 'overlap', 'related', 'different'] as const).map((l) => [l, bothInvalid.filter((r) => r.locations === l).length]));
  const crashes = results.filter((r) => r.ours.errors.some((e) => e.rule === CRASH));
  const oursIntended = count((r) => (r.expect === 'valid') === r.ours.valid);
  const apart = results.filter((r) => r.setApart);
  const apartBy = (kind: 'deliberate' | 'policy') => {
    const byFamily = new Map<string, number>();
    for (const r of apart.filter((a) => a.setApart!.kind === kind)) byFamily.set(r.family, (byFamily.get(r.family) ?? 0) + 1);
    return [...byFamily].sort((a, b) => b[1] - a[1]);
  };
  const deliberate = apartBy('deliberate');
  const policy = apartBy('policy');
  const listed = (families: [string, number][]) => families.map(([f, k]) => `${f} ${k}`).join(', ') || 'none';
  const hl7Intended = count((r) => (r.expect === 'valid') === r.hl7.valid);

  const families = [...new Set(results.map((r) => r.family))].map((family) => {
    const rs = results.filter((r) => r.family === family);
    const disagree = rs.filter((r) => r.ours.valid !== r.hl7.valid);
    return {
      family,
      cases: rs.length,
      agreement: (rs.length - disagree.length) / rs.length,
      weAccept: disagree.filter((r) => r.ours.valid).length,
      weReject: disagree.filter((r) => !r.ours.valid).length,
      disagree,
    };
  });
  families.sort((a, b) => b.disagree.length - a.disagree.length || a.family.localeCompare(b.family));
  const macro = families.reduce((s, f) => s + f.agreement, 0) / families.length;

  const summary = {
    cases: n,
    verdictAgreement: agree / n,
    agreementWithoutSetApart: agree / (n - apart.length),
    setApart: { deliberate: Object.fromEntries(deliberate), policy: Object.fromEntries(policy) },
    familyAverageAgreement: macro,
    confusion,
    locationsWhenBothReject: locations,
    matchesIntent: { ours: oursIntended / n, hl7: hl7Intended / n },
    hl7ValidatorThrew: hl7Threw.map((r) => ({ id: r.id, rule: r.rule, message: r.hl7.errors[0].message })),
    ourValidatorThrew: crashes.map((r) => ({ id: r.id, rule: r.rule, message: r.ours.errors[0].message })),
    families: families.map(({ disagree: _d, ...f }) => f),
  };

  const lines = [
    `verdict agreement (raw): ${agree}/${n} = ${percent(agree, n)} (average over ${families.length} rule families: ${(100 * macro).toFixed(1)}%)`,
    `verdict agreement without the ${apart.length} disagreements set apart: ${agree}/${n - apart.length} = ${percent(agree, n - apart.length)}; set apart: deliberate (we reject, R4 says invalid; differences.md): ${listed(deliberate)}; configured policy HL7 has no flag for: ${listed(policy)}`,
    `confusion: both valid ${confusion['both valid']}, both invalid ${confusion['both invalid']}, we accept but HL7 rejects ${confusion['we accept, HL7 rejects']}, we reject but HL7 accepts ${confusion['we reject, HL7 accepts']}`,
    `error locations when both reject (${bothInvalid.length}): same ${percent(locations.same, bothInvalid.length)}, overlapping ${percent(locations.overlap, bothInvalid.length)}, one inside the other ${percent(locations.related, bothInvalid.length)}, different ${percent(locations.different, bothInvalid.length)}`,
    `verdict as the corpus intends: ours ${percent(oursIntended, n)}, HL7 ${percent(hl7Intended, n)}`,
    `left out: HL7's validator threw on ${hl7Threw.length} case(s)${hl7Threw.length ? ': ' + [...new Set(hl7Threw.map((r) => oneLine(r.hl7.errors[0].message).slice(0, 120)))].join('; ') : ''}`,
    `our validator threw (a 500 over HTTP) on ${crashes.length} case(s)${crashes.length ? ': ' + [...new Set(crashes.map((r) => r.ours.errors[0].message))].join('; ') : ''}`,
    'families with disagreements (cases: we accept/HL7 rejects, we reject/HL7 accepts):',
    ...families.filter((f) => f.disagree.length > 0).map((f) => `  ${f.family.padEnd(26)} ${String(f.disagree.length).padStart(4)} of ${String(f.cases).padEnd(4)} (${f.weAccept} / ${f.weReject})`),
  ];

  const md = [
    '# Validation agreement: our validator and HL7\'s',
    '',
    `Our settings: \`${settings}\`. HL7 validator settings: \`${flags.join(' ')}\`, profiles/ loaded. Verdict = no error or fatal issue.`,
    'Disagreements set apart are still listed below, marked; differences.md gives the spec\'s words for each deliberate one.',
    '',
    ...lines.slice(0, 7).map((l) => `- ${l}`),
    '',
    '| outcome | cases |',
    '|---|---|',
    ...outcomes.map((o) => `| ${o} | ${confusion[o]} |`),
    '',
    '| family | cases | agreement | we accept, HL7 rejects | we reject, HL7 accepts | of which set apart |',
    '|---|---|---|---|---|---|',
    ...families.map((f) => `| ${f.family} | ${f.cases} | ${(100 * f.agreement).toFixed(1)}% | ${f.weAccept} | ${f.weReject} | ${f.disagree.filter((r) => r.setApart).length} |`),
    '',
    ...families.filter((f) => f.disagree.length > 0).flatMap((f) => [
      `## ${f.family} (${f.disagree.length} of ${f.cases} disagree)`,
      '',
      ...clusters(f.disagree).flatMap(({ signature, cases }) => {
        const sample = cases[0];
        return [
          `- **${cases.length} × ${signature}**, e.g. ${sample.id} (${sample.rule})${sample.setApart ? ` — set apart (${sample.setApart.kind}): ${sample.setApart.why}` : ''}`,
          ...(sample.ours.errors.length ? sample.ours.errors.slice(0, 3).map((e) => `  - ours: \`${e.expression}\` ${oneLine(e.message)}`) : ['  - ours: (no error)']),
          ...(sample.hl7.errors.length ? sample.hl7.errors.slice(0, 3).map((e) => `  - HL7: \`${e.expression}\` [${e.rule}] ${oneLine(e.message)}`) : ['  - HL7: (no error)']),
          ...(cases.length > 1 ? [`  - cases: ${cases.slice(1, 12).map((c) => `${c.id} (${oneLine(c.rule).slice(0, 60)})`).join('; ')}${cases.length > 12 ? ` and ${cases.length - 12} more` : ''}`] : []),
        ];
      }),
      '',
    ]),
  ].join('\n');
  return { summary, text: lines.join('\n'), markdown: md + '\n' };
}

/** Disagreements of one family that have the same cause: the side that rejects and the rule it names. */
function clusters(cases: CaseResult[]): { signature: string; cases: CaseResult[] }[] {
  const groups = new Map<string, CaseResult[]>();
  for (const c of cases) {
    const rejecting = c.ours.valid ? c.hl7.errors : c.ours.errors;
    const rules = [...new Set(rejecting.map((e) => e.rule ?? ''))].sort().join(', ');
    const signature = (c.ours.valid ? `we accept, HL7 rejects [${rules}]` : `we reject [${rules}], HL7 accepts`) + (c.setApart ? ` (${c.setApart.kind})` : '');
    groups.set(signature, [...(groups.get(signature) ?? []), c]);
  }
  return [...groups].map(([signature, list]) => ({ signature, cases: list })).sort((a, b) => b.cases.length - a.cases.length);
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').slice(0, 300);

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
