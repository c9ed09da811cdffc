import type { JsonObject } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { PrincipalKind, Product } from '@fortress/proto/common/v1/common_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { envelope } from '@fortress/kit/event-bus';
import { InvalidArgumentError } from '@fortress/kit/errors';
import { clip } from '@fortress/kit/validate';

/** A product a member can hold a seat for. */
export type SeatProduct = 'mcp' | 'pat';

/** Whether a product name (as org keys store them) is one a seat is held for. */
export const isSeatProduct = (name: string): name is SeatProduct =>
  name === 'mcp' || name === 'pat';

/** One person who uses the org's products (not an admin account); shaped like a SCIM User. */
export interface Member {
  /** mbr_…, assigned by Fortress. */
  id: string;
  /** The user's IdP subject, unique in the org; "" when not linked to the IdP. */
  externalId: string;
  email: string;
  displayName: string;
  /** Sorted, once each. */
  products: SeatProduct[];
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** What an admin sets; the id and timestamps are identity's. */
export type MemberInput = Omit<Member, 'id' | 'createdAt' | 'updatedAt'>;

/** Who changes a member, as the change event names them. */
export interface MemberChangedBy {
  /** ADMIN unless said otherwise (USER: the member provisioned at their own sign-in). */
  kind?: PrincipalKind;
  subjectId: string;
  email: string;
  approvedBy: string;
}

const EXTERNAL_ID_MAX = 256;
/** Any printable text: IdP subjects are GUIDs, emails, "auth0|…" and more. */
const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/** The prefix of member ids. */
export const MEMBER_ID_PREFIX = 'mbr';

/** A member's IdP subject, checked ("" when none). */
function externalId(value: string): string {
  if (!value) return '';
  if (value.length > EXTERNAL_ID_MAX || !PRINTABLE.test(value) || value.trim() !== value)
    throw new InvalidArgumentError(
      'member.external_id',
      `member.external_id must be 1–${EXTERNAL_ID_MAX} printable characters without surrounding spaces, got "${clip(value)}"`,
    );
  return value;
}

const PRODUCT_NAMES: Partial<Record<Product, SeatProduct>> = {
  [Product.MCP]: 'mcp',
  [Product.PAT]: 'pat',
};

/** The seat products of a request, checked: MCP and PAT only, each at most once. */
export function seatProducts(products: readonly Product[]): SeatProduct[] {
  const names = products.map((p, i) => {
    const name = PRODUCT_NAMES[p];
    if (!name)
      throw new InvalidArgumentError(
        `member.products[${i}]`,
        'a member holds seats for PRODUCT_MCP and PRODUCT_PAT only',
      );
    return name;
  });
  return [...new Set(names)].sort();
}

/** A member as an admin sent it, checked and normalised (without its id). */
export function validateMember(m: {
  externalId: string;
  email: string;
  displayName: string;
  products: readonly Product[];
  active: boolean;
}): MemberInput {
  const email = m.email.trim();
  if (email && (email.length > 320 || !EMAIL.test(email)))
    throw new InvalidArgumentError('member.email', `member.email is not an email address`);
  const displayName = m.displayName.trim();
  if (displayName.length > 200 || (displayName && !PRINTABLE.test(displayName)))
    throw new InvalidArgumentError(
      'member.display_name',
      'member.display_name must be at most 200 printable characters',
    );
  return {
    externalId: externalId(m.externalId),
    email,
    displayName,
    products: seatProducts(m.products),
    active: m.active,
  };
}

/** Whether a put changes nothing an admin can see. */
export function sameMember(a: MemberInput, b: MemberInput): boolean {
  return (
    a.externalId === b.externalId &&
    a.email === b.email &&
    a.displayName === b.displayName &&
    a.active === b.active &&
    a.products.join() === b.products.join()
  );
}

/** A member as the change log and billing read it (seats are `products` while `active`). */
function facts(m: Member): JsonObject {
  return {
    id: m.id,
    external_id: m.externalId,
    email: m.email,
    display_name: m.displayName,
    products: m.products,
    active: m.active,
  };
}

/**
 * The change event of a member: entity "member" with the member id, before and after as
 * `facts` shapes them. Billing's seat ledger follows these events (the member id is the
 * ledger's user), effective at `occurredAt`.
 */
export function memberChangeEvent(
  orgId: string,
  by: MemberChangedBy,
  before: Member | undefined,
  after: Member | undefined,
  at: Date,
): EventEnvelope {
  const id = (after ?? before)?.id ?? '';
  return envelope({
    orgId,
    occurredAt: timestampFromDate(at),
    source: 'identity',
    payload: {
      case: 'change',
      value: {
        actor: { kind: by.kind ?? PrincipalKind.ADMIN, subjectId: by.subjectId, email: by.email },
        entityType: 'member',
        entityId: id,
        operation: !before ? 'create' : !after ? 'delete' : 'update',
        ...(before ? { before: facts(before) } : {}),
        ...(after ? { after: facts(after) } : {}),
        ...(by.approvedBy ? { approvedBy: by.approvedBy } : {}),
      },
    },
  });
}
