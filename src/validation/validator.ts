import type { StructureDefinition } from 'fhir/r4';
import type { DefinitionSource } from '../store/index.js';
import { isR4ResourceType } from '../fhir/structure-definitions.js';
import { issue, type Issue } from '../outcome.js';
import { baseTree } from './compile.js';
import { CompileCache } from './compile-cache.js';
import type { ValidateOptions, Validator } from './index.js';
import { describe } from './primitives.js';
import { ProfileRegistry } from './profile-registry.js';
import { walkResource } from './structure.js';
import type { UnknownExtensionPolicy, WalkContext } from './walk-context.js';

export interface ValidatorOptions {
  /** Where stored StructureDefinitions live; without it only folder profiles are known. */
  /** Where stored StructureDefinitions come from (none: the profiles folder only). */
  definitions?: DefinitionSource;
  /** Folder of StructureDefinitions loaded at start-up. */
  profilesDir?: string;
  /** An unknown meta.profile is an error (the default; false: a warning). */
  requireKnownProfiles?: boolean;
  /** Profiles every resource of a type must conform to, by type. */
  requiredProfiles?: Record<string, string[]>;
  /** An extension whose definition is unknown: accepted (the default), a warning or an error. */
  unknownExtensions?: UnknownExtensionPolicy;
  /** A coding's display that is not its code system's: a warning (the default) or an error. */
  displayMismatch?: 'warning' | 'error';
}

const BASE_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

export function createValidator(options: ValidatorOptions = {}): Validator {
  const registry = new ProfileRegistry(options.definitions);
  if (options.profilesDir) registry.loadFolder(options.profilesDir);
  const cache = new CompileCache(registry);

  async function validate(resource: unknown, validateOptions: ValidateOptions = {}, reloaded = false): Promise<Issue[]> {
    if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
      return [issue('error', 'structure', 'The body must be a JSON object (a FHIR resource)')];
    }
    const body = resource as Record<string, unknown>;
    const type = body.resourceType;
    if (typeof type !== 'string' || !isR4ResourceType(type)) {
      return [issue('error', 'structure', `resourceType ${describe(type)} is not an R4 resource type`, ['resourceType'])];
    }
    const ctx: WalkContext = {
      issues: [],
      depth: 0,
      fhirpathEnv: { resource: body, rootResource: body },
      profileTree: (url) => cache.byUrl(url),
      hosts: [],
      bundles: [],
      unknownExtensions: options.unknownExtensions ?? 'accept',
      displayMismatch: options.displayMismatch ?? 'warning',
      unresolvableReference: validateOptions.purpose === 'general' ? 'warning' : 'error',
    };
    walkResource(ctx, baseTree(type)!, body, type);
    // An extension defined through the API a moment ago may be unknown here only because this instance has not reloaded yet.
    if (ctx.sawUnknownExtension && !reloaded && (await registry.refresh())) return validate(resource, validateOptions, true);

    const claimed = Array.isArray((body.meta as { profile?: unknown })?.profile) ? ((body.meta as { profile: unknown[] }).profile) : [];
    const demanded = [...(validateOptions.profiles ?? []), ...(options.requiredProfiles?.[type] ?? [])];
    if (claimed.length > 0 || demanded.length > 0) {
      await registry.refresh();
      claimed.forEach((url, i) => {
        if (typeof url === 'string') checkProfile(ctx, body, url, `${type}.meta.profile[${i}]`, options.requireKnownProfiles ?? true);
      });
      for (const url of demanded) checkProfile(ctx, body, url, type, true);
    }
    if (type === 'StructureDefinition') checkDefinitionCompiles(ctx, body as unknown as StructureDefinition);
    return dedupe(ctx.issues);
  }

  function checkProfile(ctx: WalkContext, resource: Record<string, unknown>, url: string, location: string, mustBeKnown: boolean): void {
    const type = resource.resourceType as string;
    if (url.split('|')[0] === `${BASE_PREFIX}${type}`) return; // the base definition, already checked
    const definition = registry.get(url);
    if (!definition) {
      const text = `profile ${url} is not known to this server, so the resource was not checked against it`;
      ctx.issues.push(issue(mustBeKnown ? 'error' : 'warning', 'not-supported', text, [location]));
      return;
    }
    if (definition.type !== type) {
      ctx.issues.push(issue('error', 'invalid', `profile ${url} is for ${definition.type}, not for ${type}`, [location]));
      return;
    }
    const tree = cache.compiled(definition);
    if (tree instanceof Error) {
      ctx.issues.push(issue('error', 'processing', `profile ${url} cannot be used: ${tree.message}`, [location]));
      return;
    }
    try {
      walkResource(ctx, tree, resource, type);
    } catch (error) {
      // Profiles are data sent by clients: one the walk cannot follow is their problem to fix, not a 500.
      const text = `profile ${url} could not be evaluated: ${(error as Error).message}`;
      ctx.issues.push(issue('error', 'processing', text, [location]));
    }
  }

  /** A stored profile must be usable: its type known and its differential applicable. */
  function checkDefinitionCompiles(ctx: WalkContext, definition: StructureDefinition): void {
    if (ctx.issues.some((i) => i.severity === 'error') || definition.derivation !== 'constraint') return;
    const tree = cache.compiled(structuredClone(definition));
    if (tree instanceof Error) {
      ctx.issues.push(issue('error', 'processing', `this profile cannot be applied: ${tree.message}`, ['StructureDefinition']));
    }
  }

  return {
    validate,
    profilesChanged: async () => registry.changed(),
  };
}

/** A profile repeats the base rules: the same problem found twice is reported once. */
function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.severity}|${i.code}|${i.expression?.[0]}|${i.diagnostics}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
