import { create, toJson } from '@bufbuild/protobuf';
import { timestampDate, timestampNow, type Timestamp } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import {
  CreatePatKeyRequestSchema,
  GetPatKeyUsageResponseSchema,
  ListPatKeysResponseSchema,
  PatKeySchema,
  PatKeyStatus,
  RotatePatKeyRequestSchema,
  UpdatePatKeyRequestSchema,
  type PatKey,
} from '@fortress/proto/admin/v1/admin_pb';
import type { AuditService } from '@fortress/proto/audit/v1/audit_pb';
import {
  PatLimitsSchema,
  type PatLimits,
  type PolicyAdminService,
} from '@fortress/proto/policy/v1/policy_pb';
import {
  CredentialKind,
  type CredentialMetadata,
  type VaultAdminService,
} from '@fortress/proto/vault/v1/vault_pb';
import { newId } from '@fortress/kit/ids';
import { canonicalModel, priceOf, type PriceBook } from '@fortress/pricing/price-book';
import type { AdminCall, AdminResult, AdminRoute } from './admin-api.js';
import { parseBody, queryTime } from './parse-body.js';
import { credentialMetadata } from './credential-metadata.js';
import { problems, ProblemError } from './problem.js';

/** What the PAT key routes need. */
export interface PatKeyRoutesDeps {
  policyAdmin: Client<typeof PolicyAdminService>;
  vaultAdmin: Client<typeof VaultAdminService>;
  audit: Client<typeof AuditService>;
  priceBook: PriceBook;
  hopTimeoutMs: number;
  now?: () => Date;
}

const JSON_OUT = { useProtoFieldName: true } as const;
const MAX_LIST = 1000;

const ANTHROPIC_KEY = /^[\x21-\x7e]{8,512}$/;

/**
 * The PAT keys of the admin API (`/api/v1/pat-keys`, the seeds' routes): a PAT key is the
 * org's Anthropic key in the vault (id = the PAT key id) plus its limits in the policy. Only
 * metadata comes out — never the Anthropic key, at most its last four characters.
 */
