import type { Issue } from '../outcome.js';
import type { CompiledTree } from './compile.js';

/** What the structure walk carries while it visits one resource. */
export interface WalkContext {
  issues: Issue[];
  /** %resource and %rootResource for invariants. */
  fhirpathEnv: Record<string, unknown>;
  /** Compiled profiles by canonical URL (extensions declared by a profile), when known. */
  profileTree(url: string): CompiledTree | undefined;
}
