import { isR4ResourceType } from '../fhir/structure-definitions.js';
import { issue } from '../outcome.js';
import { checkAttachment } from './attachment.js';
import { checkBinding } from './bindings.js';
import { checkCardinality } from './cardinality.js';
import { baseTree, type CompiledTree, type ElementNode, type TypeRef } from './compile.js';
import { inside } from './extension-context.js';
import { checkExtensionUse, noteUnknownExtension } from './extensions.js';
import { checkFixedAndPattern } from './fixed-pattern.js';
import { checkInvariants } from './invariants.js';
import { narrativeProblems } from './narrative.js';
import { describe, primitiveProblem } from './primitives.js';
import { checkReference } from './references.js';
import { REPEATED_KEYS } from './repeated-keys.js';
import { enterResource, isContainedElement } from './resource-scope.js';
import { assignSlices, type ConformanceCheck } from './slicing.js';
import { checkCoding } from './terminology.js';
import { MAX_DEPTH, type WalkContext } from './walk-context.js';

/**
 * The walk of one resource against one compiled definition: every JSON key must be an element
 * of the definition, with the JSON shape and type it declares; each element then gets its
 * cardinality, primitive format, binding, reference, fixed/pattern, slicing and invariant
 * checks. Locations are FHIRPath: `Patient.name[0].given[1]`, `Patient.deceased.ofType(dateTime)`.
 * The JSON rules come with it: no null outside a primitive's `_x` alignment, no empty arrays or
 * objects, each member name once (repeats are marked by the body parser, see repeated-keys.ts).
 */
export function walkResource(ctx: WalkContext, tree: CompiledTree, resource: Record<string, unknown>, location: string, contained = false): void {
  const leave = enterResource(ctx, resource, contained);
  try {
    inside(ctx, { node: tree.root, type: tree.root.path, resource: true }, () => visitObject(ctx, tree, tree.root, resource, location, true));
    checkInvariants(ctx, tree.root.constraints, resource, location);
  } finally {
    leave();
  }
}

/** A resource inside a resource (contained, Bundle.entry.resource): validated by its own type. */
function visitInnerResource(ctx: WalkContext, node: ElementNode, value: Record<string, unknown>, location: string): void {
  const type = value.resourceType;
  if (typeof type !== 'string' || !isR4ResourceType(type)) {
    ctx.issues.push(issue('error', 'structure', `resourceType ${describe(type)} is not an R4 resource type`, [location]));
    return;
  }
  walkResource(ctx, baseTree(type)!, value, location, isContainedElement(node));
}

function visitObject(
  ctx: WalkContext,
  tree: CompiledTree,
  container: ElementNode,
  value: Record<string, unknown>,
  location: string,
  isResource = false,
): void {
  if (ctx.depth >= MAX_DEPTH) {
    if (!ctx.issues.some((i) => i.code === 'too-costly')) {
      ctx.issues.push(issue('error', 'too-costly', `nested deeper than ${MAX_DEPTH} levels`, [location]));
    }
    return;
  }
  ctx.depth += 1;
  try {
    visitKeys(ctx, tree, container, value, location, isResource);
  } finally {
    ctx.depth -= 1;
  }
}

