import { create, type JsonObject } from '@bufbuild/protobuf';
import { RetentionSchema, type Retention } from '@fortress/proto/audit/v1/audit_pb';
import type { Tier } from '@fortress/proto/common/v1/common_pb';
import { InvalidArgumentError } from '@fortress/kit/errors';
import type { RetentionRepo, RetentionSetting } from '../adapters/pg/retention-repo.js';
import { DEFAULT_TIER, RETENTION_PERIOD, tierName, tierOf } from '../domain/retention.js';
import { changeRow } from './change-row.js';

/** The API view of an org's retention setting. */
export function retentionOf(orgId: string, s: RetentionSetting): Retention {
  const tier = s.tier ?? DEFAULT_TIER;
  return create(RetentionSchema, {
    orgId,
    tier: tierOf(tier),
    period: RETENTION_PERIOD[tier],
    isDefault: s.tier === undefined,
  });
}

const asJson = (orgId: string, s: RetentionSetting): JsonObject => {
  const tier = s.tier ?? DEFAULT_TIER;
  return { tier, period: RETENTION_PERIOD[tier], default: s.tier === undefined };
};

/**
 * Sets an org's retention from its tier, recording the change (who, before, after) in the
 * org's own tamper-evident log in the same transaction.
 */
export async function setRetention(
  repo: RetentionRepo,
  orgId: string,
  tier: Tier,
  actorId: string,
): Promise<Retention> {
  const name = tierName(tier);
  if (!name)
    throw new InvalidArgumentError('tier', 'tier must be TIER_SOHO, TIER_BANK or TIER_ZERO_TRUST');
  await repo.set(orgId, name, (before) =>
    changeRow(
      orgId,
      actorId,
      { type: 'retention', id: orgId, operation: 'update' },
      asJson(orgId, before),
      asJson(orgId, { tier: name }),
    ),
  );
  return retentionOf(orgId, { tier: name });
}
