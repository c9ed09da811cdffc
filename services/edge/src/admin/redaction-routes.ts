import { toJson } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import { Tier } from '@fortress/proto/common/v1/common_pb';
import type { IdentityAdminService } from '@fortress/proto/identity/v1/identity_pb';
import {
  RedactionProfileSchema,
  type PolicyAdminService,
} from '@fortress/proto/policy/v1/policy_pb';
import type { AdminRoute } from './admin-api.js';
import { parseBody } from './parse-body.js';
import { problems, ProblemError } from './problem.js';

/** What the redaction routes need. */
export interface RedactionRoutesDeps {
  policyAdmin: Client<typeof PolicyAdminService>;
  identityAdmin: Client<typeof IdentityAdminService>;
  hopTimeoutMs: number;
}

const JSON_OUT = { useProtoFieldName: true } as const;

/**
 * PII redaction per role per connector (`/api/v1/redaction`): which kinds to mask (email,
 * phone, SSN, card) and, for Bank and Zero Trust orgs only, custom patterns — untrusted RE2
 * regexes the policy validates on its linear-time engine before saving. An empty profile
 * removes the redaction.
 */
export function createRedactionRoutes(deps: RedactionRoutesDeps): AdminRoute[] {
  const opts = { timeoutMs: deps.hopTimeoutMs };
  return [
    {
      method: 'GET',
      path: '/redaction',
      action: 'admin:redaction.read',
      async handle({ admin }) {
        const model = (await deps.policyAdmin.getPolicy({ orgId: admin.orgId }, opts)).model;
        return {
          status: 200,
          body: {
            redaction: Object.fromEntries(
              Object.entries(model?.redaction ?? {}).map(([k, v]) => [
                k,
                toJson(RedactionProfileSchema, v, JSON_OUT),
              ]),
            ),
          },
        };
      },
    },
    {
      method: 'PUT',
      path: '/redaction/{role}/{connector}',
      action: 'admin:redaction.write',
      check({ body }) {
        parseBody(RedactionProfileSchema, body);
      },
      async handle({ admin, params, body }) {
        const [role = '', connectorId = ''] = params;
        const profile = parseBody(RedactionProfileSchema, body);
        if (profile.custom.length > 0) {
          const org = (await deps.identityAdmin.getOrg({ orgId: admin.orgId }, opts)).org;
          if (org?.tier !== Tier.BANK && org?.tier !== Tier.ZERO_TRUST)
            throw new ProblemError(
              problems.forbidden(
                'custom redaction patterns are for Bank and Zero Trust organisations',
                'tier_required',
              ),
            );
        }
        const { version } = await deps.policyAdmin.putRedaction(
          { orgId: admin.orgId, role, connectorId, profile, actorId: admin.subjectId },
          opts,
        );
        return {
          status: 200,
          body: {
            key: `${role}/${connectorId}`,
            profile: toJson(RedactionProfileSchema, profile, JSON_OUT),
            policy_version: version,
          },
        };
      },
    },
  ];
}
