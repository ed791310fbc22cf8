import type { Reference } from 'fhir/r4';
import { isR4ResourceType } from '../fhir/structure-definitions.js';
import { issue } from '../outcome.js';
import type { TypeRef } from './compile.js';
import { quote } from './primitives.js';
import type { WalkContext } from './walk-context.js';

/**
 * Reference.reference: `Type/id` (optionally `/_history/vid`), an absolute URL, `#contained`,
 * `urn:uuid:` or `urn:oid:`. When the target type can be read from it, it must be one the
 * element allows (its targetProfile). Whether `#id` names a contained resource is ref-1's job.
 */
const RELATIVE = /^([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\/\S+$/i;
const URN = /^urn:(uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|oid:[0-2](\.(0|[1-9][0-9]*))+)$/;
const TYPE_IN_URL = /\/([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export function checkReference(ctx: WalkContext, type: TypeRef, value: Reference, location: string): void {
  const reference = value.reference;
  if (typeof reference !== 'string' || reference.startsWith('#') || URN.test(reference)) return;
  let targetType: string | undefined;
  if (RELATIVE.test(reference)) {
    targetType = RELATIVE.exec(reference)![1];
    if (!isR4ResourceType(targetType)) {
      ctx.issues.push(issue('error', 'value', `${quote(reference)} does not name an R4 resource type`, [`${location}.reference`]));
      return;
    }
  } else if (ABSOLUTE.test(reference)) {
    const inUrl = TYPE_IN_URL.exec(reference)?.[1];
    if (inUrl && isR4ResourceType(inUrl)) targetType = inUrl;
  } else {
    const text = `${quote(reference)} is not a reference: use Type/id, an absolute URL, #id or urn:uuid:`;
    ctx.issues.push(issue('error', 'value', text, [`${location}.reference`]));
    return;
  }
  if (targetType && value.type && value.type !== targetType) {
    ctx.issues.push(issue('error', 'value', `type is ${quote(value.type)} but the reference points to a ${targetType}`, [`${location}.type`]));
  }
  if (targetType && type.targetTypes && !type.targetTypes.includes(targetType)) {
    const allowed = type.targetTypes.join(', ');
    ctx.issues.push(issue('error', 'value', `may refer to ${allowed}, not to a ${targetType}`, [`${location}.reference`]));
  }
}
