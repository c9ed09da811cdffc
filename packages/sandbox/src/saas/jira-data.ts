/**
 * Seed data of the fake Jira Cloud site: two projects, a three-step workflow, users, and
 * issues whose descriptions (Atlassian Document Format) carry PII for the redactor.
 */

/** A Jira user. */
export interface JiraUser {
  accountId: string;
  displayName: string;
  emailAddress: string;
}

/** A workflow status. */
export interface JiraStatus {
  id: string;
  name: string;
  category: { id: number; key: 'new' | 'indeterminate' | 'done'; name: string; colorName: string };
}

/** An issue as the fake stores it. */
export interface JiraIssue {
  id: string;
  key: string;
  projectKey: string;
  summary: string;
  /** Atlassian Document Format, or null. */
  description: unknown;
  issueType: string;
  status: JiraStatus;
  priority: string | null;
  assignee: string | null;
  reporter: string;
  parent: string | null;
  created: string;
  updated: string;
  comments: { author: string; body: unknown; created: string }[];
}

export const STATUSES = {
  todo: {
    id: '10000',
    name: 'To Do',
    category: { id: 2, key: 'new', name: 'To Do', colorName: 'blue-gray' },
  },
  progress: {
    id: '3',
    name: 'In Progress',
    category: { id: 4, key: 'indeterminate', name: 'In Progress', colorName: 'yellow' },
  },
  done: {
    id: '10001',
    name: 'Done',
    category: { id: 3, key: 'done', name: 'Done', colorName: 'green' },
  },
} as const satisfies Record<string, JiraStatus>;

/** Workflow transitions: id, name and target status. */
export const TRANSITIONS = [
  { id: '11', name: 'To Do', to: STATUSES.todo },
  { id: '21', name: 'In Progress', to: STATUSES.progress },
  { id: '31', name: 'Done', to: STATUSES.done },
] as const;

export const PROJECTS = [
  { id: '10001', key: 'SUP', name: 'Support' },
  { id: '10002', key: 'OPS', name: 'Operations' },
] as const;

export const ISSUE_TYPES = ['Task', 'Bug', 'Story', 'Sub-task'] as const;

/** A paragraph document of plain text. */
export function adf(text: string): unknown {
  return {
    type: 'doc',
    version: 1,
    content: [{ type: 'paragraph', content: [{ type: 'text', text }] }],
  };
}

/** The users; the first is the API user of the default credentials. */
export function seedUsers(apiEmail: string): JiraUser[] {
  return [
    { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Avery Agent', emailAddress: apiEmail },
    {
      accountId: '5b10a2844c20165700ede21g',
      displayName: 'Mia Krystof',
      emailAddress: 'mia.krystof@fortress-demo.example',
    },
  ];
}

const T0 = Date.parse('2025-01-20T10:00:00.000Z');
const at = (hours: number) => new Date(T0 + hours * 3_600_000).toISOString().replace('Z', '+0000');

/** The issues. */
export function seedIssues(users: readonly JiraUser[]): JiraIssue[] {
  const [me, mia] = users.map((u) => u.accountId) as [string, string];
  let n = 0;
  const issue = (
    projectKey: string,
    number: number,
    fields: Partial<JiraIssue> & Pick<JiraIssue, 'summary'>,
  ): JiraIssue => {
    n += 1;
    return {
      id: String(10_000 + n),
      key: `${projectKey}-${number}`,
      projectKey,
      description: null,
      issueType: 'Task',
      status: STATUSES.todo,
      priority: 'Medium',
      assignee: null,
      reporter: me,
      parent: null,
      created: at(n * 4),
      updated: at(n * 4 + 1),
      comments: [],
      ...fields,
    };
  };
  return [
    issue('SUP', 1, {
      summary: 'Customer cannot reset password',
      issueType: 'Bug',
      priority: 'High',
      assignee: me,
      description: adf('Customer jane.roe@example.com (+1 415-555-0134) gets no reset mail.'),
    }),
    issue('SUP', 2, {
      summary: 'Refund double charge',
      status: STATUSES.progress,
      assignee: mia,
      description: adf('Card 4111 1111 1111 1111 was charged twice; refund one.'),
    }),
    issue('SUP', 3, {
      summary: 'Verify identity for account recovery',
      assignee: me,
      description: adf('Caller gave SSN 078-05-1120 and phone (212) 555-0198.'),
    }),
    issue('SUP', 4, {
      summary: 'Call the customer back',
      issueType: 'Sub-task',
      parent: 'SUP-3',
      assignee: me,
    }),
    issue('SUP', 5, { summary: 'Old outage follow-up', status: STATUSES.done, priority: 'Low' }),
    issue('SUP', 6, { summary: 'Translate help articles', issueType: 'Story', assignee: mia }),
    issue('OPS', 1, { summary: 'Rotate database credentials', priority: 'Highest', assignee: mia }),
  ];
}
