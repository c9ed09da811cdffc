/**
 * Seed data of the fake Zendesk: a few agents and end users, and tickets whose text carries
 * the PII the redactor must catch (emails, phone numbers, SSNs, card numbers).
 */

/** A Zendesk user as the fake stores it. */
export interface ZendeskUser {
  id: number;
  name: string;
  email: string;
  phone: string | null;
  role: 'admin' | 'agent' | 'end-user';
}

/** A Zendesk ticket as the fake stores it. */
export interface ZendeskTicket {
  id: number;
  subject: string;
  description: string;
  status: 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed';
  priority: 'urgent' | 'high' | 'normal' | 'low' | null;
  type: 'problem' | 'incident' | 'question' | 'task' | null;
  requester_id: number;
  assignee_id: number | null;
  tags: string[];
  created_at: string;
  updated_at: string;
  comments: { author_id: number; body: string; public: boolean; created_at: string }[];
}

/** The users; the first is the API user of the default credentials. */
export function seedUsers(apiEmail: string): ZendeskUser[] {
  return [
    { id: 361001, name: 'Avery Agent', email: apiEmail, phone: null, role: 'admin' },
    {
      id: 361002,
      name: 'Sam Support',
      email: 'sam.support@fortress-demo.example',
      phone: null,
      role: 'agent',
    },
    {
      id: 900101,
      name: 'Jane Roe',
      email: 'jane.roe@example.com',
      phone: '+1 415-555-0134',
      role: 'end-user',
    },
    {
      id: 900102,
      name: 'John Doe',
      email: 'john.doe@example.org',
      phone: '(212) 555-0198',
      role: 'end-user',
    },
    {
      id: 900103,
      name: 'Priya Patel',
      email: 'priya.patel@example.net',
      phone: '+44 20 7946 0958',
      role: 'end-user',
    },
  ];
}

const T0 = Date.parse('2025-03-03T09:15:00Z');
const at = (hours: number) => new Date(T0 + hours * 3_600_000).toISOString().replace('.000Z', 'Z');

/** The tickets. */
export function seedTickets(): ZendeskTicket[] {
  const ticket = (
    id: number,
    fields: Omit<ZendeskTicket, 'id' | 'created_at' | 'updated_at' | 'comments' | 'tags'> & {
      tags?: string[];
    },
  ): ZendeskTicket => ({
    id,
    tags: [],
    ...fields,
    created_at: at(id * 3),
    updated_at: at(id * 3 + 1),
    comments: [
      {
        author_id: fields.requester_id,
        body: fields.description,
        public: true,
        created_at: at(id * 3),
      },
    ],
  });
  return [
    ticket(1, {
      subject: 'Login Bug',
      description:
        'I cannot log in since this morning. My account email is jane.roe@example.com, call me on +1 415-555-0134.',
      status: 'open',
      priority: 'high',
      type: 'problem',
      requester_id: 900101,
      assignee_id: 361001,
      tags: ['login', 'web'],
    }),
    ticket(2, {
      subject: 'Charged twice for March',
      description:
        'My card 4111 1111 1111 1111 was charged twice on March 1st. Please refund one of the charges.',
      status: 'open',
      priority: 'urgent',
      type: 'incident',
      requester_id: 900102,
      assignee_id: 361002,
      tags: ['billing'],
    }),
    ticket(3, {
      subject: 'Update tax details',
      description:
        'For the W-9, my SSN is 078-05-1120. Reach me at priya.patel@example.net or +44 20 7946 0958.',
      status: 'pending',
      priority: 'normal',
      type: 'task',
      requester_id: 900103,
      assignee_id: 361001,
    }),
    ticket(4, {
      subject: 'Export of my data',
      description: 'Under GDPR I ask for a copy of all data you hold on john.doe@example.org.',
      status: 'new',
      priority: null,
      type: 'question',
      requester_id: 900102,
      assignee_id: null,
    }),
    ticket(5, {
      subject: 'Card update failed',
      description:
        'Tried to add 5555 5555 5555 4444 (exp 04/28) and got an error. Phone (212) 555-0198.',
      status: 'hold',
      priority: 'normal',
      type: 'problem',
      requester_id: 900102,
      assignee_id: 361002,
    }),
    ticket(6, {
      subject: 'Thanks, solved',
      description: 'The password reset worked, thank you!',
      status: 'solved',
      priority: 'low',
      type: 'question',
      requester_id: 900101,
      assignee_id: 361001,
    }),
    ticket(7, {
      subject: 'Old invoice question',
      description: 'Closed long ago; the invoice for jane.roe@example.com was corrected.',
      status: 'closed',
      priority: 'low',
      type: 'question',
      requester_id: 900101,
      assignee_id: 361002,
    }),
  ];
}
