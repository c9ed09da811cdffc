import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  ConnectorStatus,
  DeleteConnectorResponseSchema,
  DeletePatLimitsResponseSchema,
  PutConnectorResponseSchema,
  SetConnectorStatusResponseSchema,
  DeleteRoleResponseSchema,
  DeleteRuleResponseSchema,
  GetPolicyResponseSchema,
  PutPatLimitsResponseSchema,
  PutRedactionResponseSchema,
  PutRoleResponseSchema,
  PutRuleResponseSchema,
  SetToggleResponseSchema,
  type PolicyAdminService,
} from '@fortress/proto/policy/v1/policy_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@fortress/kit/errors';
import { requireId, requireText } from '@fortress/kit/validate';
import type { CedarEngine } from '../adapters/cedar/cedar-engine.js';
import type { PolicyStore } from '../adapters/pg/policy-store.js';
import { compileModel } from '../domain/compile.js';
import {
  CONNECTOR_ID_PATTERN,
  NAME_PATTERN,
  type ConnectorModel,
  type OrgModel,
} from '../domain/model.js';
import type { PolicyCache } from '../domain/policy-cache.js';
import {
  connectorConfigFrom,
  connectorStatusFrom,
  patLimitsFrom,
  redactionFrom,
  roleFrom,
  ruleFrom,
  toggleFrom,
} from './model-from-proto.js';
import { connectorToProto, modelToProto } from './model-to-proto.js';
import { changeEnvelope, notificationEnvelope } from './policy-events.js';

/** What the admin handlers need. */
export interface PolicyAdminDeps {
  store: PolicyStore;
  cache: PolicyCache;
  engine: CedarEngine;
  /** Publishes a change event and resolves once it is stored (JetStream ack). */
  publishChange: (envelope: EventEnvelope) => Promise<void>;
  /** Tells every replica that an org's policy changed. */
  announce: (orgId: string, version: number) => void;
  /** Publishes a webhook notification (connector.killed); best effort. */
  notify?: (envelope: EventEnvelope) => void;
  now?: () => Date;
}

/** One entity's change, for the change log. */
interface Change {
  next: OrgModel;
  type: string;
  id: string;
  operation: 'create' | 'update' | 'delete' | 'revoke' | 'kill' | 'enable' | 'status';
  before: unknown;
  after: unknown;
}

/** Replaces (or with `item` undefined removes) the element of `list` with the key. */
function upsert<T>(
  list: T[],
  key: (t: T) => string,
  id: string,
  item: T | undefined,
): { next: T[]; before: T | undefined } {
  const before = list.find((t) => key(t) === id);
  const rest = list.filter((t) => key(t) !== id);
  return {
    next: item === undefined ? rest : [...rest, item].sort((a, b) => key(a).localeCompare(key(b))),
    before,
  };
}

/**
 * The PolicyAdminService handlers. Every edit is validated field by field, compiled and
 * validated as Cedar against the schema; a change that does not validate is refused with the
 * validator's errors and changes nothing. A saved change is a change event (published before
 * the commit) and is announced to every replica.
 */
