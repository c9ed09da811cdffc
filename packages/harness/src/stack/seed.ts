import { ConnectError, Code } from '@connectrpc/connect';
import { Product, Tier } from '@fortress/proto/common/v1/common_pb';
import { KeyEnvironment } from '@fortress/proto/identity/v1/identity_pb';
import { Effect } from '@fortress/proto/policy/v1/policy_pb';
import { CredentialKind } from '@fortress/proto/vault/v1/vault_pb';
import type { OperatorClients } from './operator-clients.js';

/** An org set up for PAT traffic: a role, an upstream credential and an org key for it. */
export interface SeededOrg {
  orgId: string;
  patKeyId: string;
  orgKey: string;
  orgKeyId: string;
}

/** What to create. */
export interface SeedOptions {
  orgId: string;
  name: string;
  tier?: Tier;
  patKeyId: string;
  /** The upstream Anthropic key the PAT key holds. */
  anthropicKey: string;
  role?: string;
  /** Models the role may use; "*" for all. */
  allowedModels: string[];
  deniedModels?: string[];
}

const ignoreExists = (err: unknown) => {
  if (err instanceof ConnectError && err.code === Code.AlreadyExists) return undefined;
  throw err;
};

/**
 * Creates (or completes) an org through the services' own admin RPCs, exactly as an admin
 * would: the org, a role granting models, the PAT key's upstream credential in the vault, and
 * a new org key issued for that PAT key. Safe to run again; it always issues a new org key.
 */
export async function seedOrg(clients: OperatorClients, o: SeedOptions): Promise<SeededOrg> {
  const role = o.role ?? 'developer';
  await clients.identityAdmin
    .createOrg({ id: o.orgId, name: o.name, tier: o.tier ?? Tier.SOHO })
    .catch(ignoreExists);
  await clients.policyAdmin.putRole({
    orgId: o.orgId,
    role: {
      name: role,
      description: 'may call the Claude API with the allowed models',
      grants: [
        ...o.allowedModels.map((m) => ({
          resourceType: 'model',
          resourceId: m,
          effect: Effect.ALLOW,
        })),
        ...(o.deniedModels ?? []).map((m) => ({
          resourceType: 'model',
          resourceId: m,
          effect: Effect.DENY,
        })),
      ],
    },
    actorId: 'operator',
  });
  await clients.vaultAdmin
    .putCredential({
      orgId: o.orgId,
      id: o.patKeyId,
      label: `${o.name} Anthropic key`,
      kind: CredentialKind.ANTHROPIC_KEY,
      material: { secret: new TextEncoder().encode(o.anthropicKey) },
      actorId: 'operator',
    })
    .catch(ignoreExists);
  const key = await clients.identityAdmin.createApiKey({
    orgId: o.orgId,
    label: `${o.name} org key`,
    roles: [role],
    products: [Product.PAT],
    patKeyId: o.patKeyId,
    environment: KeyEnvironment.LIVE,
  });
  return { orgId: o.orgId, patKeyId: o.patKeyId, orgKey: key.secret, orgKeyId: key.key?.id ?? '' };
}

/** An admin-plane user to create (Login with org id, email and password). */
export interface AdminSeedOptions {
  orgId: string;
  email: string;
  /** At least 12 characters. */
  password: string;
  /** Admin-plane roles; owner when omitted. */
  roles?: string[];
}

/** What seedAdmin did: created the user, or found one with that email already there. */
export type SeededAdmin =
  { created: true; userId: string; email: string } | { created: false; email: string };

/**
 * Creates an admin user through CreateUser, as an operator would. Safe to run again: an
 * existing user with the email is left as it is (its password unchanged), and reported.
 */
export async function seedAdmin(
  clients: OperatorClients,
  a: AdminSeedOptions,
): Promise<SeededAdmin> {
  const created = await clients.identityAdmin
    .createUser({
      orgId: a.orgId,
      email: a.email,
      password: a.password,
      roles: a.roles ?? ['owner'],
    })
    .catch(ignoreExists);
  if (!created?.user) return { created: false, email: a.email };
  return { created: true, userId: created.user.id, email: created.user.email };
}
