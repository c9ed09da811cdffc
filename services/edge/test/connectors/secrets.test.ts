import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { callTool } from '../../src/connectors/call-tool.js';
import { testConnection } from '../../src/connectors/test-connection.js';
import type {
  CredentialMaterial,
  TestConnectionOutcome,
  ToolOutcome,
} from '../../src/connectors/types.js';
import { fakeInstances } from './fakes-fixture.js';
import { credential, deadline, instance, secretOf } from './support.js';
import { startSaasFakes, type SaasFakes } from '@fortress/sandbox/saas/index';

/** Credential fields that name rather than prove (the executor may echo them). */
const NAMING_FIELDS = new Set(['username', 'client_id', 'app_id', 'installation_id', 'expires_at']);

/** A secret that must never come back out of the executor. */
const canary = (label: string) => `CANARY-${label}-${randomBytes(8).toString('hex')}`;

const C = {
  zendeskToken: canary('zd-token'),
  zendeskClientSecret: canary('zd-client'),
  zendeskRefresh: canary('zd-refresh'),
  slackBot: `xoxb-${canary('slack-bot')}`,
  slackClientSecret: canary('slack-client'),
  slackRefresh: canary('slack-refresh'),
  githubToken: canary('gh-pat'),
  jiraToken: canary('jira-token'),
  jiraClientSecret: canary('jira-client'),
  jiraRefresh: canary('jira-refresh'),
  salesforceClientSecret: canary('sf-client'),
  salesforceRefresh: canary('sf-refresh'),
  salesforcePassword: canary('sf-password'),
  quickbooksClientSecret: canary('qbo-client'),
  quickbooksRefresh: canary('qbo-refresh'),
  wrong: canary('wrong'),
};
const EMAIL = 'canary.agent@fortress-demo.example';
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const APP_KEY = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

/** Every form a secret could leak in: itself, base64, and inside HTTP Basic credentials. */
function leakForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const s of secrets) {
    forms.add(s);
    forms.add(Buffer.from(s).toString('base64'));
    forms.add(Buffer.from(s).toString('base64url'));
    for (const user of [EMAIL, `${EMAIL}/token`, 'fortress_gateway', 'fortressJiraClient01']) {
      forms.add(Buffer.from(`${user}:${s}`).toString('base64'));
    }
  }
  // The PEM body lines of the app key, any of which would be a leak.
  for (const line of APP_KEY.split('\n')) if (line.length > 40) forms.add(line);
  return [...forms];
}

/** An outcome as the caller would show or log it: everything but the material to store. */
function visible(outcome: ToolOutcome | TestConnectionOutcome): string {
  const { refreshedCredential, ...rest } = outcome;
  void refreshedCredential;
  return JSON.stringify(rest);
}

