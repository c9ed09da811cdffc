/** Allow or deny. */
export type Effect = 'allow' | 'deny';

/** One grant of a role: allow or deny a resource (a model id, or "*" for every model). */
export interface Grant {
  resourceType: 'model';
  resourceId: string;
  effect: Effect;
}

/** A named role and its grants. */
export interface RoleModel {
  name: string;
  description: string;
  grants: Grant[];
}

/** An org's policy model at one version. */
export interface OrgPolicy {
  orgId: string;
  version: number;
  roles: RoleModel[];
}

/** The actions a model grant covers. */
export const MODEL_ACTIONS = ['pat:messages.create', 'pat:messages.count_tokens'] as const;

/** Names we accept for roles and resources: they are embedded in Cedar string literals. */
export const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const WILDCARD = '*';
