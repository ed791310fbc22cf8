import type { Parameters, ParametersParameter, Resource } from 'fhir/r4';
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4/index.js';
import { baseStructureDefinition } from '../fhir/structure-definitions.js';
import { FhirError, badRequest, issue } from '../outcome.js';

/**
 * FHIRPath Patch (https://hl7.org/fhir/R4/fhirpatch.html): a Parameters resource whose
 * `operation` parameters add, insert, delete, replace or move elements found by FHIRPath
 * expressions. The expressions are evaluated with the `fhirpath` package; the nodes it returns
 * know their parent object, property name and list index, which is where each change is made.
 */

/** What the fhirpath package returns for an element when internal types are kept. */
interface PathNode {
  data: unknown;
  parentResNode: PathNode | null;
  propName: string | null;
  index: number | null;
  /** The element's path in its type ('HumanName', 'Patient.contact'...). */
  path: string;
}

const unprocessable = (text: string, expression?: string) =>
  new FhirError(422, issue('error', 'processing', text, expression ? [expression] : undefined));

/** The element definition of `name` inside the element at `typePath` ('Patient', 'HumanName', 'Patient.contact'). */
function elementOf(typePath: string, name: string): { repeating: boolean; type?: string } | undefined {
  const root = typePath.split('.')[0];
  const elements = baseStructureDefinition(root)?.snapshot?.element ?? [];
  const path = `${typePath}.${name}`;
  const element = elements.find((e) => e.path === path) ?? elements.find((e) => e.path.endsWith('[x]') && path.startsWith(e.path.slice(0, -3)));
  if (!element) return undefined;
  const code = element.type?.[0]?.code;
  const type = code === 'BackboneElement' || code === 'Element' ? element.path : code;
  return { repeating: element.max === '*' || Number(element.max) > 1, type };
}

/** The value of a `value` part: a primitive (value[x]), a resource, or a complex value built from its own parts. */
function valueOf(part: ParametersParameter, typePath: string | undefined): unknown {
  if (part.resource) return part.resource;
  const primitive = Object.entries(part).find(([key]) => key.startsWith('value'));
  if (primitive) return primitive[1];
  if (!part.part) return undefined;
  const out: Record<string, unknown> = {};
  for (const child of part.part) {
    const info = typePath ? elementOf(typePath, child.name) : undefined;
    const value = valueOf(child, info?.type);
    if (info?.repeating || Array.isArray(out[child.name])) out[child.name] = [...((out[child.name] as unknown[]) ?? []), value];
    else if (child.name in out) out[child.name] = [out[child.name], value];
    else out[child.name] = value;
  }
  return out;
}

interface Operation {
  type: string;
  path: string;
  name?: string;
  value?: ParametersParameter;
  index?: number;
  source?: number;
  destination?: number;
}

function operationsOf(parameters: Parameters): Operation[] {
  const operations = (parameters.parameter ?? []).filter((p) => p.name === 'operation');
  if (operations.length === 0) throw badRequest('The FHIRPath Patch has no "operation" parameter', 'required');
  return operations.map((operation, i) => {
    const parts = operation.part ?? [];
    const part = (name: string) => parts.find((p) => p.name === name);
    const type = part('type')?.valueCode ?? part('type')?.valueString;
    const path = part('path')?.valueString;
    if (!type || !path) throw badRequest(`Operation ${i + 1} of the FHIRPath Patch needs a type and a path`, 'required', [`Parameters.parameter[${i}]`]);
    return {
      type,
      path,
      name: part('name')?.valueString,
      value: part('value'),
      index: part('index')?.valueInteger,
      source: part('source')?.valueInteger,
      destination: part('destination')?.valueInteger,
    };
  });
}

function evaluate(resource: Resource, path: string): PathNode[] {
  try {
    return fhirpath.evaluate(resource, path, undefined, r4Model, { resolveInternalTypes: false }) as PathNode[];
  } catch (error) {
    throw unprocessable(`The FHIRPath expression "${path.slice(0, 200)}" cannot be evaluated: ${(error as Error).message.slice(0, 200)}`, path);
  }
}

function single(nodes: PathNode[], op: Operation): PathNode {
  if (nodes.length !== 1) throw unprocessable(`The path of a ${op.type} operation must match exactly one element; "${op.path}" matches ${nodes.length}`, op.path);
  return nodes[0];
}

