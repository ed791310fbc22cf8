/**
 * Where our validator and HL7's disagree on purpose: the cases we reject and HL7's accepts
 * because R4 itself says the value is wrong. Each entry is explained, with the spec's words,
 * in differences.md next to this file; the agreement script counts them apart (never as agreement).
 */
export interface DeliberateDifference {
  family: string;
  /** Which mutations of the family (CorpusCase.rule). */
  rule: RegExp;
  /** The one-line reason, printed with the figures. */
  why: string;
}

export const DELIBERATE_DIFFERENCES: DeliberateDifference[] = [
  { family: 'narrative-xhtml', rule: /<\/div><p>after<\/p>"$/, why: 'Narrative.div is one <div> element; content after it is outside the narrative (narrative.html)' },
  { family: 'json-representation', rule: /^_given shorter than given$/, why: 'a repeating primitive\'s two arrays are aligned position by position (json.html)' },
  { family: 'primitive-base64', rule: /= "%%%%"$/, why: 'base64Binary\'s regex is (\\s*([0-9a-zA-Z\\+/=]){4}\\s*)+ (datatypes.html)' },
  { family: 'json-empty', rule: /^birthDate: ""$/, why: 'an empty string is no date (date\'s regex), and JSON properties are never empty (json.html)' },
];

/** The configured policy that differs from HL7's validator, if any: an unknown meta.profile is only a warning. */
export const POLICY_FAMILIES = { unknownProfileWarns: 'profile-unknown' } as const;

export function deliberateDifference(family: string, rule: string): DeliberateDifference | undefined {
  return DELIBERATE_DIFFERENCES.find((d) => d.family === family && d.rule.test(rule));
}
