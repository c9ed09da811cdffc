/**
 * Seed data of the fake GitHub: one organisation repository with issues and pull requests
 * whose bodies carry PII for the redactor, one issue locked.
 */

/** An issue or pull request as the fake stores it (GitHub numbers them in one sequence). */
export interface GithubIssue {
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: 'completed' | 'not_planned' | 'reopened' | null;
  author: string;
  labels: string[];
  assignees: string[];
  locked: boolean;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  comments: { id: number; author: string; body: string; created_at: string }[];
  /** Set for pull requests. */
  pull?: { head: string; base: string; draft: boolean; merged_at: string | null };
}

/** A repository as the fake stores it. */
export interface GithubRepo {
  id: number;
  owner: string;
  name: string;
  private: boolean;
  collaborators: string[];
  issues: GithubIssue[];
}

const T0 = Date.parse('2025-02-10T08:00:00Z');
const at = (hours: number) => new Date(T0 + hours * 3_600_000).toISOString().replace('.000Z', 'Z');

/** The repositories. */
export function seedRepos(): GithubRepo[] {
  let n = 0;
  const issue = (
    fields: Partial<GithubIssue> & Pick<GithubIssue, 'title' | 'author'>,
  ): GithubIssue => {
    n += 1;
    return {
      number: n,
      body: null,
      state: 'open',
      state_reason: null,
      labels: [],
      assignees: [],
      locked: false,
      created_at: at(n * 5),
      updated_at: at(n * 5 + 2),
      closed_at: null,
      comments: [],
      ...fields,
    };
  };
  return [
    {
      id: 700100,
      owner: 'acme',
      name: 'support-portal',
      private: true,
      collaborators: ['fortress-bot', 'octo-dev', 'mona'],
      issues: [
        issue({
          title: 'Password reset email never arrives',
          author: 'mona',
          labels: ['bug'],
          assignees: ['octo-dev'],
          body: 'Reported by jane.roe@example.com (+1 415-555-0134); reset mail bounces.',
        }),
        issue({
          title: 'Mask card numbers in the billing page',
          author: 'octo-dev',
          labels: ['security', 'bug'],
          body: 'The page shows 4111 1111 1111 1111 in full. Also an SSN 078-05-1120 leaked in logs.',
        }),
        issue({
          title: 'Add dark mode',
          author: 'mona',
          labels: ['enhancement'],
          state: 'closed',
          state_reason: 'completed',
          closed_at: at(40),
        }),
        issue({
          title: 'Fix reset mail sender',
          author: 'octo-dev',
          body: 'Fixes #1',
          pull: { head: 'fix/reset-mail', base: 'main', draft: false, merged_at: null },
        }),
        issue({
          title: 'Spam thread about crypto',
          author: 'mona',
          locked: true,
          body: 'Contact me at john.doe@example.org or (212) 555-0198',
        }),
        issue({
          title: 'Dark mode',
          author: 'mona',
          state: 'closed',
          state_reason: null,
          closed_at: at(41),
          pull: { head: 'feat/dark-mode', base: 'main', draft: false, merged_at: at(41) },
        }),
        issue({ title: 'Slow ticket search', author: 'octo-dev', labels: ['performance'] }),
        issue({
          title: 'WIP: search index',
          author: 'octo-dev',
          pull: { head: 'wip/search-index', base: 'main', draft: true, merged_at: null },
        }),
      ],
    },
  ];
}
