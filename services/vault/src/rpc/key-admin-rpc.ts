import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { Tier } from '@fortress/proto/common/v1/common_pb';
import {
  GetKeyConfigResponseSchema,
  GetRewrapJobResponseSchema,
  RotateDataKeyResponseSchema,
  SetKeyConfigResponseSchema,
  ShredOrgResponseSchema,
  type VaultAdminService,
} from '@fortress/proto/vault/v1/vault_pb';
import { tierName } from '@fortress/kit/enum-names';
import { InvalidArgumentError, NotFoundError } from '@fortress/kit/errors';
import { requireId } from '@fortress/kit/validate';
import type { CredentialVault } from '../domain/credential-vault.js';
import type { KeyRotation } from '../domain/key-rotation.js';
import type { OrgKeys } from '../domain/org-keys.js';
import type { KeyStore, RewrapStore } from '../domain/ports.js';
import type { KeyConfigRow, TierName } from '../domain/records.js';
import { configProblem } from '../domain/tiers.js';
import { toKeyConfig, toRewrapJob } from './metadata.js';

/** What the key admin handlers need. */
export interface KeyAdminDeps {
  vault: CredentialVault;
  keys: KeyStore;
  orgKeys: OrgKeys;
  rotation: KeyRotation;
  rewraps: RewrapStore;
  allowedEndpoints: readonly string[];
  /** The principal customers grant their key to (shown in GetKeyConfig). */
  granteePrincipal: string;
  defaultRotationDays: number;
  onChange: (orgId: string) => void;
}

/** The key handlers of VaultAdminService: tiers, rotation, re-wrap progress, org shredding. */
export function createKeyAdminRpc(
  deps: KeyAdminDeps,
): Partial<ServiceImpl<typeof VaultAdminService>> {
  const shown = async (orgId: string) =>
    toKeyConfig(
      await deps.orgKeys.config(orgId),
      await deps.keys.currentEpoch(orgId),
      deps.granteePrincipal,
    );

  return {
    async getKeyConfig(req) {
      return create(GetKeyConfigResponseSchema, {
        config: await shown(requireId('org_id', req.orgId, 'org')),
      });
    },

    async setKeyConfig(req, ctx) {
      const c = req.config;
      const orgId = requireId('config.org_id', c?.orgId ?? '', 'org');
      const tier = tierName(c?.tier ?? Tier.UNSPECIFIED) as TierName | undefined;
      if (!tier) throw new InvalidArgumentError('config.tier', 'config.tier is required');
      const next: KeyConfigRow = {
        org_id: orgId,
        tier,
        kms_key_id: c?.kmsKeyId ?? '',
        kms_endpoint: c?.kmsEndpoint ?? '',
        grant_id: c?.grantId ?? '',
        rotation_days: c?.rotationDays || deps.defaultRotationDays,
        updated_at: new Date(),
        updated_by: req.actorId || 'unknown',
      };
      const problem = configProblem(next, deps.allowedEndpoints);
      if (problem) throw new InvalidArgumentError(problem.field, problem.message);
      await deps.rotation.setConfig(next, next.updated_by, ctx.signal);
      deps.onChange(orgId);
      return create(SetKeyConfigResponseSchema, { config: await shown(orgId) });
    },

    async rotateDataKey(req, ctx) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const r = await deps.rotation.rotate(orgId, req.actorId || 'unknown', ctx.signal);
      deps.onChange(orgId);
      return create(RotateDataKeyResponseSchema, { jobId: r.jobId });
    },

    async getRewrapJob(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const job = await deps.rewraps.job(orgId, requireId('job_id', req.jobId, 'rwj'));
      if (!job)
        throw new NotFoundError(
          'rewrap_job_not_found',
          `re-wrap job "${req.jobId}" does not exist`,
        );
      const remaining =
        job.state === 'done' ? 0 : await deps.rewraps.remaining(orgId, job.to_epoch);
      return create(GetRewrapJobResponseSchema, { job: toRewrapJob(job, remaining) });
    },

    async shredOrg(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const shredded = await deps.vault.shredOrg(orgId, req.actorId || 'unknown');
      deps.onChange(orgId);
      return create(ShredOrgResponseSchema, {
        credentialsShredded: shredded.credentials,
        dataKeysShredded: shredded.dataKeys,
      });
    },
  };
}
