import type { ElementDefinition, ElementDefinitionType, StructureDefinition, StructureDefinitionContext } from 'fhir/r4';
import type { Expansion } from '../fhir/value-sets.js';
import { snapshotElements, type DefinitionResolver } from '../fhir/snapshot.js';
import { baseStructureDefinition, baseTypeOfUrl } from '../fhir/structure-definitions.js';
import { compileConstraints, type CompiledConstraint } from './invariants.js';
import { isPrimitiveType } from './primitives.js';

/**
 * A StructureDefinition compiled into a tree the walk can follow without searching: every
 * element knows its JSON keys, cardinality, types, binding, compiled invariants, fixed/pattern
 * values and slices. Compiled once per definition and kept (see compile-cache.ts).
 */
export interface TypeRef {
  code: string;
  /** The JSON key of this type: `deceasedBoolean` for deceased[x], else the element name. */
  key: string;
  /** `_key`: where a primitive's id and extensions go. */
  extKey: string;
  primitive: boolean;
  /** Profiles the value must conform to (extensions declared by a profile). */
  profiles: string[];
  /** For Reference/canonical: the resource types a target may have; undefined means any. */
  targetTypes?: string[];
  /** For Reference/canonical: the profiles a target must conform to (slicing by resolve()). */
  targetProfiles?: string[];
}

export interface ElementNode {
  id: string;
  path: string;
  /** The FHIRPath name: `deceased` for deceased[x]. */
  name: string;
  min: number;
  max: number;
  /** True when the JSON form is an array (the base element repeats). */
  repeats: boolean;
  choice: boolean;
  types: TypeRef[];
  children: ElementNode[];
  /** The children with min > 0, checked even when absent. */
  required: ElementNode[];
  /** JSON key (without `_`) → the child element and the type that key stands for. */
  byKey: Map<string, { node: ElementNode; type: TypeRef }>;
  contentReference?: string;
  /** expansion and syntaxSystem (BCP-47, BCP-13: checked by grammar) are filled in at first use. */
  binding?: { strength: string; valueSet: string; expansion?: Expansion | null; syntaxSystem?: string | null };
  constraints: CompiledConstraint[];
  fixed?: unknown;
  pattern?: unknown;
  slicing?: { discriminators: { type: string; path: string }[]; rules: string; ordered: boolean };
  slices: ElementNode[];
  sliceName?: string;
}

export interface CompiledTree {
  url: string;
  type: string;
  root: ElementNode;
  byPath: Map<string, ElementNode>;
  /** An extension definition's contexts: where the extension may be used. */
  context?: StructureDefinitionContext[];
}

export function compileDefinition(definition: StructureDefinition, resolve: DefinitionResolver): CompiledTree {
  const elements = snapshotElements(definition, resolve);
  const byId = new Map<string, ElementNode>();
  const byPath = new Map<string, ElementNode>();
  let root: ElementNode | undefined;
  for (const element of elements) {
    const node = compileElement(element, resolve);
    byId.set(node.id, node);
    if (!node.sliceName && !byPath.has(node.path)) byPath.set(node.path, node);
    if (!root) {
      root = node;
      continue;
    }
    const lastDot = node.id.lastIndexOf('.');
    const last = node.id.slice(lastDot + 1);
    if (last.includes(':')) {
      byId.get(node.id.slice(0, lastDot + 1) + last.slice(0, last.indexOf(':')))?.slices.push(node);
    } else {
      byId.get(node.id.slice(0, lastDot))?.children.push(node);
    }
  }
  if (!root) throw new Error(`StructureDefinition ${definition.url} has no elements`);
  // R4 types Resource.id as a plain string; its values are still ids (1-64 of [A-Za-z0-9-.]).
  const resourceId = definition.kind === 'resource' ? root.children.find((c) => c.path === `${root!.path}.id`) : undefined;
  if (resourceId?.types[0]) resourceId.types[0] = { ...resourceId.types[0], code: 'id' };
  for (const node of byId.values()) {
    // Required slices make the sliced element required: `identifier` absent misses `identifier:mrn`.
    const sliceMin = node.slices.reduce((sum, slice) => sum + slice.min, 0);
    if (sliceMin > node.min) node.min = sliceMin;
  }
  for (const node of byId.values()) indexKeys(node);
  return { url: definition.url, type: definition.type, root, byPath, context: definition.context };
}