function visitKeys(
  ctx: WalkContext,
  tree: CompiledTree,
  container: ElementNode,
  value: Record<string, unknown>,
  location: string,
  isResource: boolean,
): void {
  let hasContent = false;
  let choicesSeen: ElementNode[] | undefined;
  const keys = Object.keys(value);
  if (keys.length === 0 && !isResource) {
    ctx.issues.push(issue('error', 'structure', 'an empty object is not allowed: leave the element out, or give it content', [location]));
    return;
  }
  // Driven by the keys present, not by every element the definition could hold.
  for (const key of keys) {
    if (isResource && key === 'resourceType') continue;
    const isExtra = key.charCodeAt(0) === 95; /* _ */
    const name = isExtra ? key.slice(1) : key;
    const entry = container.byKey.get(name);
    if (key !== 'id') hasContent = true;
    if (!entry) {
      if (key === REPEATED_KEYS) {
        reportRepeatedKeys(ctx, value[key], location);
        continue;
      }
      ctx.issues.push(issue('error', 'structure', `unknown element "${key.slice(0, 64)}"`, [`${location}.${key.slice(0, 64)}`]));
      continue;
    }
    const { node, type } = entry;
    if (isExtra) {
      if (!type.primitive) {
        ctx.issues.push(issue('error', 'structure', `"${key}" is only allowed for primitive elements`, [`${location}.${key}`]));
        continue;
      }
      if (value[name] !== undefined) continue; // visited with its value
    }
    if (node.choice) {
      if (choicesSeen?.includes(node)) {
        ctx.issues.push(issue('error', 'structure', `allows one value; found several types of ${node.name}[x]`, [`${location}.${node.name}`]));
      }
      (choicesSeen ??= []).push(node);
    }
    if (node.repeats) ctx.depth += 1; // the array is a level of its own
    const count = visitValues(ctx, tree, node, type, value[type.key], type.primitive ? value[type.extKey] : undefined, location);
    if (node.repeats) ctx.depth -= 1;
    if (count > node.max) checkCardinality(ctx, node, count, `${location}.${node.name}`);
  }
  if (!hasContent && !isResource) {
    ctx.issues.push(issue('error', 'invariant', 'ele-1: All FHIR elements must have a @value or children', [location]));
  }
  for (const node of container.required) {
    let count = 0;
    for (const type of node.types) {
      const own = value[type.key] ?? (type.primitive ? value[type.extKey] : undefined);
      if (own !== undefined) count += Array.isArray(own) ? own.length : 1;
    }
    if (count < node.min) checkCardinality(ctx, node, count, `${location}.${node.name}`);
  }
}

/** The slice's type of an item (with its profiles): the same type, or the resource type a slice of `Resource` names. */
function sliceType(slice: ElementNode, type: TypeRef, value: unknown): TypeRef {
  const code = type.code === 'Resource' ? (value as { resourceType?: unknown } | null)?.resourceType : type.code;
  return slice.types.find((t) => t.code === code) ?? slice.types.find((t) => t.code === type.code) ?? type;
}

/** Slicing by `profile`: whether a value conforms to a known profile, checked on the side. */
function conformance(ctx: WalkContext): ConformanceCheck {
  return (url, value) => {
    const profile = ctx.profileTree(url);
    if (!profile) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const object = value as Record<string, unknown>;
    const aside: WalkContext = { ...ctx, issues: [] };
    if (profile.root.path === object.resourceType) walkResource(aside, profile, object, profile.type);
    else if (object.resourceType === undefined) {
      const url = typeof object.url === 'string' ? object.url : undefined;
      inside(aside, { node: profile.root, type: profile.type, url }, () => visitObject(aside, profile, profile.root, object, profile.type));
    }
    else return false;
    return !aside.issues.some((i) => i.severity === 'error');
  };
}

function childName(node: ElementNode, type: TypeRef): string {
  return node.choice ? `${node.name}.ofType(${type.code})` : node.name;
}

