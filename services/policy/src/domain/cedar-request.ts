import { isIP } from 'node:net';
import { PrincipalKind, type Principal } from '@fortress/proto/common/v1/common_pb';
import { zoneKey } from './cedar-schema.js';
import { localClock } from './local-clock.js';
import { ADMIN_ROLES, connectorOf, type ResourceType } from './model.js';

/** One request to authorise, in the policy's own terms. */
export interface DecisionInput {
  principal: Principal;
  action: string;
  resourceType: ResourceType;
  resourceId: string;
  /** From the catalog: whether the tool is destructive. */
  destructive: boolean;
  clientIp: string;
  /** PAT: the request's max_tokens (0 when not known). */
  maxTokens: number;
  now: Date;
}

/** A Cedar entity reference. */
export interface EntityRef {
  type: string;
  id: string;
}

/** A request in Cedar's JSON shapes. */
export interface CedarRequest {
  principal: EntityRef;
  action: EntityRef;
  resource: EntityRef;
  context: Record<string, unknown>;
  entities: Array<{
    uid: EntityRef;
    attrs: Record<string, unknown>;
    parents: EntityRef[];
    tags?: Record<string, string>;
  }>;
}

/**
 * The client's address as Cedar should see it: IPv4-mapped IPv6 (in any spelling) becomes IPv4;
 * junk is dropped. Cedar refuses a dotted IPv4 inside IPv6 and zone ids, failing the whole
 * request, so IPv6 goes in its canonical hex form and a scoped address counts as absent.
 */
export function normaliseIp(raw: string): string | undefined {
  const family = isIP(raw);
  if (family === 4) return raw;
  if (family !== 6 || raw.includes('%')) return undefined;
  const v6 = new URL(`http://[${raw}]`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (!mapped) return v6;
  const [hi, lo] = [parseInt(mapped[1] ?? '', 16), parseInt(mapped[2] ?? '', 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

const RESOURCE_ENTITY: Record<ResourceType, string> = {
  model: 'Fortress::Model',
  tool: 'Fortress::Tool',
  admin: 'Fortress::AdminObject',
};

/** The admin object an admin action is about: `admin:pat_keys.write` → `pat_keys`. */
export function adminObjectOf(action: string): string {
  return action.slice('admin:'.length).split('.')[0] ?? '';
}

/**
 * Builds the Cedar request for a decision: the principal with its roles as parents and its IdP
 * attributes as tags; the resource (a tool is inside its connector); the context with the PAT
 * key, max_tokens, the client IP and one local clock per time zone the org's rules use.
 */
export function cedarRequest(input: DecisionInput, zones: readonly string[]): CedarRequest {
  const p = input.principal;
  const admin = p.kind === PrincipalKind.ADMIN;
  const principal = { type: 'Fortress::Principal', id: p.subjectId || p.apiKeyId || 'anonymous' };
  const parents = p.roles.map((r) => ({
    type:
      admin && (ADMIN_ROLES as readonly string[]).includes(r)
        ? 'Fortress::AdminRole'
        : 'Fortress::Role',
    id: r,
  }));
  const resourceId =
    input.resourceType === 'admin' ? adminObjectOf(input.action) : input.resourceId;
  const resource = { type: RESOURCE_ENTITY[input.resourceType], id: resourceId };
  const context: Record<string, unknown> = { patKey: p.patKeyId, maxTokens: input.maxTokens };
  const ip = normaliseIp(input.clientIp);
  if (ip) context['ip'] = { __extn: { fn: 'ip', arg: ip } };
  zones.forEach((zone, i) => (context[zoneKey(i)] = localClock(zone, input.now)));
  const entities: CedarRequest['entities'] = [
    { uid: principal, attrs: {}, parents, tags: { ...p.attributes } },
  ];
  if (input.resourceType === 'tool') {
    const connector = connectorOf(input.resourceId);
    entities.push({
      uid: resource,
      attrs: { destructive: input.destructive },
      parents: connector ? [{ type: 'Fortress::Connector', id: connector }] : [],
    });
  } else {
    entities.push({ uid: resource, attrs: {}, parents: [] });
  }
  return {
    principal,
    action: { type: 'Fortress::Action', id: input.action },
    resource,
    context,
    entities,
  };
}