export function createPatKeyRoutes(deps: PatKeyRoutesDeps): AdminRoute[] {
  const { policyAdmin, vaultAdmin, audit } = deps;
  const now = deps.now ?? (() => new Date());
  const opts = { timeoutMs: deps.hopTimeoutMs };

  const limitsOf = async (orgId: string) =>
    (await policyAdmin.getPolicy({ orgId }, opts)).model?.patLimits ?? [];

  const credentialOf = (orgId: string, id: string) =>
    credentialMetadata(vaultAdmin, orgId, id, opts);

  const view = (limits: PatLimits, credential: CredentialMetadata | undefined): PatKey => {
    const overlapEnds = credential?.previousServesUntil;
    const status = limits.revokedAt
      ? PatKeyStatus.REVOKED
      : overlapEnds && timestampDate(overlapEnds) > now()
        ? PatKeyStatus.ROTATED
        : PatKeyStatus.ACTIVE;
    return create(PatKeySchema, {
      id: limits.patKeyId,
      label: limits.label,
      status,
      // The record's own fields are shown once, at the top level.
      limits: { ...limits, label: '', revokedAt: undefined, createdAt: undefined },
      ...(credential && !limits.revokedAt ? { credential } : {}),
      ...(status === PatKeyStatus.ROTATED && overlapEnds
        ? { rotationOverlapEndsAt: overlapEnds }
        : {}),
      ...(limits.createdAt ? { createdAt: limits.createdAt } : {}),
    });
  };

  const out = (status: number, pk: PatKey): AdminResult => ({
    status,
    body: { pat_key: toJson(PatKeySchema, pk, JSON_OUT) },
  });

  const existing = async (orgId: string, id: string) => {
    const limits = (await limitsOf(orgId)).find((l) => l.patKeyId === id);
    if (!limits)
      throw new ProblemError(
        problems.notFound(`PAT key "${id}" does not exist`, 'pat_key_not_found'),
      );
    return limits;
  };

  /** The allowlist as exact model ids: aliases resolved by the price book, unknown ids refused. */
  const exactModels = (models: string[]) =>
    models.map((m, i) => {
      const exact = canonicalModel(deps.priceBook, m);
      if (!priceOf(deps.priceBook, exact, now()))
        throw new ProblemError(
          problems.badRequest(
            `model "${m}" is not in the price book, so its spend could not be governed`,
            `limits.model_allowlist[${i}]`,
            'unknown_model',
          ),
        );
      return exact;
    });

  const requireLabel = (label: string) => {
    const l = label.trim();
    if (l.length === 0 || l.length > 200)
      throw new ProblemError(problems.badRequest('label must be 1–200 characters', 'label'));
    return l;
  };

  const requireKey = (key: string, field: string) => {
    if (!ANTHROPIC_KEY.test(key))
      throw new ProblemError(
        problems.badRequest(`${field} must be 8–512 visible characters`, field),
      );
    return new TextEncoder().encode(key);
  };

  /** The limits to store: what was given, under this id and label, allowlist made exact. */
  const limitsFor = (
    id: string,
    label: string,
    given: PatLimits | undefined,
    createdAt: Timestamp | undefined,
  ) =>
    create(PatLimitsSchema, {
      patKeyId: id,
      label,
      modelAllowlist: exactModels(given?.modelAllowlist ?? []),
      maxTokensPerRequest: given?.maxTokensPerRequest ?? 0,
      clampMaxTokens: given?.clampMaxTokens ?? false,
      monthlySpendCapMicrousd: given?.monthlySpendCapMicrousd ?? 0n,
      requestsPerMinute: given?.requestsPerMinute ?? 0,
      tokensPerMinute: given?.tokensPerMinute ?? 0,
      alertThresholdPercent: given?.alertThresholdPercent ?? 0,
      ...(createdAt ? { createdAt } : {}),
    });

  return [
    {
      method: 'GET',
      path: '/pat-keys',
      action: 'admin:pat_keys.read',
      async handle({ admin }) {
        const orgId = admin.orgId;
        const all = (await limitsOf(orgId)).sort((a, b) => a.patKeyId.localeCompare(b.patKeyId));
        const creds = new Map((await anthropicKeys(vaultAdmin, orgId, opts)).map((c) => [c.id, c]));
        return {
          status: 200,
          body: toJson(
            ListPatKeysResponseSchema,
            create(ListPatKeysResponseSchema, {
              patKeys: all.map((l) => view(l, creds.get(l.patKeyId))),
            }),
            JSON_OUT,
          ),
        };
      },
    },
    {
      method: 'POST',
      path: '/pat-keys',
      action: 'admin:pat_keys.write',
      async handle({ admin, body }) {
        const req = parseBody(CreatePatKeyRequestSchema, body);
        const label = requireLabel(req.label);
        const secret = requireKey(req.anthropicKey, 'anthropic_key');
        const id = newId('pat');
        const limits = limitsFor(id, label, req.limits, timestampNow());
        // The allowlist is checked before anything is stored.
        const credential = (
          await vaultAdmin.putCredential(
            {
              orgId: admin.orgId,
              id,
              label,
              kind: CredentialKind.ANTHROPIC_KEY,
              material: { secret },
              actorId: admin.subjectId,
            },
            opts,
          )
        ).credential;
        secret.fill(0);
        try {
          await policyAdmin.putPatLimits(
            { orgId: admin.orgId, limits, actorId: admin.subjectId },
            opts,
          );
        } catch (err) {
          // Limits the policy refused: the key must not stay behind without them.
          await vaultAdmin
            .deleteCredential({ orgId: admin.orgId, id, actorId: admin.subjectId }, opts)
            .catch(() => undefined);
          throw err;
        }
        return out(201, view(limits, credential));
      },
    },
    {
      method: 'GET',
      path: '/pat-keys/{id}',
      action: 'admin:pat_keys.read',
      async handle({ admin, params }) {
        const id = params[0] as string;
        const limits = await existing(admin.orgId, id);
        return out(200, view(limits, await credentialOf(admin.orgId, id)));
      },
    },
    {
      method: 'PUT',
      path: '/pat-keys/{id}',
      action: 'admin:pat_keys.write',
      async handle({ admin, params, body }) {
        const id = params[0] as string;
        const req = parseBody(UpdatePatKeyRequestSchema, body);
        if (req.id && req.id !== id)
          throw new ProblemError(
            problems.badRequest('id in the body does not match the path', 'id'),
          );
        const current = await existing(admin.orgId, id);
        if (current.revokedAt)
          throw new ProblemError(
            problems.conflict(`PAT key "${id}" is revoked`, 'pat_key_revoked'),
          );
        const label = req.label ? requireLabel(req.label) : current.label;
        const limits = limitsFor(id, label, req.limits ?? current, current.createdAt);
        await policyAdmin.putPatLimits(
          { orgId: admin.orgId, limits, actorId: admin.subjectId },
          opts,
        );
        return out(200, view(limits, await credentialOf(admin.orgId, id)));
      },
    },
    {
      method: 'POST',
      path: '/pat-keys/{id}/rotate',
      action: 'admin:pat_keys.write',
      async handle({ admin, params, body }) {
        const id = params[0] as string;
        const req = parseBody(RotatePatKeyRequestSchema, body);
        if (req.id && req.id !== id)
          throw new ProblemError(
            problems.badRequest('id in the body does not match the path', 'id'),
          );
        const current = await existing(admin.orgId, id);
        if (current.revokedAt)
          throw new ProblemError(
            problems.conflict(`PAT key "${id}" is revoked`, 'pat_key_revoked'),
          );
        const secret = requireKey(req.anthropicKey, 'anthropic_key');
        const credential = (
          await vaultAdmin.rotateCredential(
            {
              orgId: admin.orgId,
              id,
              material: { secret },
              overlapSeconds: req.overlapSeconds,
              actorId: admin.subjectId,
            },
            opts,
          )
        ).credential;
        secret.fill(0);
        return out(200, view(current, (await credentialOf(admin.orgId, id)) ?? credential));
      },
    },
    {
      method: 'DELETE',
      path: '/pat-keys/{id}',
      action: 'admin:pat_keys.write',
      async check({ admin, params }) {
        await existing(admin.orgId, params[0] as string);
      },
      async handle({ admin, params }) {
        const id = params[0] as string;
        const current = await existing(admin.orgId, id);
        const limits = current.revokedAt
          ? current
          : create(PatLimitsSchema, { ...current, revokedAt: timestampNow() });
        if (!current.revokedAt)
          await policyAdmin.putPatLimits(
            { orgId: admin.orgId, limits, actorId: admin.subjectId },
            opts,
          );
        // Then the Anthropic key goes for good (crypto-shred): every vault replica refuses it
        // from this commit on, whether or not a policy replica has heard of the revocation.
        try {
          await vaultAdmin.deleteCredential(
            { orgId: admin.orgId, id, actorId: admin.subjectId },
            opts,
          );
        } catch (err) {
          if (problemStatus(err) !== 404) throw err;
        }
        return out(200, view(limits, undefined));
      },
    },
    {
      method: 'GET',
      path: '/pat-keys/{id}/usage',
      action: 'admin:pat_keys.read',
      async handle(call: AdminCall) {
        const { admin, params, query } = call;
        const id = params[0] as string;
        const limits = await existing(admin.orgId, id);
        const since = queryTime(query, 'since');
        const until = queryTime(query, 'until');
        const u = await audit.summarizeUsage(
          {
            orgId: admin.orgId,
            patKeyId: id,
            ...(since ? { since } : {}),
            ...(until ? { until } : {}),
          },
          opts,
        );
        const cap = limits.monthlySpendCapMicrousd;
        const spend = u.spendMicrousd;
        const res = create(GetPatKeyUsageResponseSchema, {
          requests: u.requests,
          spendMicrousd: spend,
          spendCapMicrousd: cap,
          capRemainingMicrousd: cap > spend ? cap - spend : 0n,
          capUsedPercent: cap > 0n ? Math.round((Number(spend) / Number(cap)) * 10_000) / 100 : 0,
          denied: u.denied,
          models: u.models.map((m) => ({
            model: m.model,
            requests: m.requests,
            ...(m.usage ? { usage: m.usage } : {}),
            spendMicrousd: m.spendMicrousd,
          })),
          ...(u.since ? { since: u.since } : {}),
          ...(u.until ? { until: u.until } : {}),
        });
        return { status: 200, body: toJson(GetPatKeyUsageResponseSchema, res, JSON_OUT) };
      },
    },
  ];
}

/** The org's Anthropic keys in the vault (the credentials of its PAT keys), every page. */
export async function anthropicKeys(
  vaultAdmin: Client<typeof VaultAdminService>,
  orgId: string,
  opts: { timeoutMs: number },
): Promise<CredentialMetadata[]> {
  const out: CredentialMetadata[] = [];
  let pageToken = '';
  do {
    const page = await vaultAdmin.listCredentials(
      { orgId, page: { pageSize: MAX_LIST, pageToken } },
      opts,
    );
    out.push(...page.credentials.filter((c) => c.kind === CredentialKind.ANTHROPIC_KEY));
    pageToken = page.page?.nextPageToken ?? '';
  } while (pageToken);
  return out;
}

/** 404 for a backend NotFound, else 0. */
function problemStatus(err: unknown): number {
  return ConnectError.from(err).code === Code.NotFound ? 404 : 0;
}
