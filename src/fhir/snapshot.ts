import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { baseStructureDefinition } from './structure-definitions.js';

/**
 * The snapshot of a constraint profile that ships only a differential: the base snapshot with
 * each differential element merged in by id. Elements inside data types (`content.attachment.
 * contentType`) unfold the data type's elements first; slices (`identifier:mrn`) are added
 * after the element they slice, each with a copy of the element's children. Throws an Error with a readable message when it cannot.
 */
export type DefinitionResolver = (url: string) => StructureDefinition | undefined;

export function snapshotElements(definition: StructureDefinition, resolve: DefinitionResolver, depth = 0): ElementDefinition[] {
  if (definition.snapshot?.element?.length) return definition.snapshot.element;
  if (depth > 10) throw new Error('baseDefinition chain is too long (a loop?)');
  if (!definition.baseDefinition) throw new Error('a profile without snapshot needs a baseDefinition');
  const base = resolve(definition.baseDefinition);
  if (!base) throw new Error(`baseDefinition ${definition.baseDefinition} is not known`);
  const elements = snapshotElements(base, resolve, depth + 1).map((e) => structuredClone(e));
  for (const diff of definition.differential?.element ?? []) {
    const id = diff.id ?? diff.path;
    let index = elements.findIndex((e) => (e.id ?? e.path) === id);
    if (index < 0) index = addElement(elements, id);
    elements[index] = merge(elements[index], diff);
  }
  return elements;
}

function pathOf(id: string): string {
  return id.replace(/:[^.]+/g, '');
}

function indexOfId(elements: ElementDefinition[], id: string): number {
  return elements.findIndex((e) => (e.id ?? e.path) === id);
}

/** The index after the element `id` and everything below it (children and slices). */
function endOfSubtree(elements: ElementDefinition[], start: number, id: string): number {
  let end = start + 1;
  while (end < elements.length) {
    const other = elements[end].id ?? elements[end].path;
    if (!other.startsWith(`${id}.`) && !other.startsWith(`${id}:`)) break;
    end++;
  }
  return end;
}

function addElement(elements: ElementDefinition[], id: string): number {
  const lastDot = id.lastIndexOf('.');
  const last = id.slice(lastDot + 1);
  if (last.includes(':')) {
    const slicedId = `${id.slice(0, lastDot + 1)}${last.slice(0, last.indexOf(':'))}`;
    let sliced = indexOfId(elements, slicedId);
    if (sliced < 0) sliced = addElement(elements, slicedId);
    const slice: ElementDefinition = { ...structuredClone(elements[sliced]), id, sliceName: last.slice(last.indexOf(':') + 1) };
    delete slice.slicing;
    const at = endOfSubtree(elements, sliced, slicedId);
    elements.splice(at, 0, slice, ...childrenForSlice(elements, sliced, slicedId, id));
    return at;
  }
  const parentId = id.slice(0, lastDot);
  let parent = indexOfId(elements, parentId);
  if (parent < 0) parent = addElement(elements, parentId);
  unfoldDataType(elements, parent, parentId);
  const index = indexOfId(elements, id);
  if (index < 0) throw new Error(`${pathOf(id)} is not an element of the base definition`);
  return index;
}

/**
 * A slice starts as a copy of everything the profile says below the sliced element
 * (`identifier.system` min 1 holds in every slice of `identifier`); the differential's
 * elements under the slice (`identifier:mrn.system`) then change the copy only.
 */
function childrenForSlice(elements: ElementDefinition[], sliced: number, slicedId: string, sliceId: string): ElementDefinition[] {
  const copies: ElementDefinition[] = [];
  for (let i = sliced + 1; i < elements.length; i++) {
    const id = elements[i].id ?? elements[i].path;
    if (!id.startsWith(`${slicedId}.`)) break; // the children come first, then the element's other slices
    const copy = structuredClone(elements[i]);
    copy.id = `${sliceId}${id.slice(slicedId.length)}`;
    copies.push(copy);
  }
  return copies;
}

/** Adds the elements of a data type below `parentId`, when the snapshot has none there yet. */
function unfoldDataType(elements: ElementDefinition[], parent: number, parentId: string): void {
  const next = elements[parent + 1];
  if (next && (next.id ?? next.path).startsWith(`${parentId}.`)) return;
  const types = elements[parent].type ?? [];
  if (types.length !== 1) throw new Error(`${pathOf(parentId)} has ${types.length} types: constrain its type before its children`);
  const dataType = baseStructureDefinition(types[0].code);
  const inner = dataType?.snapshot?.element.slice(1) ?? [];
  const parentPath = elements[parent].path;
  const copies = inner.map((e) => {
    const copy = structuredClone(e);
    const rest = (e.id ?? e.path).slice(types[0].code.length);
    copy.id = `${parentId}${rest}`;
    copy.path = `${parentPath}${e.path.slice(types[0].code.length)}`;
    return copy;
  });
  elements.splice(parent + 1, 0, ...copies);
}

function merge(base: ElementDefinition, diff: ElementDefinition): ElementDefinition {
  const merged: ElementDefinition = { ...base };
  for (const [key, value] of Object.entries(diff)) {
    if (key === 'id' || key === 'path' || key === 'base') continue;
    if (key === 'constraint') merged.constraint = [...(base.constraint ?? []), ...(value as ElementDefinition['constraint'] & [])];
    else (merged as unknown as Record<string, unknown>)[key] = value;
  }
  return merged;
}
