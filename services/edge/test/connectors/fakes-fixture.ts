/**
 * All SaaS fakes with one working credential and instance per connector type, the way the
 * gateway holds them: a refreshed OAuth credential replaces the stored one, as the caller of
 * `callTool` must do (QuickBooks, Jira, Zendesk and Slack rotate refresh tokens).
 */
import {
  GITHUB_DEFAULTS,
  JIRA_DEFAULTS,
  QUICKBOOKS_DEFAULTS,
  SALESFORCE_DEFAULTS,
  SLACK_DEFAULTS,
  startSaasFakes,
  ZENDESK_DEFAULTS,
  type FakeSaasServer,
  type SaasFakes,
} from '@fortress/sandbox/saas/index';
import { callTool } from '../../src/connectors/call-tool.js';
import { testConnection } from '../../src/connectors/test-connection.js';
import type {
  ConnectorInstance,
  CredentialMaterial,
  TestConnectionOutcome,
  ToolOutcome,
} from '../../src/connectors/types.js';
import { credential, deadline, instance } from './support.js';

/** The fakes plus a vault-like store of one credential per connector type. */
export interface Fixture {
  fakes: SaasFakes;
  instances: Record<string, ConnectorInstance>;
  credentials: Record<string, CredentialMaterial>;
  /** Calls a tool with the stored credential, storing back any refreshed one. */
  call(
    type: string,
    action: string,
    args: Record<string, unknown>,
    pageSize?: number,
  ): Promise<ToolOutcome>;
  test(type: string): Promise<TestConnectionOutcome>;
  /** The fake of a connector type. */
  fake(type: string): FakeSaasServer;
}

/** The default working credential of each connector type against its fake. */
export function defaultCredentials(): Record<string, CredentialMaterial> {
  return {
    zendesk: credential('api_key', ZENDESK_DEFAULTS.apiToken, { username: ZENDESK_DEFAULTS.email }),
    slack: credential('api_key', SLACK_DEFAULTS.botToken),
    github: credential('api_key', GITHUB_DEFAULTS.token),
    jira: credential('api_key', JIRA_DEFAULTS.apiToken, { username: JIRA_DEFAULTS.email }),
    // An OAuth credential holding only the refresh token, as after the consent flow.
    salesforce: credential('oauth2', '', {
      refresh_token: SALESFORCE_DEFAULTS.refreshToken,
      client_id: SALESFORCE_DEFAULTS.clientId,
      client_secret: SALESFORCE_DEFAULTS.clientSecret,
    }),
    accounting: credential('oauth2', '', {
      refresh_token: QUICKBOOKS_DEFAULTS.refreshToken,
      client_id: QUICKBOOKS_DEFAULTS.clientId,
      client_secret: QUICKBOOKS_DEFAULTS.clientSecret,
    }),
  };
}

/** Instances pointing at the fakes; token endpoints overridden to the fakes' own. */
export function fakeInstances(fakes: SaasFakes): Record<string, ConnectorInstance> {
  return {
    zendesk: instance('zendesk', fakes.zendesk.url),
    slack: instance('slack', fakes.slack.url),
    github: instance('github', fakes.github.url),
    jira: instance('jira', fakes.jira.url, { tokenUrl: `${fakes.jira.url}/oauth/token` }),
    salesforce: instance('salesforce', fakes.salesforce.url),
    accounting: instance('accounting', fakes.accounting.url, {
      realmId: QUICKBOOKS_DEFAULTS.realmId,
      tokenUrl: `${fakes.accounting.url}/oauth2/v1/tokens/bearer`,
    }),
  };
}

/** Starts the fakes and the store. */
export async function startFixture(
  options: Parameters<typeof startSaasFakes>[0] = {},
): Promise<Fixture> {
  const fakes = await startSaasFakes(options);
  const instances = fakeInstances(fakes);
  const credentials = defaultCredentials();
  const lookup = (type: string) => {
    const inst = instances[type];
    const cred = credentials[type];
    if (inst === undefined || cred === undefined) throw new Error(`no fixture for ${type}`);
    return { inst, cred };
  };
  return {
    fakes,
    instances,
    credentials,
    async call(type, action, args, pageSize) {
      const { inst, cred } = lookup(type);
      const outcome = await callTool({
        instance: inst,
        credential: cred,
        action,
        args,
        signal: deadline(),
        ...(pageSize === undefined ? {} : { pageSize }),
      });
      if (outcome.refreshedCredential) credentials[type] = outcome.refreshedCredential;
      return outcome;
    },
    fake(type) {
      const found = (fakes as unknown as Record<string, FakeSaasServer | undefined>)[type];
      if (found === undefined) throw new Error(`no fake for ${type}`);
      return found;
    },
    async test(type) {
      const { inst, cred } = lookup(type);
      const outcome = await testConnection({
        instance: inst,
        credential: cred,
        signal: deadline(),
      });
      if (outcome.refreshedCredential) credentials[type] = outcome.refreshedCredential;
      return outcome;
    },
  };
}
