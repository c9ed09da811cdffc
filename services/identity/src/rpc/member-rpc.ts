import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  MemberSchema,
  type ChangedBy,
  type IdentityAdminService,
  type Member as MemberMessage,
} from '@fortress/proto/identity/v1/identity_pb';
import { InvalidArgumentError, NotFoundError } from '@fortress/kit/errors';
import { productFromName } from '@fortress/kit/enum-names';
import { newId } from '@fortress/kit/ids';
import { decodePageToken, encodePageToken, pageSize, requireId } from '@fortress/kit/validate';
import type { IdentityStore } from '../adapters/pg/identity-store.js';
import type { MemberStore } from '../adapters/pg/member-store.js';
import {
  MEMBER_ID_PREFIX,
  memberChangeEvent,
  sameMember,
  validateMember,
  type Member,
  type MemberChangedBy,
} from '../domain/member.js';

const toMessage = (m: Member) =>
  create(MemberSchema, {
    id: m.id,
    externalId: m.externalId,
    email: m.email,
    displayName: m.displayName,
    products: m.products.map(productFromName),
    active: m.active,
    createdAt: timestampFromDate(m.createdAt),
    updatedAt: timestampFromDate(m.updatedAt),
  });

/** Who makes a change: required, since the change log must name them. */
function changedBy(by: ChangedBy | undefined): MemberChangedBy {
  const subjectId = by?.subjectId.trim() ?? '';
  if (!subjectId || subjectId.length > 256)
    throw new InvalidArgumentError(
      'changed_by.subject_id',
      'changed_by.subject_id (the admin making the change) is required',
    );
  return { subjectId, email: by?.email ?? '', approvedBy: by?.approvedBy ?? '' };
}

const memberId = (field: string, value: string) => requireId(field, value, MEMBER_ID_PREFIX);

/**
 * The IdentityAdminService handlers for an org's members: the people who use the products,
 * whose products are the org's seats. Each write commits its change event with it (the
 * outbox); `changed` then tells the relay the org has an event to publish.
 */
export function createMemberRpc(deps: {
  orgs: Pick<IdentityStore, 'getOrg'>;
  members: MemberStore;
  changed: (orgId: string) => void;
  now: () => Date;
}): Pick<
  ServiceImpl<typeof IdentityAdminService>,
  'listMembers' | 'getMember' | 'createMember' | 'updateMember' | 'deleteMember'
> {
  const existingOrg = async (orgId: string) => {
    const id = requireId('org_id', orgId, 'org');
    if (!(await deps.orgs.getOrg(id)))
      throw new NotFoundError('org_not_found', `org "${orgId}" does not exist`);
    return id;
  };
  const noSuchMember = (id: string) =>
    new NotFoundError('member_not_found', `the org has no member "${id}"`);
  const inputOf = (m: MemberMessage | undefined) => {
    if (!m) throw new InvalidArgumentError('member', 'member is required');
    return validateMember(m);
  };

  return {
    async listMembers(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const limit = pageSize(req.pageSize, 100, 500);
      const after = decodePageToken('page_token', req.pageToken);
      const page = await deps.members.list(orgId, after, limit + 1);
      const members = page.slice(0, limit);
      const last = members.at(-1);
      return {
        members: members.map(toMessage),
        nextPageToken: page.length > limit && last ? encodePageToken(last.id) : '',
      };
    },

    async getMember(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const id = memberId('id', req.id);
      const member = await deps.members.get(orgId, id);
      if (!member) throw noSuchMember(id);
      return { member: toMessage(member) };
    },

    async createMember(req) {
      const input = inputOf(req.member);
      const by = changedBy(req.changedBy);
      const orgId = await existingOrg(req.orgId);
      const at = deps.now();
      const member = await deps.members.create(orgId, newId(MEMBER_ID_PREFIX), input, at, (after) =>
        memberChangeEvent(orgId, by, undefined, after, at),
      );
      deps.changed(orgId);
      return { member: toMessage(member) };
    },

    async updateMember(req) {
      const input = inputOf(req.member);
      const id = memberId('member.id', req.member?.id ?? '');
      const by = changedBy(req.changedBy);
      const orgId = requireId('org_id', req.orgId, 'org');
      const at = deps.now();
      const written = await deps.members.update(
        orgId,
        id,
        input,
        at,
        (before) => sameMember(before, input),
        (before, after) => memberChangeEvent(orgId, by, before, after, at),
      );
      if (!written) throw noSuchMember(id);
      if (written.after !== written.before) deps.changed(orgId);
      return { member: toMessage(written.after) };
    },

    async deleteMember(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const id = memberId('id', req.id);
      const by = changedBy(req.changedBy);
      const at = deps.now();
      const removed = await deps.members.remove(orgId, id, (before) =>
        memberChangeEvent(orgId, by, before, undefined, at),
      );
      if (!removed) throw noSuchMember(id);
      deps.changed(orgId);
      return {};
    },
  };
}
