import type { Issue } from '../outcome.js';
import type { CompiledTree } from './compile.js';

/** What the structure walk carries while it visits one resource. */
export interface WalkContext {
  issues: Issue[];
  /** JSON nesting of the value being visited (objects and arrays), bounded by MAX_DEPTH. */
  depth: number;
  /** %resource and %rootResource for invariants. */
  fhirpathEnv: Record<string, unknown>;
  /** Compiled profiles by canonical URL (extensions declared by a profile), when known. */
  profileTree(url: string): CompiledTree | undefined;
}

/** MongoDB stores at most 100 levels of nesting; deeper bodies are refused here, as a client error. */
export const MAX_DEPTH = 90;
