import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  ConnectorSchema,
  ConnectorStatus,
  Effect,
  PolicyModelSchema,
  RedactionKind,
  type Connector,
  type PolicyModel,
  type RuleSchema,
} from '@fortress/proto/policy/v1/policy_pb';
import type { ConnectorModel, OrgModel, RedactionProfile, Rule } from '../domain/model.js';

const STATUS = {
  pending: ConnectorStatus.PENDING,
  active: ConnectorStatus.ACTIVE,
  offline: ConnectorStatus.OFFLINE,
  killed: ConnectorStatus.KILLED,
} as const;

/** A connector as its protobuf message. */
export function connectorToProto(c: ConnectorModel): Connector {
  return create(ConnectorSchema, {
    id: c.id,
    type: c.type,
    label: c.label,
    baseUrl: c.baseUrl,
    settings: c.settings,
    status: STATUS[c.status],
    statusReason: c.statusReason,
    statusChangedAt: timestampFromDate(new Date(c.statusChangedAt)),
    createdAt: timestampFromDate(new Date(c.createdAt)),
  });
}

const redaction = (p: RedactionProfile) => ({
  kinds: p.kinds.map(
    (k) =>
      RedactionKind[k.toUpperCase() as keyof typeof RedactionKind] ?? RedactionKind.UNSPECIFIED,
  ),
  custom: p.custom,
});

function rule(r: Rule): MessageInitShape<typeof RuleSchema> {
  const scope = { scopeType: r.scope.type, scopeId: r.scope.type === 'org' ? '' : r.scope.id };
  const c = r.condition;
  switch (c.kind) {
    case 'time_window':
      return {
        id: r.id,
        ...scope,
        condition: {
          case: 'timeWindow',
          value: {
            days: c.days,
            startMinute: c.startMinute,
            endMinute: c.endMinute,
            timeZone: c.timeZone,
          },
        },
      };
    case 'rate_limit':
      return {
        id: r.id,
        ...scope,
        condition: {
          case: 'rateLimit',
          value: { limit: c.limit, windowSeconds: c.windowSeconds, per: c.per },
        },
      };
    case 'ip':
      return {
        id: r.id,
        ...scope,
        condition: { case: 'ipRestriction', value: { cidrs: c.cidrs } },
      };
    case 'attribute':
      return {
        id: r.id,
        ...scope,
        condition: {
          case: 'attribute',
          value: { attribute: c.attribute, operator: c.operator, values: c.values },
        },
      };
  }
}

/** An org's model as its protobuf message (GetPolicy). */
export function modelToProto(m: OrgModel): PolicyModel {
  return create(PolicyModelSchema, {
    roles: m.roles.map((r) => ({
      name: r.name,
      description: r.description,
      grants: r.grants.map((g) => ({
        resourceType: g.resourceType,
        resourceId: g.resourceId,
        effect: g.effect === 'allow' ? Effect.ALLOW : Effect.DENY,
      })),
    })),
    toggles: m.toggles,
    rules: m.rules.map(rule),
    patLimits: m.patLimits.map(({ revokedAt, createdAt, ...l }) => ({
      ...l,
      monthlySpendCapMicrousd: BigInt(l.monthlySpendCapMicrousd),
      ...(revokedAt ? { revokedAt: timestampFromDate(new Date(revokedAt)) } : {}),
      ...(createdAt ? { createdAt: timestampFromDate(new Date(createdAt)) } : {}),
    })),
    redaction: Object.fromEntries(Object.entries(m.redaction).map(([k, v]) => [k, redaction(v)])),
    connectors: m.connectors.map(connectorToProto),
  });
}
