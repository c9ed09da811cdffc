import type { Client } from '@connectrpc/connect';
import { AlertService } from '@fortress/proto/audit/v1/alert_pb';
import { AuditService } from '@fortress/proto/audit/v1/audit_pb';
import { WebhookService } from '@fortress/proto/audit/v1/webhook_pb';
import { BillingService } from '@fortress/proto/billing/v1/billing_pb';
import { IdentityAdminService, IdentityService } from '@fortress/proto/identity/v1/identity_pb';
import { PolicyAdminService, PolicyService } from '@fortress/proto/policy/v1/policy_pb';
import { PostureService } from '@fortress/proto/posture/v1/posture_pb';
import { VaultAdminService, VaultService } from '@fortress/proto/vault/v1/vault_pb';
import { createServiceClient } from '@fortress/kit/rpc-client';
import { apiTelemetry } from '@fortress/kit/telemetry';
import { loadTls } from '@fortress/kit/tls';

/** Clients of every service, authenticated as one mTLS identity (the operator, or another). */
export interface OperatorClients {
  identity: Client<typeof IdentityService>;
  identityAdmin: Client<typeof IdentityAdminService>;
  posture: Client<typeof PostureService>;
  policy: Client<typeof PolicyService>;
  policyAdmin: Client<typeof PolicyAdminService>;
  vault: Client<typeof VaultService>;
  vaultAdmin: Client<typeof VaultAdminService>;
  audit: Client<typeof AuditService>;
  webhooks: Client<typeof WebhookService>;
  alerts: Client<typeof AlertService>;
  billing: Client<typeof BillingService>;
}

/** Creates gRPC clients of the stack's services using the certificate of `as`. */
export function operatorClients(
  tlsDir: string,
  urls: Record<string, string>,
  as = 'operator',
): OperatorClients {
  const tls = loadTls(tlsDir, as);
  const telemetry = apiTelemetry(`fortress-${as}`);
  const make = <S extends Parameters<typeof createServiceClient>[0]>(service: S, name: string) =>
    createServiceClient(service, {
      baseUrl: urls[name] ?? '',
      tls,
      expectedService: name,
      telemetry,
      defaultTimeoutMs: 5000,
    });
  return {
    identity: make(IdentityService, 'identity'),
    identityAdmin: make(IdentityAdminService, 'identity'),
    posture: make(PostureService, 'posture'),
    policy: make(PolicyService, 'policy'),
    policyAdmin: make(PolicyAdminService, 'policy'),
    vault: make(VaultService, 'vault'),
    vaultAdmin: make(VaultAdminService, 'vault'),
    audit: make(AuditService, 'audit'),
    webhooks: make(WebhookService, 'audit'),
    alerts: make(AlertService, 'audit'),
    billing: make(BillingService, 'billing'),
  };
}
