import { randomBytes } from 'node:crypto';
import { changeEvent, configFacts } from './events.js';
import type { OrgKeys } from './org-keys.js';
import type { KeyStore } from './ports.js';
import type { KeyConfigRow } from './records.js';
import { needsNewEpoch } from './tiers.js';

/** A started rotation: the new epoch and the job re-wrapping onto it. */
export interface Rotation {
  epoch: number;
  jobId: string;
}

/**
 * Rotation of an org's data key: mint a new epoch through KMS under the org's configuration
 * (which, for Bank and Zero Trust, proves the customer's grant works), store it with a re-wrap
 * job and the change event at once; the background job then moves every credential's wrapped
 * key onto it. A configuration change of tier or key is a rotation too.
 */
export function createKeyRotation(deps: { keys: KeyStore; orgKeys: OrgKeys }) {
  const { keys, orgKeys } = deps;

  const rotateUnder = async (
    orgId: string,
    config: KeyConfigRow,
    save: { before: KeyConfigRow } | undefined,
    actorId: string,
    signal?: AbortSignal,
  ): Promise<Rotation> => {
    const fresh = await orgKeys.mint(orgId, config, signal);
    const jobId = `rwj_${randomBytes(10).toString('hex')}`;
    try {
      const epoch = await keys.rotate({
        epoch: fresh.epoch,
        config: save ? config : undefined,
        jobId,
        actorId,
        rotationDays: config.rotation_days,
        events: (n) => [
          ...(save
            ? [
                changeEvent({
                  orgId,
                  actorId,
                  entityType: 'key_config',
                  entityId: orgId,
                  operation: 'update',
                  before: configFacts(save.before),
                  after: configFacts(config),
                }),
              ]
            : []),
          changeEvent({
            orgId,
            actorId,
            entityType: 'data_key',
            entityId: orgId,
            operation: 'rotate',
            after: { epoch: n, job_id: jobId, tier: config.tier, scheme: fresh.epoch.scheme },
          }),
        ],
      });
      orgKeys.keep({ ...fresh.epoch, epoch, created_at: new Date() }, fresh.aesKey);
      return { epoch, jobId };
    } catch (err) {
      fresh.aesKey?.fill(0);
      throw err;
    }
  };

  return {
    /** Rotates an org's data key under its current configuration. */
    async rotate(orgId: string, actorId: string, signal?: AbortSignal): Promise<Rotation> {
      return rotateUnder(orgId, await orgKeys.config(orgId), undefined, actorId, signal);
    },

    /**
     * Saves a new configuration. A new tier, key or endpoint mints a new epoch under it first —
     * if the customer's key refuses us, nothing is saved — and re-wraps onto it.
     */
    async setConfig(
      next: KeyConfigRow,
      actorId: string,
      signal?: AbortSignal,
    ): Promise<Rotation | undefined> {
      const before = await orgKeys.config(next.org_id);
      if (needsNewEpoch(before, next))
        return rotateUnder(next.org_id, next, { before }, actorId, signal);
      await keys.saveConfig(next, [
        changeEvent({
          orgId: next.org_id,
          actorId,
          entityType: 'key_config',
          entityId: next.org_id,
          operation: 'update',
          before: configFacts(before),
          after: configFacts(next),
        }),
      ]);
      return undefined;
    },
  };
}

/** Data key rotation. */
export type KeyRotation = ReturnType<typeof createKeyRotation>;
