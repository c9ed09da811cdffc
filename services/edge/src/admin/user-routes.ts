import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { Client } from '@connectrpc/connect';
import { Product, type Principal } from '@fortress/proto/common/v1/common_pb';
import type { IdentityAdminService, Member } from '@fortress/proto/identity/v1/identity_pb';
import type { AdminRoute } from './admin-api.js';
import { queryPage } from './parse-body.js';
import { problems, ProblemError } from './problem.js';

const PRODUCTS: Record<string, Product> = { mcp: Product.MCP, pat: Product.PAT };
const PRODUCT_NAMES = new Map<Product, string>([
  [Product.MCP, 'mcp'],
  [Product.PAT, 'pat'],
]);

/** A user as the REST API shows them. */
function userBody(m: Member) {
  return {
    id: m.id,
    external_id: m.externalId,
    email: m.email,
    display_name: m.displayName,
    products: m.products.map((p) => PRODUCT_NAMES.get(p) ?? 'unknown'),
    active: m.active,
    created_at: m.createdAt ? timestampDate(m.createdAt).toISOString() : null,
    updated_at: m.updatedAt ? timestampDate(m.updatedAt).toISOString() : null,
  };
}

const bad = (detail: string, field: string) => new ProblemError(problems.badRequest(detail, field));

/**
 * A user body: `external_id`, `email`, `display_name` (strings), `products` (a list of "mcp"
 * and "pat") and `active` (default true). A PUT replaces the user, so what it leaves out is
 * cleared. Unknown fields and wrong types are refused; values are checked by identity.
 */
function userInput(body: unknown) {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new ProblemError(problems.badRequest('the body must be a JSON object'));
  const b = body as Record<string, unknown>;
  const known = ['external_id', 'email', 'display_name', 'products', 'active'];
  for (const k of Object.keys(b))
    if (!known.includes(k)) throw bad(`field "${k.slice(0, 64)}" is unknown`, k);
  const text = (k: string) => {
    const v = b[k] ?? '';
    if (typeof v !== 'string') throw bad(`${k} must be a string`, k);
    return v;
  };
  const products = b['products'] ?? [];
  if (!Array.isArray(products)) throw bad('products must be a list of "mcp" and "pat"', 'products');
  const active = b['active'] ?? true;
  if (typeof active !== 'boolean') throw bad('active must be true or false', 'active');
  return {
    externalId: text('external_id'),
    email: text('email'),
    displayName: text('display_name'),
    products: products.map((p: unknown, i) => {
      const product = typeof p === 'string' ? PRODUCTS[p] : undefined;
      if (product === undefined) throw bad(`products[${i}] must be "mcp" or "pat"`, 'products');
      return product;
    }),
    active,
  };
}

/** The admin making a change, as identity's change event names them. */
const changedBy = (admin: Principal, approvedBy: Principal | undefined) => ({
  subjectId: admin.subjectId,
  email: admin.email,
  approvedBy: approvedBy?.subjectId ?? '',
});

/**
 * The org's users (`/api/v1/users`): the people who use MCP and PAT Fortress — identity's
 * members, shaped like SCIM Users (Fortress assigns `id`; `external_id` is their IdP subject).
 * Admin accounts are not here. A user's `products` are the org's seats: identity publishes
 * each change with before and after (the change log), and billing's seat ledger follows it,
 * so invoices count exactly the users who hold each product (a deactivated user holds none).
 * Reading is `admin:users.read`; changing is `admin:users.write` (owner, admin).
 */
export function createUserRoutes(deps: {
  identityAdmin: Client<typeof IdentityAdminService>;
  hopTimeoutMs: number;
}): AdminRoute[] {
  const { identityAdmin } = deps;
  const opts = { timeoutMs: deps.hopTimeoutMs };
  return [
    {
      method: 'GET',
      path: '/users',
      action: 'admin:users.read',
      async handle({ admin, query }) {
        const r = await identityAdmin.listMembers(
          { orgId: admin.orgId, ...queryPage(query) },
          opts,
        );
        return {
          status: 200,
          body: { users: r.members.map(userBody), next_page_token: r.nextPageToken },
        };
      },
    },
    {
      method: 'POST',
      path: '/users',
      action: 'admin:users.write',
      check({ body }) {
        userInput(body);
      },
      async handle({ admin, body, approvedBy }) {
        const r = await identityAdmin.createMember(
          {
            orgId: admin.orgId,
            member: userInput(body),
            changedBy: changedBy(admin, approvedBy),
          },
          opts,
        );
        return { status: 201, body: r.member ? userBody(r.member) : {} };
      },
    },
    {
      method: 'GET',
      path: '/users/{id}',
      action: 'admin:users.read',
      async handle({ admin, params }) {
        const r = await identityAdmin.getMember({ orgId: admin.orgId, id: params[0] ?? '' }, opts);
        return { status: 200, body: r.member ? userBody(r.member) : {} };
      },
    },
    {
      method: 'PUT',
      path: '/users/{id}',
      action: 'admin:users.write',
      check({ body }) {
        userInput(body);
      },
      async handle({ admin, params, body, approvedBy }) {
        const r = await identityAdmin.updateMember(
          {
            orgId: admin.orgId,
            member: { ...userInput(body), id: params[0] ?? '' },
            changedBy: changedBy(admin, approvedBy),
          },
          opts,
        );
        return { status: 200, body: r.member ? userBody(r.member) : {} };
      },
    },
    {
      method: 'DELETE',
      path: '/users/{id}',
      action: 'admin:users.write',
      async handle({ admin, params, approvedBy }) {
        await identityAdmin.deleteMember(
          { orgId: admin.orgId, id: params[0] ?? '', changedBy: changedBy(admin, approvedBy) },
          opts,
        );
        return { status: 204 };
      },
    },
  ];
}
