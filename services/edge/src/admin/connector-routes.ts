import { create, toJson } from '@bufbuild/protobuf';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import {
  ConnectorSchema as AdminConnectorSchema,
  type ConnectorStatus as AdminStatus,
  CreateConnectorRequestSchema,
  KillConnectorRequestSchema,
  ListConnectorsResponseSchema,
  RotateConnectorCredentialRequestSchema,
  UpdateConnectorRequestSchema,
  type Connector as AdminConnector,
} from '@fortress/proto/admin/v1/admin_pb';
import {
  ConnectorStatus,
  type Connector,
  type PolicyAdminService,
} from '@fortress/proto/policy/v1/policy_pb';
import {
  CredentialKind,
  type CredentialMetadata,
  type SecretFields,
  type VaultAdminService,
  type VaultService,
} from '@fortress/proto/vault/v1/vault_pb';
import { zeroCredential, type ConnectorRuntime } from '../mcp/tool-types.js';
import { credentialMetadata } from './credential-metadata.js';
import type { AdminCall, AdminResult, AdminRoute } from './admin-api.js';
import { parseBody } from './parse-body.js';
import { problems, ProblemError } from './problem.js';

/** What the connector routes need. */
export interface ConnectorRoutesDeps {
  policyAdmin: Client<typeof PolicyAdminService>;
  vaultAdmin: Client<typeof VaultAdminService>;
  vault: Client<typeof VaultService>;
  runtime: ConnectorRuntime;
  hopTimeoutMs: number;
  /** How long a Test Connection may take. */
  testTimeoutMs: number;
}

const JSON_OUT = { useProtoFieldName: true } as const;
/** A connector's credential in the vault (the policy names the same ref in its allows). */
const credentialId = (connectorId: string) => `conn_${connectorId}`;
/** Credential kinds a connector may hold. */
const CONNECTOR_KINDS = new Set([
  CredentialKind.API_KEY,
  CredentialKind.USERNAME_PASSWORD,
  CredentialKind.OAUTH2,
  CredentialKind.APP,
]);

/** Policy's status as the admin API shows it (the same lifecycle, the same numbers). */
const statusOf = (s: ConnectorStatus): AdminStatus => Number(s);

/**
 * The connectors of the admin API (`/api/v1/connectors`, the seeds' routes, plus Test, Kill,
 * Enable and Rotate): a connector is its configuration and lifecycle in the policy (so every
 * replica's decisions see a kill at once) plus its credential in the vault under the same id.
 * The credential is write-only: responses carry its metadata (kind, version, last four at
 * most), never the secret. Creating runs Test Connection — a real call with the stored
 * credential, released by the vault against a decision for `admin:connectors.test` — and the
 * connector leaves PENDING for ACTIVE (test passed) or OFFLINE (it did not).
 */