/** The value(s) of one JSON key (and its `_key`); returns how many values there are. */
function visitValues(
  ctx: WalkContext,
  tree: CompiledTree,
  node: ElementNode,
  type: TypeRef,
  value: unknown,
  extra: unknown,
  location: string,
): number {
  const at = `${location}.${childName(node, type)}`;
  if (value === null || extra === null) {
    const key = value === null ? type.key : type.extKey;
    ctx.issues.push(issue('error', 'structure', `null is not a FHIR value: leave "${key}" out instead`, [at]));
    return 0;
  }
  if (!node.repeats) {
    if (Array.isArray(value) || Array.isArray(extra)) {
      ctx.issues.push(issue('error', 'structure', 'must be a single value, not an array', [at]));
      return 0;
    }
    const slice = node.slicing && node.slices.length > 0 && value !== undefined ? assignSlices(ctx, node, [value], type.code, at, conformance(ctx)).sliceOf[0] : undefined;
    visitValue(ctx, tree, slice ?? node, slice ? sliceType(slice, type, value) : type, value, extra, at);
    return 1;
  }
  if ((value !== undefined && !Array.isArray(value)) || (extra !== undefined && !Array.isArray(extra))) {
    ctx.issues.push(issue('error', 'structure', 'must be an array (the element repeats)', [at]));
    return 0;
  }
  const values = (value ?? []) as unknown[];
  const extras = (extra ?? []) as unknown[];
  if ((value !== undefined && values.length === 0) || (extra !== undefined && extras.length === 0)) {
    const key = value !== undefined && values.length === 0 ? type.key : type.extKey;
    ctx.issues.push(issue('error', 'structure', `an empty array is not allowed: leave "${key}" out when it has no values`, [at]));
  }
  const length = Math.max(values.length, extras.length);
  if (value !== undefined && extra !== undefined && values.length !== extras.length) {
    ctx.issues.push(issue('error', 'structure', `"${type.key}" and "_${type.key}" must have the same length`, [at]));
  }
  const slices = node.slicing && node.slices.length > 0 ? assignSlices(ctx, node, values, type.code, at, conformance(ctx)).sliceOf : undefined;
  for (let i = 0; i < length; i++) {
    const target = slices?.[i] ?? node;
    const targetType = target === node ? type : sliceType(target, type, values[i]);
    // In a primitive's arrays, null only keeps positions aligned with `_x`; elsewhere it is reported.
    const item = type.primitive ? values[i] ?? undefined : values[i];
    visitValue(ctx, tree, target, targetType, item, extras[i] ?? undefined, `${at}[${i}]`);
  }
  return length;
}

function visitValue(
  ctx: WalkContext,
  tree: CompiledTree,
  node: ElementNode,
  type: TypeRef,
  value: unknown,
  extra: unknown,
  location: string,
): void {
  if (type.primitive) {
    if (value === null || (value === undefined && extra == null)) {
      const text = `has neither a value nor extensions: remove this position, or give "${type.extKey}" an id or extension at it`;
      ctx.issues.push(issue('error', 'structure', text, [location]));
    }
    if (value != null) {
      const problem = primitiveProblem(type.code, value);
      if (problem) ctx.issues.push(issue('error', problem.code, `${type.code} ${problem.text}`, [location]));
      else {
        if (type.code === 'xhtml') checkNarrative(ctx, value as string, location);
        else if (typeof value === 'string' && !NON_SPACE.test(value)) {
          ctx.issues.push(issue('warning', 'value', `${type.code} is only whitespace: send some text, or leave the element out`, [location]));
        }
        checkValueRules(ctx, node, type, value, location);
      }
    }
    if (extra != null) {
      if (typeof extra !== 'object' || Array.isArray(extra)) {
        ctx.issues.push(issue('error', 'structure', `the "_" part must be an object with id and extension, not ${describe(extra)}`, [location]));
      } else {
        const element = baseTree('Element')!;
        inside(ctx, { node, type: type.code }, () => visitObject(ctx, element, element.root, extra as Record<string, unknown>, location));
      }
    }
    return;
  }
  if (value === null) {
    const text = `null is not a FHIR value: remove it from the array (null only aligns a primitive's values with its "_" array)`;
    ctx.issues.push(issue('error', 'structure', text, [location]));
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    ctx.issues.push(issue('error', 'structure', `must be a JSON object (${type.code}), not ${describe(value)}`, [location]));
    return;
  }
  const object = value as Record<string, unknown>;
  if (type.code === 'Extension') checkExtensionUse(ctx, node, object, location);
  if (type.code === 'Resource' || isR4ResourceType(type.code)) {
    visitInnerResource(ctx, node, object, location);
    // A profile on the element (a slice of Bundle.entry or contained) applies to the resource.
    for (const url of type.profiles) {
      const profile = ctx.profileTree(url);
      if (profile && profile.type === object.resourceType) walkResource(ctx, profile, object, location, isContainedElement(node));
    }
    return;
  }
  const dataType = node.children.length > 0 ? undefined : baseTree(type.code);
  const contentTarget = node.contentReference ? tree.byPath.get(node.contentReference) : undefined;
  const container = node.children.length > 0 ? node : contentTarget ?? dataType?.root;
  if (!container) {
    ctx.issues.push(issue('error', 'structure', `type ${type.code} is not known`, [location]));
    return;
  }
  const url = type.code === 'Extension' && typeof object.url === 'string' ? object.url : undefined;
  // The value is the host of the extensions found in it (their context is checked against it).
  ctx.hosts.push({ node, type: type.code, url });
  try {
    visitObject(ctx, contentTarget ? tree : dataType ?? tree, container, object, location);
    if (type.code === 'Extension') checkExtensionShape(ctx, object, location);
    const typeRoot = baseTree(type.code)?.root;
    if (typeRoot) checkInvariants(ctx, typeRoot.constraints, object, location);
    checkInvariants(ctx, (contentTarget ?? node).constraints, object, location);
    checkValueRules(ctx, node, type, object, location);
    // An extension is checked against its definition when it is known (profiles/, stored, or HL7's).
    for (const profileUrl of [...type.profiles, ...(url === undefined ? [] : [url])]) {
      const profile = ctx.profileTree(profileUrl);
      if (profile) visitObject(ctx, profile, profile.root, object, location);
      if (profile) checkInvariants(ctx, profile.root.constraints, object, location);
      else if (profileUrl === url) noteUnknownExtension(ctx, node, url, location);
    }
  } finally {
    ctx.hosts.pop();
  }
}

