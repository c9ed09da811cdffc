/**
 * Starts every SaaS fake the connector catalog has a definition for, each on its own loopback
 * port, for the local stack and end-to-end tests. Each fake speaks its vendor's wire format
 * (see its file); `setDown` on any of them simulates that vendor's outage.
 */
import { startFakeGithub, type FakeGithub, type FakeGithubOptions } from './github.js';
import { startFakeJira, type FakeJira, type FakeJiraOptions } from './jira.js';
import {
  startFakeQuickbooks,
  type FakeQuickbooks,
  type FakeQuickbooksOptions,
} from './quickbooks.js';
import {
  startFakeSalesforce,
  type FakeSalesforce,
  type FakeSalesforceOptions,
} from './salesforce.js';
import { startFakeSlack, type FakeSlack, type FakeSlackOptions } from './slack.js';
import { startFakeZendesk, type FakeZendesk, type FakeZendeskOptions } from './zendesk.js';

export { GITHUB_DEFAULTS, startFakeGithub, type FakeGithub } from './github.js';
export { JIRA_DEFAULTS, startFakeJira, type FakeJira } from './jira.js';
export { QUICKBOOKS_DEFAULTS, startFakeQuickbooks, type FakeQuickbooks } from './quickbooks.js';
export { SALESFORCE_DEFAULTS, startFakeSalesforce, type FakeSalesforce } from './salesforce.js';
export { SLACK_DEFAULTS, startFakeSlack, type FakeSlack } from './slack.js';
export { ZENDESK_DEFAULTS, startFakeZendesk, type FakeZendesk } from './zendesk.js';
export type { FakeSaasServer, OutageMode, RecordedSaasRequest } from './fake-http.js';

/** Options per fake; each falls back to its `*_DEFAULTS` credentials. */
export interface SaasFakesOptions {
  readonly host?: string;
  readonly zendesk?: FakeZendeskOptions;
  readonly slack?: FakeSlackOptions;
  readonly github?: FakeGithubOptions;
  readonly jira?: FakeJiraOptions;
  readonly salesforce?: FakeSalesforceOptions;
  readonly accounting?: FakeQuickbooksOptions;
}

/** The running fakes, keyed by connector type. */
export interface SaasFakes {
  readonly zendesk: FakeZendesk;
  readonly slack: FakeSlack;
  readonly github: FakeGithub;
  readonly jira: FakeJira;
  readonly salesforce: FakeSalesforce;
  /** QuickBooks Online, the API the Accounting connector models. */
  readonly accounting: FakeQuickbooks;
  /** Base URL per connector type. */
  urls(): Record<string, string>;
  close(): Promise<void>;
}

/** Starts all SaaS fakes; if one fails to start, the others are closed again. */
export async function startSaasFakes(options: SaasFakesOptions = {}): Promise<SaasFakes> {
  const host = options.host === undefined ? {} : { host: options.host };
  const started = await Promise.allSettled([
    startFakeZendesk({ ...host, ...options.zendesk }),
    startFakeSlack({ ...host, ...options.slack }),
    startFakeGithub({ ...host, ...options.github }),
    startFakeJira({ ...host, ...options.jira }),
    startFakeSalesforce({ ...host, ...options.salesforce }),
    startFakeQuickbooks({ ...host, ...options.accounting }),
  ]);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.close()] : [])));
    throw failed.reason;
  }
  const [zendesk, slack, github, jira, salesforce, accounting] = started.map(
    (s) => (s as PromiseFulfilledResult<unknown>).value,
  ) as [FakeZendesk, FakeSlack, FakeGithub, FakeJira, FakeSalesforce, FakeQuickbooks];
  const all = { zendesk, slack, github, jira, salesforce, accounting };
  return {
    ...all,
    urls: () => Object.fromEntries(Object.entries(all).map(([type, fake]) => [type, fake.url])),
    close: async () => {
      await Promise.all(Object.values(all).map((fake) => fake.close()));
    },
  };
}
