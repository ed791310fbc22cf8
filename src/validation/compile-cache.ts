import type { StructureDefinition } from 'fhir/r4';
import { baseStructureDefinition, baseTypeOfUrl, r4ExtensionDefinition } from '../fhir/structure-definitions.js';
import { compileDefinition, type CompiledTree } from './compile.js';
import type { ProfileRegistry } from './profile-registry.js';

/**
 * Compiled profiles, one per StructureDefinition object. A changed profile is a new object
 * (the registry reloads it), so it is compiled anew and the old tree is garbage-collected.
 */
export class CompileCache {
  private readonly trees = new WeakMap<StructureDefinition, CompiledTree | Error>();

  constructor(private readonly registry: ProfileRegistry) {}

  /** The definition a profile is derived from: another known profile or an R4 base type. */
  readonly resolve = (url: string): StructureDefinition | undefined => {
    const base = baseTypeOfUrl(url);
    return base ? baseStructureDefinition(base) : this.registry.get(url);
  };

  /** The compiled profile, or the Error explaining why it cannot be compiled. */
  compiled(definition: StructureDefinition): CompiledTree | Error {
    let tree = this.trees.get(definition);
    if (!tree) {
      try {
        tree = compileDefinition(definition, this.resolve);
      } catch (error) {
        tree = error instanceof Error ? error : new Error(String(error));
      }
      this.trees.set(definition, tree);
    }
    return tree;
  }

  /** A known profile, or one of HL7's R4 extension definitions. */
  byUrl(url: string): CompiledTree | undefined {
    const definition = this.registry.get(url) ?? r4ExtensionDefinition(url);
    const tree = definition && this.compiled(definition);
    return tree instanceof Error ? undefined : tree;
  }
}
