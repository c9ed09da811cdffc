/**
 * Seed data of the fake Salesforce org: the sObject types it knows (fields, required ones,
 * key prefixes) and records whose fields carry PII for the redactor.
 */

/** An sObject type as the fake knows it. */
export interface SObjectType {
  name: string;
  keyPrefix: string;
  fields: readonly string[];
  /** Fields a create must set. */
  required: readonly string[];
  /** Fields the server sets; they cannot be written. */
  readOnly: readonly string[];
}

/** A stored record: field values by API name, `Id` included. */
export type SRecord = Record<string, string | number | boolean | null>;

const SYSTEM = ['Id', 'CreatedDate', 'LastModifiedDate', 'OwnerId'];

export const SOBJECTS: readonly SObjectType[] = [
  {
    name: 'Account',
    keyPrefix: '001',
    fields: [...SYSTEM, 'Name', 'Industry', 'Phone', 'Website', 'BillingCity', 'AnnualRevenue'],
    required: ['Name'],
    readOnly: SYSTEM,
  },
  {
    name: 'Contact',
    keyPrefix: '003',
    fields: [
      ...SYSTEM,
      'Name',
      'FirstName',
      'LastName',
      'Email',
      'Phone',
      'Title',
      'AccountId',
      'MailingCity',
    ],
    required: ['LastName'],
    // Name is the compound of FirstName and LastName.
    readOnly: [...SYSTEM, 'Name'],
  },
  {
    name: 'Case',
    keyPrefix: '500',
    fields: [
      ...SYSTEM,
      'CaseNumber',
      'Subject',
      'Description',
      'Status',
      'Priority',
      'Origin',
      'ContactId',
      'AccountId',
    ],
    required: [],
    readOnly: [...SYSTEM, 'CaseNumber'],
  },
];

/** Relationship fields: `Account.Name` on a Contact follows `AccountId`. */
export const RELATIONSHIPS: Readonly<Record<string, { field: string; type: string }>> = {
  Account: { field: 'AccountId', type: 'Account' },
  Contact: { field: 'ContactId', type: 'Contact' },
};

/** An 18-character record id of a type. */
export function recordId(type: SObjectType, seq: number): string {
  return `${type.keyPrefix}5g00000${String(seq).padStart(5, '0')}AAA`;
}

const OWNER = '0055g00000ABCDEAA4';
const stamp = (day: number) => `2025-01-${String(day).padStart(2, '0')}T09:30:00.000+0000`;

/** The records by type. */
export function seedRecords(): Map<string, SRecord[]> {
  const [account, contact, kase] = SOBJECTS as [SObjectType, SObjectType, SObjectType];
  const sys = (type: SObjectType, seq: number) => ({
    Id: recordId(type, seq),
    CreatedDate: stamp(seq),
    LastModifiedDate: stamp(seq + 1),
    OwnerId: OWNER,
  });
  const accounts: SRecord[] = [
    {
      ...sys(account, 1),
      Name: 'Acme Corporation',
      Industry: 'Manufacturing',
      Phone: '(212) 555-0198',
      Website: 'https://acme.example',
      BillingCity: 'New York',
      AnnualRevenue: 12_000_000,
    },
    {
      ...sys(account, 2),
      Name: 'Globex Banking',
      Industry: 'Banking',
      Phone: '+1 415-555-0134',
      Website: 'https://globex.example',
      BillingCity: 'San Francisco',
      AnnualRevenue: 98_000_000,
    },
    {
      ...sys(account, 3),
      Name: 'Initech',
      Industry: 'Technology',
      Phone: null,
      Website: null,
      BillingCity: 'Austin',
      AnnualRevenue: null,
    },
  ];
  const contacts: SRecord[] = [
    {
      ...sys(contact, 1),
      Name: 'Jane Roe',
      FirstName: 'Jane',
      LastName: 'Roe',
      Email: 'jane.roe@example.com',
      Phone: '+1 415-555-0134',
      Title: 'CFO',
      AccountId: accounts[1]?.Id ?? null,
      MailingCity: 'San Francisco',
    },
    {
      ...sys(contact, 2),
      Name: 'John Doe',
      FirstName: 'John',
      LastName: 'Doe',
      Email: 'john.doe@example.org',
      Phone: '(212) 555-0198',
      Title: 'Buyer',
      AccountId: accounts[0]?.Id ?? null,
      MailingCity: 'New York',
    },
    {
      ...sys(contact, 3),
      Name: 'Priya Patel',
      FirstName: 'Priya',
      LastName: 'Patel',
      Email: 'priya.patel@example.net',
      Phone: '+44 20 7946 0958',
      Title: 'CTO',
      AccountId: accounts[2]?.Id ?? null,
      MailingCity: 'London',
    },
    {
      ...sys(contact, 4),
      Name: 'Mia Krystof',
      FirstName: 'Mia',
      LastName: 'Krystof',
      Email: 'mia.krystof@example.com',
      Phone: null,
      Title: 'Analyst',
      AccountId: accounts[1]?.Id ?? null,
      MailingCity: 'Oakland',
    },
    {
      ...sys(contact, 5),
      Name: 'Lee Wong',
      FirstName: 'Lee',
      LastName: 'Wong',
      Email: 'lee.wong@example.org',
      Phone: '+1 650-555-0101',
      Title: null,
      AccountId: null,
      MailingCity: null,
    },
  ];
  const cases: SRecord[] = [
    {
      ...sys(kase, 1),
      CaseNumber: '00001001',
      Subject: 'Wire transfer failed',
      Description: 'Customer SSN 078-05-1120 on file; account verified by phone +1 415-555-0134.',
      Status: 'New',
      Priority: 'High',
      Origin: 'Phone',
      ContactId: contacts[0]?.Id ?? null,
      AccountId: accounts[1]?.Id ?? null,
    },
    {
      ...sys(kase, 2),
      CaseNumber: '00001002',
      Subject: 'Card replacement',
      Description: 'Replace card 4111 1111 1111 1111; send to john.doe@example.org.',
      Status: 'Working',
      Priority: 'Medium',
      Origin: 'Email',
      ContactId: contacts[1]?.Id ?? null,
      AccountId: accounts[0]?.Id ?? null,
    },
    {
      ...sys(kase, 3),
      CaseNumber: '00001003',
      Subject: 'Portal login',
      Description: 'Cannot log in.',
      Status: 'Closed',
      Priority: 'Low',
      Origin: 'Web',
      ContactId: contacts[2]?.Id ?? null,
      AccountId: accounts[2]?.Id ?? null,
    },
  ];
  return new Map([
    ['Account', accounts],
    ['Contact', contacts],
    ['Case', cases],
  ]);
}