describe('no secret in any outcome', () => {
  let fakes: SaasFakes;
  const outcomes: { name: string; text: string }[] = [];
  const minted: string[] = [];

  before(async () => {
    fakes = await startSaasFakes({
      zendesk: {
        email: EMAIL,
        apiToken: C.zendeskToken,
        clientSecret: C.zendeskClientSecret,
        refreshToken: C.zendeskRefresh,
      },
      slack: {
        botToken: C.slackBot,
        clientSecret: C.slackClientSecret,
        refreshToken: C.slackRefresh,
      },
      github: {
        tokens: [C.githubToken],
        app: {
          appId: '4242',
          installationId: '77',
          publicKeyPem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
      },
      jira: {
        email: EMAIL,
        apiToken: C.jiraToken,
        clientSecret: C.jiraClientSecret,
        refreshToken: C.jiraRefresh,
      },
      salesforce: {
        clientSecret: C.salesforceClientSecret,
        refreshToken: C.salesforceRefresh,
        password: C.salesforcePassword,
      },
      accounting: { clientSecret: C.quickbooksClientSecret, refreshToken: C.quickbooksRefresh },
    });
  });
  after(() => fakes.close());

  const good = (): Record<string, CredentialMaterial[]> => ({
    zendesk: [
      credential('api_key', C.zendeskToken, { username: EMAIL }),
      credential('oauth2', '', {
        refresh_token: C.zendeskRefresh,
        client_id: 'fortress_gateway',
        client_secret: C.zendeskClientSecret,
      }),
    ],
    slack: [
      credential('api_key', C.slackBot),
      credential('oauth2', '', {
        refresh_token: C.slackRefresh,
        client_id: '1000000001.3000000003',
        client_secret: C.slackClientSecret,
      }),
    ],
    github: [
      credential('api_key', C.githubToken),
      credential('app', APP_KEY, { app_id: '4242', installation_id: '77' }),
    ],
    jira: [
      credential('api_key', C.jiraToken, { username: EMAIL }),
      credential('oauth2', '', {
        refresh_token: C.jiraRefresh,
        client_id: 'fortressJiraClient01',
        client_secret: C.jiraClientSecret,
      }),
    ],
    salesforce: [
      credential('oauth2', '', {
        refresh_token: C.salesforceRefresh,
        client_id: '3MVG9fortressDemoConsumerKey',
        client_secret: C.salesforceClientSecret,
      }),
      credential('username_password', C.salesforcePassword, {
        username: 'integration@fortress-demo.example',
        client_id: '3MVG9fortressDemoConsumerKey',
        client_secret: C.salesforceClientSecret,
      }),
    ],
    accounting: [
      credential('oauth2', '', {
        refresh_token: C.quickbooksRefresh,
        client_id: 'ABfortressDemoClientId0123456789',
        client_secret: C.quickbooksClientSecret,
      }),
    ],
  });
  const wrong = (type: string): CredentialMaterial => {
    const base = good()[type]?.[0];
    assert.ok(base);
    // The same kind and fields with a secret the vendor does not know (and, for OAuth, a dead access token).
    return {
      ...base,
      secret: new TextEncoder().encode(C.wrong),
      fields: {
        ...base.fields,
        expires_at: new TextEncoder().encode(String(Date.now() + 3_600_000)),
        refresh_token: new TextEncoder().encode(`${C.wrong}-r`),
      },
    };
  };
  const calls: Record<
    string,
    { ok: [string, Record<string, unknown>]; no: [string, Record<string, unknown>] }
  > = {
    zendesk: { ok: ['get_ticket', { id: 1 }], no: ['get_ticket', { id: 999 }] },
    slack: {
      ok: ['list_channels', {}],
      no: ['post_message', { channel: 'C0NOPE0001', text: 'x' }],
    },
    github: {
      ok: ['get_issue', { owner: 'acme', repo: 'support-portal', issue_number: 1 }],
      no: ['get_issue', { owner: 'acme', repo: 'nope', issue_number: 1 }],
    },
    jira: { ok: ['get_issue', { key: 'SUP-1' }], no: ['search_issues', { jql: 'ORDER BY key' }] },
    salesforce: {
      ok: ['query', { soql: 'SELECT Id, Email FROM Contact' }],
      no: ['query', { soql: 'SELECT Shoe FROM Account' }],
    },
    accounting: { ok: ['get_invoice', { id: '130' }], no: ['get_invoice', { id: '999' }] },
  };

  /** Runs a call, checks it came to what the situation should, and keeps its visible text. */
  async function record(
    name: string,
    expected: 'result' | 'business_error' | 'unavailable' | 'ok' | 'not ok',
    run: () => Promise<ToolOutcome | TestConnectionOutcome>,
  ) {
    const outcome = await run();
    const kind = 'kind' in outcome ? outcome.kind : outcome.ok ? 'ok' : 'not ok';
    assert.equal(kind, expected, `${name}: ${visible(outcome)}`);
    outcomes.push({ name, text: visible(outcome) });
    if (outcome.refreshedCredential) minted.push(secretOf(outcome.refreshedCredential));
    return outcome;
  }

  it('collects outcomes of every connector in every situation', async () => {
    const instances = fakeInstances(fakes);
    for (const [type, creds] of Object.entries(good())) {
      const inst = instances[type];
      const plan = calls[type];
      assert.ok(inst && plan);
      for (const cred of creds) {
        const label = `${type}/${cred.kind}`;
        // Held like the vault would: rotated refresh tokens replace the stored ones.
        let current = cred;
        const go = async (action: string, args: Record<string, unknown>) => {
          const outcome = await callTool({
            instance: inst,
            credential: current,
            action,
            args,
            signal: deadline(),
          });
          if (outcome.refreshedCredential) current = outcome.refreshedCredential;
          return outcome;
        };
        await record(`${label} result`, 'result', () => go(...plan.ok));
        await record(`${label} business error`, 'business_error', () => go(...plan.no));
        await record(`${label} test`, 'ok', async () => {
          const outcome = await testConnection({
            instance: inst,
            credential: current,
            signal: deadline(),
          });
          if (outcome.refreshedCredential) current = outcome.refreshedCredential;
          return outcome;
        });
        for (const mode of ['503', 'reset'] as const) {
          fakes[type as 'zendesk'].setDown(mode);
          try {
            await record(`${label} outage ${mode}`, 'unavailable', () => go(...plan.ok));
          } finally {
            fakes[type as 'zendesk'].setDown(false);
          }
        }
      }
      await record(`${type} wrong credential`, 'unavailable', () =>
        callTool({
          instance: inst,
          credential: wrong(type),
          action: plan.ok[0],
          args: plan.ok[1],
          signal: deadline(),
        }),
      );
      await record(`${type} wrong credential test`, 'not ok', () =>
        testConnection({ instance: inst, credential: wrong(type), signal: deadline() }),
      );
    }
    assert.ok(outcomes.length > 60);
  });

  it('finds none of the stored secrets, minted tokens or their encodings in any outcome', () => {
    const forms = leakForms([...Object.values(C), ...minted]);
    for (const { name, text } of outcomes) {
      for (const form of forms) assert.ok(!text.includes(form), `${name} leaks a secret: ${text}`);
    }
  });

  it('scrubs secrets a vendor echoes back in an error body', async () => {
    const echoBodies: Record<string, (echo: string) => unknown> = {
      zendesk: (echo) => ({ error: 'RecordInvalid', description: echo }),
      slack: (echo) => ({ ok: false, error: echo }),
      github: (echo) => ({ message: echo, documentation_url: 'https://docs.github.com/rest' }),
      jira: (echo) => ({ errorMessages: [echo], errors: {} }),
      salesforce: (echo) => [{ errorCode: 'INVALID_INPUT', message: echo }],
      accounting: (echo) => ({
        Fault: { Error: [{ Message: 'Bad', Detail: echo, code: '1' }], type: 'ValidationFault' },
      }),
    };
    const instances = fakeInstances(fakes);
    for (const [type, body] of Object.entries(echoBodies)) {
      for (const cred of good()[type] ?? []) {
        const echoing = ((input: string | URL | Request, init?: RequestInit) => {
          const url = new URL(input instanceof Request ? input.url : input);
          const headers = (init?.headers ?? {}) as Record<string, string>;
          if (/token|oauth|access_tokens/.test(url.pathname)) {
            return Promise.resolve(
              Response.json(
                {
                  access_token: `minted-${randomBytes(8).toString('hex')}`,
                  token: `ghs_${randomBytes(8).toString('hex')}`,
                  expires_in: 3600,
                  expires_at: new Date(Date.now() + 3_600_000).toISOString(),
                },
                { status: url.pathname.includes('access_tokens') ? 201 : 200 },
              ),
            );
          }
          const echo = `you sent ${headers['authorization'] ?? ''} and ${typeof init?.body === 'string' ? init.body : ''}`;
          return Promise.resolve(
            Response.json(body(echo), { status: type === 'slack' ? 200 : 400 }),
          );
        }) as typeof fetch;
        const inst = instances[type] ?? instance(type, 'http://127.0.0.1:9');
        const outcome = await callTool({
          instance: inst,
          credential: cred,
          action: calls[type]?.ok[0] ?? '',
          args: calls[type]?.ok[1] ?? {},
          signal: deadline(),
          fetch: echoing,
        });
        assert.equal(outcome.kind, 'business_error', `${type}/${cred.kind}: ${visible(outcome)}`);
        const text = visible(outcome);
        assert.match(text, /\[redacted\]/, `${type}/${cred.kind}`);
        const secrets = [
          secretOf(cred),
          ...Object.entries(cred.fields)
            .filter(([name]) => !NAMING_FIELDS.has(name))
            .map(([, value]) => new TextDecoder().decode(value)),
        ].filter((secret) => secret !== '');
        for (const form of leakForms(secrets))
          assert.ok(!text.includes(form), `${type}/${cred.kind} leaks: ${text}`);
        if (outcome.refreshedCredential)
          assert.ok(!text.includes(secretOf(outcome.refreshedCredential)));
      }
    }
  });
});
