import { MODEL_ACTIONS, NAME_PATTERN, WILDCARD, type Grant, type RoleModel } from './model.js';

/** The Cedar schema every org's policies are validated against. */
export const CEDAR_SCHEMA = `namespace Fortress {
  entity Role;
  entity Principal in [Role];
  entity Model;
  action ${MODEL_ACTIONS.map((a) => JSON.stringify(a)).join(', ')} appliesTo {
    principal: [Principal],
    resource: [Model],
  };
}`;

const actionList = `[${MODEL_ACTIONS.map((a) => `Fortress::Action::${JSON.stringify(a)}`).join(', ')}]`;

/**
 * The id of the Cedar policy compiled from a grant: it names the rule in every decision. The
 * separator "/" cannot occur in names (NAME_PATTERN), so distinct grants never share an id.
 */
export function grantPolicyId(role: string, grant: Grant): string {
  return `role/${role}/${grant.effect}/${grant.resourceType}/${grant.resourceId}`;
}

/** One grant as a Cedar policy: allow → permit, deny → forbid. */
function compileGrant(role: string, grant: Grant): string {
  if (
    !NAME_PATTERN.test(role) ||
    (grant.resourceId !== WILDCARD && !NAME_PATTERN.test(grant.resourceId))
  ) {
    // Validation happens before compilation; this guards the string embedding regardless.
    throw new Error('refusing to compile a name outside the allowed pattern');
  }
  const effect = grant.effect === 'allow' ? 'permit' : 'forbid';
  const resource =
    grant.resourceId === WILDCARD
      ? 'resource is Fortress::Model'
      : `resource == Fortress::Model::${JSON.stringify(grant.resourceId)}`;
  return `${effect} (principal in Fortress::Role::${JSON.stringify(role)}, action in ${actionList}, ${resource});`;
}

/**
 * Compiles an org's roles into Cedar policies keyed by rule id. Nothing is permitted that no
 * grant permits (Cedar's default deny), and a forbid beats any permit.
 */
export function compileRoles(roles: RoleModel[]): Record<string, string> {
  const policies: Record<string, string> = {};
  for (const role of roles) {
    for (const grant of role.grants)
      policies[grantPolicyId(role.name, grant)] = compileGrant(role.name, grant);
  }
  return policies;
}
