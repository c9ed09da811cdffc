/**
 * Seed data of the fake Slack workspace: channels the bot is in or not, one archived, and
 * messages whose text carries PII for the redactor to catch.
 */

/** A Slack channel as the fake stores it. */
export interface SlackChannel {
  id: string;
  name: string;
  is_private: boolean;
  is_archived: boolean;
  /** Whether the bot user is a member (it can read and post). */
  bot_member: boolean;
  topic: string;
  purpose: string;
  created: number;
  num_members: number;
  messages: SlackMessage[];
}

/** A Slack message as the fake stores it. */
export interface SlackMessage {
  ts: string;
  user?: string;
  bot_id?: string;
  text: string;
  thread_ts?: string;
  reply_count?: number;
}

/** The team and the bot identity of the fake. */
export const SLACK_TEAM = {
  id: 'T0FORTRESS',
  name: 'Fortress Demo',
  domain: 'fortress-demo',
  botUserId: 'U0FORTBOT1',
  botId: 'B0FORTBOT1',
  appId: 'A0FORTAPP1',
} as const;

const base = 1_741_000_000;

function history(...texts: [string, string][]): SlackMessage[] {
  // Newest first, as conversations.history returns them.
  return texts
    .map(([user, text], i) => ({
      ts: `${base + i * 60}.${String(100 + i).padStart(6, '0')}`,
      user,
      text,
    }))
    .reverse();
}

/** The channels. */
export function seedChannels(): SlackChannel[] {
  const channel = (
    id: string,
    name: string,
    fields: Partial<Omit<SlackChannel, 'id' | 'name'>>,
  ): SlackChannel => ({
    id,
    name,
    is_private: false,
    is_archived: false,
    bot_member: true,
    topic: '',
    purpose: '',
    created: base - 86_400,
    num_members: 12,
    messages: [],
    ...fields,
  });
  return [
    channel('C024BE91L', 'general', {
      topic: 'Company-wide announcements',
      purpose: 'This channel is for workspace-wide communication.',
      num_members: 42,
      messages: history(
        ['U0JANEROE1', 'Morning all! Standup at 10.'],
        [
          'U0JOHNDOE1',
          'Customer John Doe (john.doe@example.org, +1 415-555-0134) asked for a call back.',
        ],
        ['U0JANEROE1', 'Reminder: never paste card numbers like 4111 1111 1111 1111 in here.'],
        ['U0PRIYAP01', 'HR needs the SSN 219-09-9999 corrected on the payroll form.'],
        ['U0JOHNDOE1', 'Lunch?'],
      ),
    }),
    channel('C0SUPPORT1', 'support', {
      topic: 'Escalations',
      messages: history(
        ['U0JANEROE1', 'Ticket #2: jane.roe@example.com was charged twice.'],
        ['U0JOHNDOE1', 'Looking into it.'],
      ),
    }),
    channel('C0RANDOM01', 'random', {
      bot_member: false,
      messages: history(['U0JOHNDOE1', 'cat pictures']),
    }),
    channel('C0ENGINEER', 'engineering', {
      messages: history(['U0PRIYAP01', 'Deploy at 15:00 UTC.']),
    }),
    channel('C0SALES001', 'sales', {
      messages: history(['U0PRIYAP01', 'Call Acme at (212) 555-0198.']),
    }),
    channel('C0OLDNEWS1', 'old-announcements', { is_archived: true, messages: [] }),
    channel('G0FRAUD001', 'fraud-alerts', {
      is_private: true,
      num_members: 4,
      messages: history([
        'U0PRIYAP01',
        'Chargeback on card 5555 5555 5555 4444; holder SSN 078-05-1120.',
      ]),
    }),
    channel('G0EXECS001', 'execs', { is_private: true, bot_member: false, num_members: 3 }),
  ];
}