/** Rules on a value that has the right shape: fixed/pattern, binding, reference, coding, attachment. */
function checkValueRules(ctx: WalkContext, node: ElementNode, type: TypeRef, value: unknown, location: string): void {
  if (node.fixed !== undefined || node.pattern !== undefined) checkFixedAndPattern(ctx, node, value, location);
  if (node.binding) checkBinding(ctx, node, type.code, value, location);
  if (type.code === 'Reference') checkReference(ctx, type, value as never, location);
  else if (type.code === 'Coding') checkCoding(ctx, value, location);
  else if (type.code === 'Attachment') checkAttachment(ctx, value, location);
}

/** ext-1: an extension has either a value or nested extensions, never both. */
function checkExtensionShape(ctx: WalkContext, extension: Record<string, unknown>, location: string): void {
  const hasValue = Object.keys(extension).some((k) => k.startsWith('value'));
  const hasExtensions = Array.isArray(extension.extension) && extension.extension.length > 0;
  if (hasValue === hasExtensions) {
    ctx.issues.push(issue('error', 'invariant', 'ext-1: Must have either extensions or value[x], not both', [location]));
  }
}

const NON_SPACE = /\S/;

/** txt-1, txt-2 and the other XHTML rules of Narrative.div (narrative.ts). */
function checkNarrative(ctx: WalkContext, div: string, location: string): void {
  const contained = (ctx.fhirpathEnv.resource as { contained?: unknown } | undefined)?.contained;
  const containedIds = () => (Array.isArray(contained) ? contained : []).map((c) => (c as { id?: unknown } | null)?.id).filter((id) => typeof id === 'string');
  for (const problem of narrativeProblems(div, containedIds)) ctx.issues.push(issue('error', problem.code, problem.text, [location]));
}

/** Members JSON.parse merged (the parser marked the object with their names). */
function reportRepeatedKeys(ctx: WalkContext, names: unknown, location: string): void {
  for (const name of Array.isArray(names) ? names : []) {
    const text = `"${String(name).slice(0, 64)}" appears more than once in this object; JSON.parse would keep only the last: send it once`;
    ctx.issues.push(issue('error', 'structure', text, [`${location}.${String(name).slice(0, 64)}`]));
  }
}
