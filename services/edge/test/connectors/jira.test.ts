import assert from 'node:assert/strict';
import { JIRA_DEFAULTS, startFakeJira, type FakeJira } from '@fortress/sandbox/saas/jira';
import { callTool } from '../../src/connectors/call-tool.js';
import type { CredentialMaterial } from '../../src/connectors/types.js';
import {
  assertMatchesOutputSchema,
  businessErrorOf,
  credential,
  deadline,
  field,
  instance,
  resultOf,
  unavailableReason,
} from './support.js';

describe('jira connector', () => {
  let fake: FakeJira;
  beforeEach(async () => {
    fake = await startFakeJira();
  });
  afterEach(() => fake.close());

  const apiToken = (token: string = JIRA_DEFAULTS.apiToken) =>
    credential('api_key', token, { username: JIRA_DEFAULTS.email });
  const oauth = (accessToken: string) =>
    credential('oauth2', accessToken, {
      refresh_token: JIRA_DEFAULTS.refreshToken,
      client_id: JIRA_DEFAULTS.clientId,
      client_secret: JIRA_DEFAULTS.clientSecret,
    });
  const call = (
    action: string,
    args: Record<string, unknown>,
    cred: CredentialMaterial = apiToken(),
    pageSize?: number,
  ) =>
    callTool({
      instance: instance('jira', fake.url, { tokenUrl: `${fake.url}/oauth/token` }),
      credential: cred,
      action,
      args,
      signal: deadline(),
      ...(pageSize === undefined ? {} : { pageSize }),
    });

  it('sends Basic {email}:{api_token}', async () => {
    resultOf(await call('get_issue', { key: 'SUP-1' }));
    const expected = Buffer.from(`${JIRA_DEFAULTS.email}:${JIRA_DEFAULTS.apiToken}`).toString(
      'base64',
    );
    assert.equal(fake.requests[0]?.headers['authorization'], `Basic ${expected}`);
  });

  it('pages the enhanced JQL search with nextPageToken', async () => {
    const result = resultOf(
      await call('search_issues', { jql: 'project = SUP ORDER BY key ASC' }, apiToken(), 2),
    );
    assertMatchesOutputSchema('jira', 'search_issues', result);
    assert.deepEqual(
      (result['issues'] as { key: string }[]).map((i) => i.key),
      ['SUP-1', 'SUP-2', 'SUP-3', 'SUP-4', 'SUP-5', 'SUP-6'],
    );
    assert.equal(result['has_more'], false);
    assert.equal(fake.requests.length, 3);
    assert.ok(
      fake.requests.slice(1).every((r) => new URLSearchParams(r.query).has('nextPageToken')),
    );
  });

  it('searches by assignee with currentUser()', async () => {
    const result = resultOf(
      await call('search_issues', { jql: 'assignee = currentUser() AND status != Done' }),
    );
    assert.deepEqual((result['issues'] as { key: string }[]).map((i) => i.key).sort(), [
      'SUP-1',
      'SUP-3',
      'SUP-4',
    ]);
  });

  it('sends the description as Atlassian Document Format', async () => {
    resultOf(
      await call('create_issue', {
        project_key: 'OPS',
        summary: 'Patch servers',
        description: 'one\n\ntwo',
      }),
    );
    const sent = JSON.parse(fake.requests[0]?.body ?? '{}') as { fields: { description: unknown } };
    assert.deepEqual(sent.fields.description, {
      type: 'doc',
      version: 1,
      content: [
        { type: 'paragraph', content: [{ type: 'text', text: 'one' }] },
        { type: 'paragraph', content: [] },
        { type: 'paragraph', content: [{ type: 'text', text: 'two' }] },
      ],
    });
    const read = resultOf(await call('get_issue', { key: 'OPS-2' }));
    assert.equal((read['issue'] as { description: string }).description, 'one\n\ntwo');
  });

  it('transitions an issue to Done', async () => {
    const transitions = resultOf(await call('list_transitions', { key: 'SUP-2' }));
    const done = (transitions['transitions'] as { id: string; to_status: string }[]).find(
      (t) => t.to_status === 'Done',
    );
    assert.ok(done);
    resultOf(await call('transition_issue', { key: 'SUP-2', transition_id: done.id }));
    const issue = resultOf(await call('get_issue', { key: 'SUP-2' }));
    assert.equal((issue['issue'] as { status: string }).status, 'Done');
  });

  const businessErrors = [
    {
      name: 'an unbounded JQL query',
      action: 'search_issues',
      args: { jql: 'ORDER BY created' },
      status: 400,
      message:
        'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
    },
    {
      name: 'an unknown JQL field',
      action: 'search_issues',
      args: { jql: 'flavour = vanilla' },
      status: 400,
      message: "Field 'flavour' does not exist or you do not have permission to view it.",
    },
    {
      name: 'a missing issue',
      action: 'get_issue',
      args: { key: 'SUP-999' },
      status: 404,
      message: 'Issue does not exist or you do not have permission to see it.',
    },
    {
      name: 'an invalid transition',
      action: 'transition_issue',
      args: { key: 'SUP-1', transition_id: '99' },
      status: 400,
      message: "Transition id '99' is not valid for this issue.",
    },
    {
      name: 'deleting an issue with subtasks',
      action: 'delete_issue',
      args: { key: 'SUP-3' },
      status: 400,
      message: 'The issue has subtasks. To delete it, set deleteSubtasks to true.',
    },
    {
      name: 'an unknown issue type',
      action: 'create_issue',
      args: { project_key: 'SUP', summary: 'x', issue_type: 'Epic' },
      status: 400,
      message: 'issuetype: Specify an issue type',
    },
  ];
  for (const c of businessErrors) {
    it(`passes Jira's errorMessages/errors on for ${c.name}`, async () => {
      const error = businessErrorOf(await call(c.action, c.args));
      assert.equal(error.status, c.status);
      assert.equal(error.message, c.message);
    });
  }

  it('deletes an issue and its subtasks when asked to', async () => {
    resultOf(await call('delete_issue', { key: 'SUP-3', delete_subtasks: true }));
    assert.equal(businessErrorOf(await call('get_issue', { key: 'SUP-4' })).status, 404);
  });

  it("reports a wrong API token as unavailable with Jira's plain-text 401", async () => {
    const reason = unavailableReason(
      await call('get_issue', { key: 'SUP-1' }, apiToken('wrong-wrong-wrong')),
    );
    assert.equal(
      reason,
      'Jira did not accept the credentials (401): Client must be authenticated to access this resource.',
    );
  });

  it('refreshes a refused OAuth token (rotating the refresh token) and retries once', async () => {
    const first = await call('get_issue', { key: 'SUP-1' }, oauth('expired-access-token'));
    resultOf(first);
    assert.ok(first.refreshedCredential);
    assert.notEqual(field(first.refreshedCredential, 'refresh_token'), JIRA_DEFAULTS.refreshToken);
    assert.deepEqual(
      fake.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /rest/api/3/issue/SUP-1', 'POST /oauth/token', 'GET /rest/api/3/issue/SUP-1'],
    );
    // The old refresh token was rotated away: using it again fails for good.
    const stale = await call('get_issue', { key: 'SUP-1' }, oauth('expired-access-token'));
    assert.equal(
      unavailableReason(stale),
      'Jira refused the token refresh (403): invalid_grant (Unknown or invalid refresh token.)',
    );
  });
});