/** The list a node is an item of (its parent's property), with its index. */
function listOf(node: PathNode, op: Operation): { list: unknown[]; index: number } {
  const parent = node.parentResNode?.data as Record<string, unknown> | undefined;
  const list = parent && node.propName ? parent[node.propName] : undefined;
  if (!Array.isArray(list) || node.index === null) throw unprocessable(`The path "${op.path}" of a ${op.type} operation must name a list`, op.path);
  return { list, index: node.index };
}

function requireValue(op: Operation, typePath: string | undefined): unknown {
  const value = op.value ? valueOf(op.value, typePath) : undefined;
  if (value === undefined) throw badRequest(`The ${op.type} operation at "${op.path}" has no value`, 'required');
  return value;
}

function apply(resource: Resource, op: Operation): void {
  switch (op.type) {
    case 'add': {
      if (!op.name) throw badRequest(`The add operation at "${op.path}" has no name`, 'required');
      const target = single(evaluate(resource, op.path), op);
      if (typeof target.data !== 'object' || target.data === null) throw unprocessable(`The path "${op.path}" of an add operation must name an element with children`, op.path);
      const container = target.data as Record<string, unknown>;
      const info = elementOf(target.path, op.name);
      const value = requireValue(op, info?.type);
      const existing = container[op.name];
      if (Array.isArray(existing)) existing.push(value);
      else if (existing !== undefined) throw unprocessable(`${op.path}.${op.name} already has a value: use replace`, op.path);
      else container[op.name] = info?.repeating ? [value] : value;
      return;
    }
    case 'insert': {
      const nodes = evaluate(resource, op.path);
      if (op.index === undefined) throw badRequest(`The insert operation at "${op.path}" has no index`, 'required');
      const node = nodes[0];
      if (!node) throw unprocessable(`The path "${op.path}" of an insert operation matches nothing`, op.path);
      const { list } = listOf(node, op);
      if (op.index < 0 || op.index > list.length) throw unprocessable(`Index ${op.index} is outside the list at "${op.path}" (${list.length} items)`, op.path);
      list.splice(op.index, 0, requireValue(op, elementOf(node.parentResNode!.path, node.propName!)?.type));
      return;
    }
    case 'delete': {
      const nodes = evaluate(resource, op.path);
      // Deleting what is not there changes nothing (fhirpatch.html: "no error").
      if (nodes.length === 0) return;
      const node = single(nodes, op);
      const parent = node.parentResNode?.data as Record<string, unknown> | undefined;
      if (!parent || !node.propName) throw unprocessable(`The path "${op.path}" names the whole resource, which cannot be deleted`, op.path);
      const current = parent[node.propName];
      if (Array.isArray(current) && node.index !== null) {
        current.splice(node.index, 1);
        if (current.length === 0) delete parent[node.propName];
      } else delete parent[node.propName];
      return;
    }
    case 'replace': {
      const node = single(evaluate(resource, op.path), op);
      const parent = node.parentResNode?.data as Record<string, unknown> | undefined;
      if (!parent || !node.propName) throw unprocessable(`The path "${op.path}" names the whole resource, which cannot be replaced`, op.path);
      const value = requireValue(op, elementOf(node.parentResNode!.path, node.propName)?.type);
      const current = parent[node.propName];
      if (Array.isArray(current) && node.index !== null) current[node.index] = value;
      else parent[node.propName] = value;
      return;
    }
    case 'move': {
      if (op.source === undefined || op.destination === undefined) throw badRequest(`The move operation at "${op.path}" needs source and destination`, 'required');
      const node = evaluate(resource, op.path)[0];
      if (!node) throw unprocessable(`The path "${op.path}" of a move operation matches nothing`, op.path);
      const { list } = listOf(node, op);
      if (op.source < 0 || op.source >= list.length || op.destination < 0 || op.destination >= list.length) {
        throw unprocessable(`source ${op.source} or destination ${op.destination} is outside the list at "${op.path}" (${list.length} items)`, op.path);
      }
      const [moved] = list.splice(op.source, 1);
      list.splice(op.destination, 0, moved);
      return;
    }
    default:
      throw badRequest(`"${op.type.slice(0, 32)}" is not a FHIRPath Patch operation (add, insert, delete, replace, move)`, 'value');
  }
}

/** The resource with the FHIRPath Patch applied (the input is not changed). */
export function applyFhirPathPatch(resource: Resource, parameters: Parameters): Resource {
  const patched = structuredClone(resource);
  for (const op of operationsOf(parameters)) apply(patched, op);
  return patched;
}
