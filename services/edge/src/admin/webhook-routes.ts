import { toJson } from '@bufbuild/protobuf';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import {
  CreateWebhookRequestSchema,
  CreateWebhookResponseSchema,
  DeliveryState,
  GetWebhookResponseSchema,
  ListWebhookDeliveriesResponseSchema,
  ListWebhooksResponseSchema,
  ReplayWebhookDeliveryResponseSchema,
  RotateWebhookSecretResponseSchema,
  UpdateWebhookRequestSchema,
  UpdateWebhookResponseSchema,
  type WebhookService,
} from '@fortress/proto/audit/v1/webhook_pb';
import type { AdminRoute } from './admin-api.js';
import { parseBody, queryPage } from './parse-body.js';
import { problems, ProblemError } from './problem.js';

/** What the webhook routes need. */
export interface WebhookRoutesDeps {
  webhooks: Client<typeof WebhookService>;
  hopTimeoutMs: number;
}

const JSON_OUT = { useProtoFieldName: true } as const;
const STATES = new Map([
  ['pending', DeliveryState.PENDING],
  ['delivered', DeliveryState.DELIVERED],
  ['failed', DeliveryState.FAILED],
]);

/** Fields the session fills in: a body naming them is refused rather than half-obeyed. */
function refuseServerFields(body: unknown, fields: string[]) {
  if (body === null || typeof body !== 'object') return;
  for (const f of fields)
    if (f in body)
      throw new ProblemError(
        problems.badRequest(`field "${f}" is set by the server, not the request`, f),
      );
}

/**
 * A refused URL keeps the audit service's reason (https only, no private or reserved target)
 * under a code of its own, so a client can tell it from other bad input.
 */
async function urlChecked<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === Code.InvalidArgument && e.metadata.get('fortress-field') === 'url')
      throw new ProblemError(problems.badRequest(e.rawMessage, 'url', 'webhook_url_refused'));
    throw err;
  }
}

/**
 * The org's webhook subscriptions (`/api/v1/webhooks`, S9) over the audit service's
 * WebhookService: create, read, change, delete, rotate the signing secret, read the delivery
 * log and replay a delivery. The signing secret is in the create and rotate responses only
 * (an idempotent retry of those is told, not replayed); every other answer is metadata. The
 * audit service checks the URL (https, and in production mode no private, loopback,
 * link-local or reserved target) before anything is stored.
 */
export function createWebhookRoutes(deps: WebhookRoutesDeps): AdminRoute[] {
  const { webhooks } = deps;
  const opts = { timeoutMs: deps.hopTimeoutMs };
  return [
    {
      method: 'GET',
      path: '/webhooks',
      action: 'admin:webhooks.read',
      async handle({ admin, query }) {
        const r = await webhooks.listWebhooks({ orgId: admin.orgId, page: queryPage(query) }, opts);
        return { status: 200, body: toJson(ListWebhooksResponseSchema, r, JSON_OUT) };
      },
    },
    {
      method: 'POST',
      path: '/webhooks',
      action: 'admin:webhooks.write',
      showsSecretOnce: true,
      async handle({ admin, body }) {
        refuseServerFields(body, ['org_id', 'actor_id']);
        const req = parseBody(CreateWebhookRequestSchema, body);
        const r = await urlChecked(() =>
          webhooks.createWebhook(
            {
              orgId: admin.orgId,
              url: req.url,
              eventTypes: req.eventTypes,
              description: req.description,
              actorId: admin.subjectId,
            },
            opts,
          ),
        );
        return { status: 201, body: toJson(CreateWebhookResponseSchema, r, JSON_OUT) };
      },
    },
    {
      method: 'GET',
      path: '/webhooks/{id}',
      action: 'admin:webhooks.read',
      async handle({ admin, params }) {
        const r = await webhooks.getWebhook(
          { orgId: admin.orgId, webhookId: params[0] as string },
          opts,
        );
        return { status: 200, body: toJson(GetWebhookResponseSchema, r, JSON_OUT) };
      },
    },
    {
      method: 'PUT',
      path: '/webhooks/{id}',
      action: 'admin:webhooks.write',
      async handle({ admin, params, body }) {
        refuseServerFields(body, ['org_id', 'actor_id', 'webhook_id']);
        // Fields left out keep their value; `event_types` as a list replaces the filter
        // ([] = every event), the same list GET shows.
        const given =
          body !== null &&
          typeof body === 'object' &&
          Array.isArray((body as { event_types?: unknown }).event_types)
            ? { ...body, event_types: { types: (body as { event_types: unknown }).event_types } }
            : body;
        const req = parseBody(UpdateWebhookRequestSchema, given);
        const r = await urlChecked(() =>
          webhooks.updateWebhook(
            {
              orgId: admin.orgId,
              webhookId: params[0] as string,
              ...(req.url !== undefined ? { url: req.url } : {}),
              ...(req.eventTypes ? { eventTypes: req.eventTypes } : {}),
              ...(req.description !== undefined ? { description: req.description } : {}),
              ...(req.enabled !== undefined ? { enabled: req.enabled } : {}),
              actorId: admin.subjectId,
            },
            opts,
          ),
        );
        return { status: 200, body: toJson(UpdateWebhookResponseSchema, r, JSON_OUT) };
      },
    },
    {
      method: 'DELETE',
      path: '/webhooks/{id}',
      action: 'admin:webhooks.write',
      async handle({ admin, params }) {
        await webhooks.deleteWebhook(
          { orgId: admin.orgId, webhookId: params[0] as string, actorId: admin.subjectId },
          opts,
        );
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/webhooks/{id}/rotate-secret',
      action: 'admin:webhooks.write',
      showsSecretOnce: true,
      async handle({ admin, params }) {
        const r = await webhooks.rotateWebhookSecret(
          { orgId: admin.orgId, webhookId: params[0] as string, actorId: admin.subjectId },
          opts,
        );
        return { status: 200, body: toJson(RotateWebhookSecretResponseSchema, r, JSON_OUT) };
      },
    },
    {
      method: 'GET',
      path: '/webhooks/{id}/deliveries',
      action: 'admin:webhooks.read',
      async handle({ admin, params, query }) {
        const stateName = query.get('state') ?? '';
        const state = stateName ? STATES.get(stateName) : DeliveryState.UNSPECIFIED;
        if (state === undefined)
          throw new ProblemError(
            problems.badRequest('state must be pending, delivered or failed', 'state'),
          );
        const webhookId = params[0] as string;
        // An unknown subscription is a 404, not an empty log.
        await webhooks.getWebhook({ orgId: admin.orgId, webhookId }, opts);
        const r = await webhooks.listWebhookDeliveries(
          {
            orgId: admin.orgId,
            webhookId,
            eventId: query.get('event_id') ?? '',
            state,
            page: queryPage(query),
          },
          opts,
        );
        return { status: 200, body: toJson(ListWebhookDeliveriesResponseSchema, r, JSON_OUT) };
      },
    },
    {
      method: 'POST',
      path: '/webhooks/{id}/deliveries/{delivery}/replay',
      action: 'admin:webhooks.write',
      async handle({ admin, params }) {
        const [webhookId = '', eventId = ''] = params;
        const r = await webhooks.replayWebhookDelivery(
          { orgId: admin.orgId, webhookId, eventId, actorId: admin.subjectId },
          opts,
        );
        return { status: 202, body: toJson(ReplayWebhookDeliveryResponseSchema, r, JSON_OUT) };
      },
    },
  ];
}
