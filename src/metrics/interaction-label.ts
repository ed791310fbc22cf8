import { interactionOf } from '../security/audit-interaction.js';

/** HL7 restful-interaction codes: the only values a service may give as a request's interaction. */
const INTERACTION_CODES = new Set([
  'read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'history-system',
  'create', 'search', 'search-type', 'search-system', 'capabilities', 'transaction', 'batch', 'operation',
]);

/** The last segment of an operation's route template: `$validate`, or a parameter (`$:operation`). */
const OPERATION = /\/(\$[A-Za-z][\w-]*)$/;

export interface InteractionLabels {
  /**
   * The interaction label of a request: what the service said it was (a bundle's batch or
   * transaction, a conditional update), else what its route is; an operation is named by its
   * route (`$validate`); a route no interaction has (unmatched paths) is `unknown`.
   */
  of(method: string, routeUrl: string | undefined, given: string | undefined): string;
}

/**
 * Labels are worked out once per route template and method and remembered (route templates are
 * a fixed set, so the memory is bounded), so a request costs a map lookup.
 */
export function interactionLabels(basePath: string): InteractionLabels {
  const byRoute = new Map<string, string>();
  const ofRoute = (method: string, routeUrl: string): string => {
    const key = `${method} ${routeUrl}`;
    let label = byRoute.get(key);
    if (label === undefined) {
      const { code } = interactionOf(method, routeUrl, basePath);
      label = code === 'operation' ? (OPERATION.exec(routeUrl)?.[1] ?? 'operation') : (code ?? 'unknown');
      byRoute.set(key, label);
    }
    return label;
  };
  return {
    of(method, routeUrl, given) {
      if (given !== undefined && INTERACTION_CODES.has(given)) return given;
      return routeUrl === undefined ? 'unknown' : ofRoute(method, routeUrl);
    },
  };
}
