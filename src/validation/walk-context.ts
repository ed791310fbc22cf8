import type { Issue } from '../outcome.js';
import type { CompiledTree } from './compile.js';
import type { HostFrame } from './extension-context.js';

/** What the structure walk carries while it visits one resource. */
export interface WalkContext {
  issues: Issue[];
  /** JSON nesting of the value being visited (objects and arrays), bounded by MAX_DEPTH. */
  depth: number;
  /** %resource and %rootResource for invariants. */
  fhirpathEnv: Record<string, unknown>;
  /** Compiled profiles by canonical URL (extensions declared by a profile), when known. */
  profileTree(url: string): CompiledTree | undefined;
  /** The values the walk is inside, innermost last: where an extension found now is used. */
  hosts: HostFrame[];
  /** The Bundles the walk is inside, innermost last. */
  bundles: BundleScope[];
  /** How an extension whose definition is unknown is treated (UNKNOWN_EXTENSIONS). */
  unknownExtensions: UnknownExtensionPolicy;
  /** Set when an extension whose definition is unknown was reported (warn or reject). */
  sawUnknownExtension?: boolean;
  /** The severity of a coding whose display is not the code system's (DISPLAY_MISMATCH). */
  displayMismatch: 'warning' | 'error';
  /** The severity of a reference no FHIR server could resolve: an error for a write, a warning for general validation. */
  unresolvableReference: 'warning' | 'error';
}

export interface BundleScope {
  /** A transaction or batch: its entries may hold conditional references (`Patient?identifier=...`). */
  requests: boolean;
  /** fullUrl → resourceType of the entries. */
  types: Map<string, string>;
}

export type UnknownExtensionPolicy = 'accept' | 'warn' | 'reject';

/** MongoDB stores at most 100 levels of nesting; deeper bodies are refused here, as a client error. */
export const MAX_DEPTH = 90;
