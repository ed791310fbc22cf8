import { parse as parseLanguageTag } from 'bcp-47';
import { parse as parseMediaType } from 'content-type';

/**
 * Code systems defined outside FHIR whose codes can be checked by their grammar: BCP-47
 * language tags (urn:ietf:bcp:47) and BCP-13 media types (urn:ietf:bcp:13). Whether a tag's
 * subtags are registered, or a media type is, is not checked.
 */
export const LANGUAGE_SYSTEM = 'urn:ietf:bcp:47';
export const MEDIA_TYPE_SYSTEM = 'urn:ietf:bcp:13';

/** The ValueSets whose members are exactly the codes of one of these grammars. */
const SYNTAX_VALUE_SETS: Record<string, string> = {
  'http://hl7.org/fhir/ValueSet/languages': LANGUAGE_SYSTEM,
  'http://hl7.org/fhir/ValueSet/all-languages': LANGUAGE_SYSTEM,
  'http://hl7.org/fhir/ValueSet/mimetypes': MEDIA_TYPE_SYSTEM,
  // US Core's: tags of a language and region only, a subset of BCP-47.
  'http://hl7.org/fhir/us/core/ValueSet/simple-language': LANGUAGE_SYSTEM,
};

export function syntaxSystemOf(valueSet: string): string | undefined {
  return SYNTAX_VALUE_SETS[valueSet.split('|')[0]];
}

export function isSyntaxSystem(system: string): boolean {
  return system === LANGUAGE_SYSTEM || system === MEDIA_TYPE_SYSTEM;
}

/** Codes already found well-formed (a few languages and media types recur): not parsed again. */
const wellFormed = new Set<string>();
const MAX_REMEMBERED = 2000;

/** Why a code is not well-formed in the system, or undefined when it is. */
export function syntaxProblem(system: string, code: string): string | undefined {
  const key = `${system}|${code}`;
  if (wellFormed.has(key)) return undefined;
  const problem = grammarProblem(system, code);
  if (!problem && wellFormed.size < MAX_REMEMBERED) wellFormed.add(key);
  return problem;
}

function grammarProblem(system: string, code: string): string | undefined {
  if (system === LANGUAGE_SYSTEM) {
    let warned = false;
    const tag = parseLanguageTag(code, {
      warning: () => {
        warned = true;
      },
    });
    const empty = !tag.language && tag.privateuse.length === 0 && !tag.irregular && !tag.regular;
    return warned || empty ? 'is not a BCP-47 language tag (such as en, en-US or zh-Hant-TW)' : undefined;
  }
  if (system === MEDIA_TYPE_SYSTEM) {
    try {
      parseMediaType(code);
      return undefined;
    } catch {
      return 'is not a media type (type/subtype, optionally with ;parameter=value, such as text/plain; charset=utf-8)';
    }
  }
  return undefined;
}