export function createConnectorRoutes(deps: ConnectorRoutesDeps): AdminRoute[] {
  const { policyAdmin, vaultAdmin } = deps;
  const opts = { timeoutMs: deps.hopTimeoutMs };

  const connectorsOf = async (orgId: string) =>
    (await policyAdmin.getPolicy({ orgId }, opts)).model?.connectors ?? [];

  const existing = async (orgId: string, id: string) => {
    const c = (await connectorsOf(orgId)).find((x) => x.id === id);
    if (!c)
      throw new ProblemError(
        problems.notFound(`connector "${id}" does not exist`, 'connector_not_found'),
      );
    return c;
  };

  const credentialOf = (orgId: string, id: string) =>
    credentialMetadata(vaultAdmin, orgId, credentialId(id), opts);

  const view = async (
    orgId: string,
    c: Connector,
    credential?: CredentialMetadata,
  ): Promise<AdminConnector> => {
    const tools = await deps.runtime
      .tools(orgId, c, AbortSignal.timeout(deps.testTimeoutMs))
      .catch(() => []);
    return create(AdminConnectorSchema, {
      id: c.id,
      type: c.type,
      label: c.label,
      status: statusOf(c.status),
      baseUrl: c.baseUrl,
      settings: c.settings,
      statusReason: c.statusReason,
      tools: tools.map((t) => t.name),
      ...(credential ? { credential } : {}),
      ...(c.createdAt ? { createdAt: c.createdAt } : {}),
      ...(c.statusChangedAt ? { statusChangedAt: c.statusChangedAt } : {}),
    });
  };

  const out = async (status: number, orgId: string, c: Connector): Promise<AdminResult> => ({
    status,
    body: {
      connector: toJson(
        AdminConnectorSchema,
        await view(orgId, c, await credentialOf(orgId, c.id)),
        JSON_OUT,
      ),
    },
  });

  const requireSecret = (material: SecretFields | undefined, field: string) => {
    if (!material?.secret.length)
      throw new ProblemError(problems.badRequest(`${field}.secret is required`, `${field}.secret`));
    return material;
  };

  const setStatus = async (
    orgId: string,
    id: string,
    status: ConnectorStatus,
    reason: string,
    actorId: string,
    expectedStatus = ConnectorStatus.UNSPECIFIED,
  ) =>
    (
      await policyAdmin.setConnectorStatus(
        { orgId, connectorId: id, status, reason, actorId, expectedStatus },
        opts,
      )
    ).connector;

  /**
   * Test Connection: a real call with the stored credential. Moves PENDING or OFFLINE to
   * ACTIVE on success and ACTIVE or PENDING to OFFLINE on failure; a KILLED connector stays
   * killed whatever the test says.
   */
  const test = async (
    call: AdminCall,
    c: Connector,
  ): Promise<{ ok: boolean; detail: string; connector: Connector }> => {
    const { admin, grant, facts } = call;
    let outcome: Awaited<ReturnType<ConnectorRuntime['test']>>;
    try {
      if (!grant?.decisionToken) throw new Error('no decision token for the test');
      const resolved = await deps.vault.resolveCredential(
        {
          decisionToken: grant.decisionToken,
          orgId: admin.orgId,
          credentialRef: grant.credentialRef,
          requestId: facts.requestId,
        },
        opts,
      );
      const material = resolved.material;
      if (!material?.secret.length) throw new Error('no secret');
      const credential = { kind: resolved.kind, secret: material.secret, fields: material.fields };
      try {
        outcome = await deps.runtime.test({
          orgId: admin.orgId,
          connector: c,
          credential,
          signal: AbortSignal.timeout(deps.testTimeoutMs),
        });
      } finally {
        zeroCredential(credential);
      }
      const refreshed = outcome.refreshed;
      if (refreshed) {
        // The test refreshed an OAuth token (and the vendor may have rotated the refresh
        // token): the vault must hold the new one, or the next call would use a dead token.
        await vaultAdmin
          .rotateCredential(
            {
              orgId: admin.orgId,
              id: grant.credentialRef,
              material: { secret: refreshed.secret, fields: refreshed.fields },
              overlapSeconds: 1,
              actorId: admin.subjectId,
            },
            opts,
          )
          .finally(() => zeroCredential(refreshed));
      }
    } catch (err) {
      const missing = ConnectError.from(err).code === Code.NotFound;
      outcome = {
        ok: false,
        reason: missing ? 'the connector has no credential' : 'the credential could not be read',
      };
    }
    let connector = c;
    if (c.status !== ConnectorStatus.KILLED) {
      const target = outcome.ok ? ConnectorStatus.ACTIVE : ConnectorStatus.OFFLINE;
      if (c.status !== target)
        connector =
          (await setStatus(
            admin.orgId,
            c.id,
            target,
            outcome.ok ? 'connection test passed' : outcome.reason,
            admin.subjectId,
            c.status,
          )) ?? c;
    }
    return {
      ok: outcome.ok,
      detail: outcome.ok ? 'connection test passed' : outcome.reason,
      connector,
    };
  };

  const testResult = async (call: AdminCall, c: Connector): Promise<AdminResult> => {
    const r = await test(call, c);
    return {
      status: 200,
      body: {
        ok: r.ok,
        detail: r.detail,
        connector: toJson(
          AdminConnectorSchema,
          await view(call.admin.orgId, r.connector, await credentialOf(call.admin.orgId, c.id)),
          JSON_OUT,
        ),
      },
    };
  };

  return [
    {
      method: 'GET',
      path: '/connectors',
      action: 'admin:connectors.read',
      async handle({ admin }) {
        const all = await connectorsOf(admin.orgId);
        const views = await Promise.all(
          all.map(async (c) => view(admin.orgId, c, await credentialOf(admin.orgId, c.id))),
        );
        return {
          status: 200,
          body: toJson(
            ListConnectorsResponseSchema,
            create(ListConnectorsResponseSchema, { connectors: views }),
            JSON_OUT,
          ),
        };
      },
    },
    {
      method: 'POST',
      path: '/connectors',
      action: 'admin:connectors.write',
      async handle(call) {
        const { admin, body } = call;
        const req = parseBody(CreateConnectorRequestSchema, body);
        if (!CONNECTOR_KINDS.has(req.credentialKind))
          throw new ProblemError(
            problems.badRequest(
              'credential_kind must be API_KEY, USERNAME_PASSWORD, OAUTH2 or APP',
              'credential_kind',
            ),
          );
        const material = requireSecret(req.credential, 'credential');
        const id = req.id || req.type;
        if ((await connectorsOf(admin.orgId)).some((c) => c.id === id))
          throw new ProblemError(
            problems.conflict(`connector "${id}" already exists`, 'already_exists'),
          );
        // The configuration is validated (and saved PENDING) before the secret is stored.
        const saved = (
          await policyAdmin.putConnector(
            {
              orgId: admin.orgId,
              connector: {
                id,
                type: req.type,
                label: req.label,
                baseUrl: req.baseUrl,
                settings: req.settings,
              },
              actorId: admin.subjectId,
            },
            opts,
          )
        ).connector;
        try {
          await vaultAdmin.putCredential(
            {
              orgId: admin.orgId,
              id: credentialId(id),
              label: req.label || id,
              kind: req.credentialKind,
              material,
              actorId: admin.subjectId,
            },
            opts,
          );
        } catch (err) {
          await policyAdmin
            .deleteConnector(
              { orgId: admin.orgId, connectorId: id, actorId: admin.subjectId },
              opts,
            )
            .catch(() => undefined);
          throw err;
        } finally {
          material.secret.fill(0);
        }
        if (!saved) throw new Error('policy returned no connector');
        // PENDING until its test passes: the test is its own decision (admin:connectors.test,
        // the one that releases the credential), so it is its own call, POST …/test.
        return out(201, admin.orgId, saved);
      },
    },
    {
      method: 'GET',
      path: '/connectors/{id}',
      action: 'admin:connectors.read',
      async handle({ admin, params }) {
        return out(200, admin.orgId, await existing(admin.orgId, params[0] as string));
      },
    },
    {
      method: 'PUT',
      path: '/connectors/{id}',
      action: 'admin:connectors.write',
      async handle({ admin, params, body }) {
        const id = params[0] as string;
        const req = parseBody(UpdateConnectorRequestSchema, body);
        if (req.id && req.id !== id)
          throw new ProblemError(
            problems.badRequest('id in the body does not match the path', 'id'),
          );
        const current = await existing(admin.orgId, id);
        let saved =
          (
            await policyAdmin.putConnector(
              {
                orgId: admin.orgId,
                connector: {
                  id,
                  type: current.type,
                  label: req.label || current.label,
                  baseUrl: req.baseUrl || current.baseUrl,
                  settings: Object.keys(req.settings).length ? req.settings : current.settings,
                },
                actorId: admin.subjectId,
              },
              opts,
            )
          ).connector ?? current;
        if (req.enabled === false && saved.status !== ConnectorStatus.KILLED)
          saved =
            (await setStatus(
              admin.orgId,
              id,
              ConnectorStatus.KILLED,
              'disabled by an administrator',
              admin.subjectId,
            )) ?? saved;
        if (req.enabled === true && saved.status === ConnectorStatus.KILLED)
          saved =
            (await setStatus(
              admin.orgId,
              id,
              ConnectorStatus.ACTIVE,
              're-enabled by an administrator',
              admin.subjectId,
              ConnectorStatus.KILLED,
            )) ?? saved;
        return out(200, admin.orgId, saved);
      },
    },
    {
      method: 'DELETE',
      path: '/connectors/{id}',
      action: 'admin:connectors.write',
      async check({ admin, params }) {
        await existing(admin.orgId, params[0] as string);
      },
      async handle({ admin, params }) {
        const id = params[0] as string;
        await existing(admin.orgId, id);
        // The policy first: from this commit no replica serves its tools; then the secret goes.
        await policyAdmin.deleteConnector(
          { orgId: admin.orgId, connectorId: id, actorId: admin.subjectId },
          opts,
        );
        try {
          await vaultAdmin.deleteCredential(
            { orgId: admin.orgId, id: credentialId(id), actorId: admin.subjectId },
            opts,
          );
        } catch (err) {
          if (ConnectError.from(err).code !== Code.NotFound) throw err;
        }
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/connectors/{id}/test',
      action: 'admin:connectors.test',
      async handle(call) {
        return testResult(call, await existing(call.admin.orgId, call.params[0] as string));
      },
    },
    {
      method: 'POST',
      path: '/connectors/{id}/kill',
      action: 'admin:connectors.write',
      async handle({ admin, params, body }) {
        const id = params[0] as string;
        const req = parseBody(KillConnectorRequestSchema, body ?? {});
        await existing(admin.orgId, id);
        const killed = await setStatus(
          admin.orgId,
          id,
          ConnectorStatus.KILLED,
          req.reason.trim() || 'killed by an administrator',
          admin.subjectId,
        );
        return out(200, admin.orgId, killed ?? (await existing(admin.orgId, id)));
      },
    },
    {
      method: 'POST',
      path: '/connectors/{id}/enable',
      action: 'admin:connectors.write',
      async handle({ admin, params }) {
        const id = params[0] as string;
        const current = await existing(admin.orgId, id);
        if (current.status !== ConnectorStatus.KILLED)
          throw new ProblemError(
            problems.conflict(`connector "${id}" is not killed`, 'connector_not_killed'),
          );
        const enabled = await setStatus(
          admin.orgId,
          id,
          ConnectorStatus.ACTIVE,
          're-enabled by an administrator',
          admin.subjectId,
          ConnectorStatus.KILLED,
        );
        return out(200, admin.orgId, enabled ?? current);
      },
    },
    {
      method: 'POST',
      path: '/connectors/{id}/rotate',
      action: 'admin:connectors.write',
      async handle({ admin, params, body }) {
        const id = params[0] as string;
        const req = parseBody(RotateConnectorCredentialRequestSchema, body);
        const current = await existing(admin.orgId, id);
        const material = requireSecret(req.credential, 'credential');
        try {
          await vaultAdmin.rotateCredential(
            { orgId: admin.orgId, id: credentialId(id), material, actorId: admin.subjectId },
            opts,
          );
        } finally {
          material.secret.fill(0);
        }
        return out(200, admin.orgId, current);
      },
    },
  ];
}
