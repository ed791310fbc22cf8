import { isR4ResourceType } from '../fhir/structure-definitions.js';
import { issue } from '../outcome.js';
import { checkBinding } from './bindings.js';
import { checkCardinality } from './cardinality.js';
import { baseTree, type CompiledTree, type ElementNode, type TypeRef } from './compile.js';
import { noteUnknownExtension } from './extensions.js';
import { checkFixedAndPattern } from './fixed-pattern.js';
import { checkInvariants } from './invariants.js';
import { describe, primitiveProblem } from './primitives.js';
import { checkReference } from './references.js';
import { enterResource, isContainedElement } from './resource-scope.js';
import { assignSlices } from './slicing.js';
import { checkCoding } from './terminology.js';
import { MAX_DEPTH, type WalkContext } from './walk-context.js';

/**
 * The walk of one resource against one compiled definition: every JSON key must be an element
 * of the definition, with the JSON shape and type it declares; each element then gets its
 * cardinality, primitive format, binding, reference, fixed/pattern, slicing and invariant
 * checks. Locations are FHIRPath: `Patient.name[0].given[1]`, `Patient.deceased.ofType(dateTime)`.
 */
export function walkResource(ctx: WalkContext, tree: CompiledTree, resource: Record<string, unknown>, location: string, contained = false): void {
  const leave = enterResource(ctx, resource, contained);
  try {
    visitObject(ctx, tree, tree.root, resource, location, true);
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
  // Driven by the keys present, not by every element the definition could hold.
  for (const key of Object.keys(value)) {
    if (isResource && key === 'resourceType') continue;
    const isExtra = key.charCodeAt(0) === 95; /* _ */
    const name = isExtra ? key.slice(1) : key;
    const entry = container.byKey.get(name);
    if (key !== 'id') hasContent = true;
    if (!entry) {
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
  if (!node.repeats) {
    if (Array.isArray(value) || Array.isArray(extra)) {
      ctx.issues.push(issue('error', 'structure', 'must be a single value, not an array', [at]));
      return 0;
    }
    visitValue(ctx, tree, node, type, value, extra, at);
    return 1;
  }
  if ((value !== undefined && !Array.isArray(value)) || (extra !== undefined && !Array.isArray(extra))) {
    ctx.issues.push(issue('error', 'structure', 'must be an array (the element repeats)', [at]));
    return 0;
  }
  const values = (value ?? []) as unknown[];
  const extras = (extra ?? []) as unknown[];
  const length = Math.max(values.length, extras.length);
  if (value !== undefined && extra !== undefined && values.length !== extras.length) {
    ctx.issues.push(issue('error', 'structure', `"${type.key}" and "_${type.key}" must have the same length`, [at]));
  }
  const slices = node.slicing && node.slices.length > 0 ? assignSlices(ctx, node, values, at).sliceOf : undefined;
  for (let i = 0; i < length; i++) {
    const target = slices?.[i] ?? node;
    const targetType = target.types[0]?.code === type.code ? target.types[0] : type;
    visitValue(ctx, tree, target, targetType, values[i] ?? undefined, extras[i] ?? undefined, `${at}[${i}]`);
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
      ctx.issues.push(issue('error', 'structure', 'has neither a value nor extensions (null is not a FHIR value)', [location]));
    }
    if (value != null) {
      const problem = primitiveProblem(type.code, value);
      if (problem) ctx.issues.push(issue('error', problem.code, `${type.code} ${problem.text}`, [location]));
      else checkValueRules(ctx, node, type, value, location);
    }
    if (extra != null) {
      if (typeof extra !== 'object' || Array.isArray(extra)) {
        ctx.issues.push(issue('error', 'structure', `the "_" part must be an object with id and extension, not ${describe(extra)}`, [location]));
      } else {
        const element = baseTree('Element')!;
        visitObject(ctx, element, element.root, extra as Record<string, unknown>, location);
      }
    }
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.issues.push(issue('error', 'structure', `must be a JSON object (${type.code}), not ${describe(value)}`, [location]));
    return;
  }
  const object = value as Record<string, unknown>;
  if (type.code === 'Resource' || isR4ResourceType(type.code)) {
    visitInnerResource(ctx, node, object, location);
    return;
  }
  const dataType = node.children.length > 0 ? undefined : baseTree(type.code);
  const contentTarget = node.contentReference ? tree.byPath.get(node.contentReference) : undefined;
  const container = node.children.length > 0 ? node : contentTarget ?? dataType?.root;
  if (!container) {
    ctx.issues.push(issue('error', 'structure', `type ${type.code} is not known`, [location]));
    return;
  }
  visitObject(ctx, contentTarget ? tree : dataType ?? tree, container, object, location);
  if (type.code === 'Extension') checkExtensionShape(ctx, object, location);
  const typeRoot = baseTree(type.code)?.root;
  if (typeRoot) checkInvariants(ctx, typeRoot.constraints, object, location);
  checkInvariants(ctx, (contentTarget ?? node).constraints, object, location);
  checkValueRules(ctx, node, type, object, location);
  // An extension is checked against its definition when it is known (profiles/, stored, or HL7's).
  const declared = type.code === 'Extension' && typeof object.url === 'string' ? [object.url] : [];
  for (const url of [...type.profiles, ...declared]) {
    const profile = ctx.profileTree(url);
    if (profile) visitObject(ctx, profile, profile.root, object, location);
    if (profile) checkInvariants(ctx, profile.root.constraints, object, location);
    else if (url === object.url) noteUnknownExtension(ctx, node, url, location);
  }
}

/** Rules on a value that has the right shape: fixed/pattern, binding, reference. */
function checkValueRules(ctx: WalkContext, node: ElementNode, type: TypeRef, value: unknown, location: string): void {
  if (node.fixed !== undefined || node.pattern !== undefined) checkFixedAndPattern(ctx, node, value, location);
  if (node.binding) checkBinding(ctx, node, type.code, value, location);
  if (type.code === 'Reference') checkReference(ctx, type, value as never, location);
  else if (type.code === 'Coding') checkCoding(ctx, value, location);
}

/** ext-1: an extension has either a value or nested extensions, never both. */
function checkExtensionShape(ctx: WalkContext, extension: Record<string, unknown>, location: string): void {
  const hasValue = Object.keys(extension).some((k) => k.startsWith('value'));
  const hasExtensions = Array.isArray(extension.extension) && extension.extension.length > 0;
  if (hasValue === hasExtensions) {
    ctx.issues.push(issue('error', 'invariant', 'ext-1: Must have either extensions or value[x], not both', [location]));
  }
}