function compileElement(element: ElementDefinition, resolve: DefinitionResolver): ElementNode {
  const path = element.path;
  const name = path.slice(path.lastIndexOf('.') + 1);
  const choice = name.endsWith('[x]');
  const stem = choice ? name.slice(0, -3) : name;
  const baseMax = element.base?.max ?? element.max ?? '*';
  const types = (element.type ?? []).map((type) => typeRef(type, choice ? stem + upperFirst(fhirType(type)) : name, resolve));
  const node: ElementNode = {
    id: element.id ?? path,
    path,
    name: stem,
    min: element.min ?? 0,
    max: element.max === undefined || element.max === '*' ? Infinity : Number(element.max),
    repeats: baseMax !== '1' && baseMax !== '0' && path.includes('.'),
    choice,
    types,
    children: [],
    required: [],
    byKey: new Map(),
    contentReference: element.contentReference?.replace(/^.*#/, ''),
    constraints: compileConstraints(path, element.constraint),
    slices: [],
    sliceName: element.sliceName,
  };
  if (element.binding?.valueSet) node.binding = { strength: element.binding.strength, valueSet: element.binding.valueSet };
  for (const [key, value] of Object.entries(element)) {
    if (key.startsWith('fixed')) node.fixed = value;
    else if (key.startsWith('pattern')) node.pattern = value;
  }
  if (element.slicing?.discriminator?.length) {
    node.slicing = { discriminators: element.slicing.discriminator, rules: element.slicing.rules, ordered: element.slicing.ordered ?? false };
  }
  return node;
}

/** The FHIR type of a type entry: `Element.id` is typed System.String but is a FHIR string. */
function fhirType(type: ElementDefinitionType): string {
  const declared = type.extension?.find((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type');
  if (declared?.valueUrl) return declared.valueUrl;
  if (type.code.startsWith('http://hl7.org/fhirpath/System.')) return 'System.String';
  return type.code;
}

function typeRef(type: ElementDefinitionType, key: string, resolve: DefinitionResolver): TypeRef {
  const code = fhirType(type);
  const ref: TypeRef = { code, key, extKey: `_${key}`, primitive: isPrimitiveType(code), profiles: type.profile ?? [] };
  if (code === 'Reference' || code === 'canonical') {
    if (type.targetProfile) ref.targetProfiles = type.targetProfile;
    const targets = (type.targetProfile ?? []).map((url) => baseTypeOfUrl(url) ?? resolve(url)?.type);
    if (targets.length > 0 && !targets.includes(undefined) && !targets.includes('Resource')) ref.targetTypes = targets as string[];
  }
  return ref;
}

function indexKeys(node: ElementNode): void {
  for (const child of node.children) {
    // An element defined by reference (Consent.provision.provision) has no type of its own.
    if (child.types.length === 0 && child.contentReference) {
      const name = child.path.slice(child.path.lastIndexOf('.') + 1);
      child.types.push({ code: 'BackboneElement', key: name, extKey: `_${name}`, primitive: false, profiles: [] });
    }
    if (child.min > 0) node.required.push(child);
    for (const type of child.types) node.byKey.set(type.key, { node: child, type });
  }
}

function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The compiled base definition of an R4 type (resource or data type), compiled once. */
const baseTrees = new Map<string, CompiledTree | null>();
export function baseTree(type: string): CompiledTree | undefined {
  let tree = baseTrees.get(type);
  if (tree === undefined) {
    const definition = baseStructureDefinition(type);
    tree = definition ? compileDefinition(definition, () => undefined) : null;
    baseTrees.set(type, tree);
  }
  return tree ?? undefined;
}
