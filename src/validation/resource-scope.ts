import type { ElementNode } from './compile.js';
import type { BundleScope, WalkContext } from './walk-context.js';

/**
 * What the walk switches when it enters a resource: `%resource` becomes that resource and
 * `%rootResource` (where `#id` references resolve) becomes it too unless it is contained; a
 * Bundle adds its entries' fullUrls, against which references inside it resolve. The function
 * returned restores the outer scope.
 */
export function enterResource(ctx: WalkContext, resource: Record<string, unknown>, contained: boolean): () => void {
  const env = ctx.fhirpathEnv;
  ctx.fhirpathEnv = { ...env, resource, rootResource: contained ? env.rootResource : resource };
  const entries = resource.resourceType === 'Bundle' ? bundleScope(resource) : undefined;
  if (entries) ctx.bundles.push(entries);
  return () => {
    ctx.fhirpathEnv = env;
    if (entries) ctx.bundles.pop();
  };
}

/** A Bundle's type and the fullUrl → resourceType of each entry that has both (malformed entries are the structure walk's to report). */
function bundleScope(bundle: Record<string, unknown>): BundleScope {
  const types = new Map<string, string>();
  const scope = { requests: bundle.type === 'transaction' || bundle.type === 'batch', types };
  if (!Array.isArray(bundle.entry)) return scope;
  for (const entry of bundle.entry) {
    const fullUrl = (entry as { fullUrl?: unknown } | null)?.fullUrl;
    const type = (entry as { resource?: { resourceType?: unknown } } | null)?.resource?.resourceType;
    if (typeof fullUrl === 'string' && typeof type === 'string' && !types.has(fullUrl)) types.set(fullUrl, type);
  }
  return scope;
}

/** The type of the resource a reference names inside the Bundles around it, innermost first. */
export function bundleTargetType(ctx: WalkContext, reference: string): string | undefined {
  for (let i = ctx.bundles.length - 1; i >= 0; i--) {
    const type = ctx.bundles[i].types.get(reference);
    if (type !== undefined) return type;
  }
  return undefined;
}

/** `Type.contained`: the element of a resource that holds its contained resources. */
export function isContainedElement(node: ElementNode): boolean {
  const dot = node.path.indexOf('.');
  return dot > 0 && dot === node.path.lastIndexOf('.') && node.path.endsWith('.contained');
}
