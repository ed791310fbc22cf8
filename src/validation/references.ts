import type { Reference } from 'fhir/r4';
import { isR4ResourceType } from '../fhir/structure-definitions.js';
import { issue } from '../outcome.js';
import type { TypeRef } from './compile.js';
import { quote } from './primitives.js';
import { bundleTargetType } from './resource-scope.js';
import type { WalkContext } from './walk-context.js';

/**
 * Reference.reference: `Type/id` (optionally `/_history/vid`), an absolute URL, `#contained`,
 * `urn:uuid:` or `urn:oid:`. The type of the target, when it can be known, must be one the
 * element allows (its targetProfile): read from the reference itself, from the contained
 * resource `#id` names, or from the Bundle entry whose fullUrl it is. Whether `#id` names a
 * contained resource at all is ref-1's job.
 *
 * A reference of none of these forms (`Patient/`, `patient/p1`, `/Patient/p1`) names nothing a
 * FHIR server could resolve or search: a write refuses it, general validation only warns
 * (ctx.unresolvableReference). White space is never part of a reference: always an error.
 */
const RELATIVE = /^([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\/\S+$/i;
const URN = /^urn:(uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|oid:[0-2](\.(0|[1-9][0-9]*))+)$/;
const TYPE_IN_URL = /\/([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
/** `Patient?identifier=...`: resolved by the server when a transaction or batch is processed. */
const CONDITIONAL = /^[A-Z][A-Za-z]+\?\S+$/;

export function checkReference(ctx: WalkContext, type: TypeRef, value: Reference, location: string): void {
  const reference = value.reference;
  if (typeof reference !== 'string') return;
  let targetType: string | undefined;
  let target = 'a';
  if (reference.startsWith('#')) {
    if (reference.length === 1) return; // the container itself
    targetType = containedType(ctx, reference.slice(1));
    target = `the contained ${quote(reference)}, a`;
  } else if (URN.test(reference)) {
    targetType = bundleTargetType(ctx, reference);
    if (targetType) target = 'the bundle entry it names, a';
    else if (ctx.bundles.length > 0) {
      const text = `${quote(reference)} is not the fullUrl of any entry of the bundle, so it cannot be resolved`;
      ctx.issues.push(issue('warning', 'not-found', text, [`${location}.reference`]));
    }
  } else if (RELATIVE.test(reference)) {
    targetType = RELATIVE.exec(reference)![1];
    if (!isR4ResourceType(targetType)) {
      unresolvable(ctx, reference, location, `${targetType} is not an R4 resource type`);
      return;
    }
  } else if (ABSOLUTE.test(reference)) {
    const inUrl = TYPE_IN_URL.exec(reference)?.[1];
    if (inUrl && isR4ResourceType(inUrl)) targetType = inUrl;
    else targetType = bundleTargetType(ctx, reference);
  } else if (CONDITIONAL.test(reference) && ctx.bundles.some((b) => b.requests)) {
    targetType = reference.slice(0, reference.indexOf('?'));
  } else if (/\s/.test(reference)) {
    const text = `${quote(reference)} is not a reference: it holds white space; use Type/id, an absolute URL, #id or urn:uuid:`;
    ctx.issues.push(issue('error', 'value', text, [`${location}.reference`]));
    return;
  } else {
    const why = CONDITIONAL.test(reference) ? 'a conditional reference is resolved only in a transaction or batch Bundle' : undefined;
    unresolvable(ctx, reference, location, why);
    // `/Patient/p1` still names the type of its target, which must be one the element allows.
    const inPath = TYPE_IN_URL.exec(reference)?.[1];
    if (!inPath || !isR4ResourceType(inPath)) return;
    targetType = inPath;
  }
  if (targetType && value.type && value.type !== targetType) {
    ctx.issues.push(issue('error', 'value', `type is ${quote(value.type)} but the reference points to a ${targetType}`, [`${location}.type`]));
  }
  if (targetType && type.targetTypes && !type.targetTypes.includes(targetType)) {
    const allowed = type.targetTypes.join(', ');
    ctx.issues.push(issue('error', 'value', `may refer to ${allowed}, not to ${target} ${targetType}`, [`${location}.reference`]));
  }
}

/** A reference that names nothing a FHIR server could find: an error for a write, a warning for general validation. */
function unresolvable(ctx: WalkContext, reference: string, location: string, why?: string): void {
  const text = `${quote(reference)} cannot be resolved on a FHIR server${why ? ` (${why})` : ''}: use Type/id, an absolute URL, #id or urn:uuid:`;
  ctx.issues.push(issue(ctx.unresolvableReference, 'value', text, [`${location}.reference`]));
}

/** The resourceType of the contained resource with this id, in the resource that holds the reference. */
function containedType(ctx: WalkContext, id: string): string | undefined {
  const contained = (ctx.fhirpathEnv.rootResource as { contained?: unknown } | undefined)?.contained;
  if (!Array.isArray(contained)) return undefined;
  for (const inner of contained) {
    const resource = inner as { id?: unknown; resourceType?: unknown } | null;
    if (resource?.id === id && typeof resource.resourceType === 'string') return resource.resourceType;
  }
  return undefined;
}