export function createPolicyAdminRpc(
  deps: PolicyAdminDeps,
): Partial<ServiceImpl<typeof PolicyAdminService>> {
  const apply = async (
    orgIdRaw: string,
    actorRaw: string,
    change: (current: OrgModel) => Change,
  ): Promise<string> => {
    const orgId = requireId('org_id', orgIdRaw, 'org');
    const actor = requireText('actor_id', actorRaw, 128);
    let entity: Change | undefined;
    const edit = await deps.store.edit(
      orgId,
      actor,
      (current) => {
        entity = change(current);
        let problems: string[];
        try {
          problems = deps.engine.validate(compileModel(entity.next));
        } catch (err) {
          problems = [(err as Error).message];
        }
        if (problems.length)
          throw new InvalidArgumentError(
            entity.type,
            `the policy does not validate: ${problems.join('; ')}`,
          );
        return entity.next;
      },
      async () => {
        if (entity) await deps.publishChange(changeEnvelope(orgId, actor, entity));
      },
    );
    await deps.cache.refresh(orgId, edit.version);
    deps.announce(orgId, edit.version);
    return String(edit.version);
  };

  const op = (before: unknown, removing: boolean) =>
    removing ? 'delete' : before === undefined ? 'create' : 'update';
  const mustExist = (before: unknown, what: string) => {
    if (before === undefined) throw new NotFoundError('not_found', `${what} does not exist`);
  };

  const now = () => (deps.now ?? (() => new Date()))().toISOString();
  const connectorId = (id: string) => {
    if (!CONNECTOR_ID_PATTERN.test(id))
      throw new InvalidArgumentError('connector_id', `"${id.slice(0, 40)}" is not a connector id`);
    return id;
  };

  return {
    async getPolicy(req) {
      const policy = await deps.store.load(requireId('org_id', req.orgId, 'org'));
      return create(GetPolicyResponseSchema, {
        model: modelToProto(policy.model),
        version: String(policy.version),
      });
    },

    async putRole(req) {
      const role = roleFrom(req.role);
      const version = await apply(req.orgId, req.actorId, (m) => {
        const { next, before } = upsert(m.roles, (r) => r.name, role.name, role);
        return {
          next: { ...m, roles: next },
          type: 'role',
          id: role.name,
          operation: op(before, false),
          before,
          after: role,
        };
      });
      return create(PutRoleResponseSchema, { version });
    },

    async deleteRole(req) {
      if (!NAME_PATTERN.test(req.name))
        throw new InvalidArgumentError('name', 'name is not a role name');
      const version = await apply(req.orgId, req.actorId, (m) => {
        const { next, before } = upsert(m.roles, (r) => r.name, req.name, undefined);
        mustExist(before, `role "${req.name}"`);
        return {
          next: { ...m, roles: next },
          type: 'role',
          id: req.name,
          operation: 'delete',
          before,
          after: undefined,
        };
      });
      return create(DeleteRoleResponseSchema, { version });
    },

    async setToggle(req) {
      const toggle = toggleFrom(req.toggle);
      const key = (t: typeof toggle) => `${t.targetType}/${t.targetId}`;
      const version = await apply(req.orgId, req.actorId, (m) => {
        const { next, before } = upsert(m.toggles, key, key(toggle), toggle);
        return {
          next: { ...m, toggles: next },
          type: 'toggle',
          id: key(toggle),
          operation: op(before, false),
          before,
          after: toggle,
        };
      });
      return create(SetToggleResponseSchema, { version });
    },

    async putRule(req) {
      const rule = ruleFrom(req.rule);
      const version = await apply(req.orgId, req.actorId, (m) => {
        const { next, before } = upsert(m.rules, (r) => r.id, rule.id, rule);
        return {
          next: { ...m, rules: next },
          type: 'rule',
          id: rule.id,
          operation: op(before, false),
          before,
          after: rule,
        };
      });
      return create(PutRuleResponseSchema, { version });
    },

    async deleteRule(req) {
      if (!NAME_PATTERN.test(req.ruleId))
        throw new InvalidArgumentError('rule_id', 'rule_id is not a rule id');
      const version = await apply(req.orgId, req.actorId, (m) => {
        const { next, before } = upsert(m.rules, (r) => r.id, req.ruleId, undefined);
        mustExist(before, `rule "${req.ruleId}"`);
        return {
          next: { ...m, rules: next },
          type: 'rule',
          id: req.ruleId,
          operation: 'delete',
          before,
          after: undefined,
        };
      });
      return create(DeleteRuleResponseSchema, { version });
    },

    async putPatLimits(req) {
      const asked = patLimitsFrom(req.limits);
      const version = await apply(req.orgId, req.actorId, (m) => {
        const current = m.patLimits.find((l) => l.patKeyId === asked.patKeyId);
        if (current?.revokedAt && !asked.revokedAt)
          throw new FailedPreconditionError(
            'pat_key_revoked',
            `PAT key "${asked.patKeyId}" is revoked; a revocation cannot be undone`,
          );
        const limits = {
          ...asked,
          createdAt: current?.createdAt ?? asked.createdAt ?? new Date().toISOString(),
          ...(current?.revokedAt ? { revokedAt: current.revokedAt } : {}),
        };
        const { next, before } = upsert(m.patLimits, (l) => l.patKeyId, limits.patKeyId, limits);
        return {
          next: { ...m, patLimits: next },
          type: 'pat_key',
          id: limits.patKeyId,
          operation: limits.revokedAt && !before?.revokedAt ? 'revoke' : op(before, false),
          before,
          after: limits,
        };
      });
      return create(PutPatLimitsResponseSchema, { version });
    },

    async deletePatLimits(req) {
      if (!req.patKeyId.startsWith('pat_') || !NAME_PATTERN.test(req.patKeyId))
        throw new InvalidArgumentError('pat_key_id', 'pat_key_id is not a PAT key id');
      const version = await apply(req.orgId, req.actorId, (m) => {
        const { next, before } = upsert(m.patLimits, (l) => l.patKeyId, req.patKeyId, undefined);
        mustExist(before, `limits of "${req.patKeyId}"`);
        return {
          next: { ...m, patLimits: next },
          type: 'pat_key',
          id: req.patKeyId,
          operation: 'delete',
          before,
          after: undefined,
        };
      });
      return create(DeletePatLimitsResponseSchema, { version });
    },

    async putRedaction(req) {
      if (!NAME_PATTERN.test(req.role))
        throw new InvalidArgumentError('role', 'role is not a role name');
      if (!NAME_PATTERN.test(req.connectorId))
        throw new InvalidArgumentError('connector_id', 'connector_id is not a connector id');
      const profile = redactionFrom(req.profile);
      const key = `${req.role}/${req.connectorId}`;
      const removing = profile.kinds.length === 0 && profile.custom.length === 0;
      const version = await apply(req.orgId, req.actorId, (m) => {
        const before = m.redaction[key];
        const redaction = { ...m.redaction };
        if (removing) delete redaction[key];
        else redaction[key] = profile;
        return {
          next: { ...m, redaction },
          type: 'redaction',
          id: key,
          operation: op(before, removing),
          before,
          after: removing ? undefined : profile,
        };
      });
      return create(PutRedactionResponseSchema, { version });
    },

    async putConnector(req) {
      const config = connectorConfigFrom(req.connector);
      let saved: ConnectorModel | undefined;
      const version = await apply(req.orgId, req.actorId, (m) => {
        const before = m.connectors.find((c) => c.id === config.id);
        if (before && before.type !== config.type)
          throw new FailedPreconditionError(
            'connector_type_fixed',
            `connector "${config.id}" is a ${before.type} connector; its type cannot change`,
          );
        const at = now();
        saved = before
          ? { ...before, ...config }
          : { ...config, status: 'pending', statusReason: '', statusChangedAt: at, createdAt: at };
        const { next } = upsert(m.connectors, (c) => c.id, config.id, saved);
        return {
          next: { ...m, connectors: next },
          type: 'connector',
          id: config.id,
          operation: before ? 'update' : 'create',
          before,
          after: saved,
        };
      });
      return create(PutConnectorResponseSchema, {
        version,
        ...(saved ? { connector: connectorToProto(saved) } : {}),
      });
    },

    async setConnectorStatus(req) {
      const id = connectorId(req.connectorId);
      const status = connectorStatusFrom(req.status);
      if (!status || status === 'pending')
        throw new InvalidArgumentError('status', 'status must be ACTIVE, OFFLINE or KILLED');
      const expected =
        req.expectedStatus === ConnectorStatus.UNSPECIFIED
          ? undefined
          : connectorStatusFrom(req.expectedStatus);
      const reason = req.reason.trim().slice(0, 512);
      const stale = new FailedPreconditionError('status_changed', 'the connector status changed');
      let saved: ConnectorModel | undefined;
      let version: string;
      try {
        version = await apply(req.orgId, req.actorId, (m) => {
          const before = m.connectors.find((c) => c.id === id);
          mustExist(before, `connector "${id}"`);
          if (!before) throw stale;
          if (expected && before.status !== expected) throw stale;
          saved = { ...before, status, statusReason: reason, statusChangedAt: now() };
          const { next } = upsert(m.connectors, (c) => c.id, id, saved);
          return {
            next: { ...m, connectors: next },
            type: 'connector',
            id,
            operation:
              status === 'killed' ? 'kill' : before.status === 'killed' ? 'enable' : 'status',
            before,
            after: saved,
          };
        });
      } catch (err) {
        if (err !== stale) throw err;
        const current = (
          await deps.store.load(requireId('org_id', req.orgId, 'org'))
        ).model.connectors.find((c) => c.id === id);
        return create(SetConnectorStatusResponseSchema, {
          applied: false,
          ...(current ? { connector: connectorToProto(current) } : {}),
        });
      }
      if (status === 'killed' && deps.notify)
        deps.notify(
          notificationEnvelope(req.orgId, 'connector.killed', {
            connectorId: id,
            reason,
            actorId: req.actorId,
          }),
        );
      return create(SetConnectorStatusResponseSchema, {
        version,
        applied: true,
        ...(saved ? { connector: connectorToProto(saved) } : {}),
      });
    },

    async deleteConnector(req) {
      const id = connectorId(req.connectorId);
      const version = await apply(req.orgId, req.actorId, (m) => {
        const { next, before } = upsert(m.connectors, (c) => c.id, id, undefined);
        mustExist(before, `connector "${id}"`);
        // Its redaction profiles go with it; its grants stay (they name tools, harmless alone).
        const redaction = Object.fromEntries(
          Object.entries(m.redaction).filter(([k]) => !k.endsWith(`/${id}`)),
        );
        return {
          next: { ...m, connectors: next, redaction },
          type: 'connector',
          id,
          operation: 'delete',
          before,
          after: undefined,
        };
      });
      return create(DeleteConnectorResponseSchema, { version });
    },
  };
}
