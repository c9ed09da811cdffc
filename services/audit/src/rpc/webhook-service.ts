import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  CreateWebhookResponseSchema,
  DeleteWebhookResponseSchema,
  GetWebhookResponseSchema,
  ListWebhookDeliveriesResponseSchema,
  ListWebhooksResponseSchema,
  ReplayWebhookDeliveryResponseSchema,
  RotateWebhookSecretResponseSchema,
  UpdateWebhookResponseSchema,
  type WebhookService,
} from '@fortress/proto/audit/v1/webhook_pb';
import { InvalidArgumentError, NotFoundError } from '@fortress/kit/errors';
import { newId } from '@fortress/kit/ids';
import type { Logger } from '@fortress/kit/log';
import {
  clip,
  decodePageToken,
  encodePageToken,
  pageSize,
  requireId,
  requireText,
} from '@fortress/kit/validate';
import { resolveTarget, type Lookup } from '../adapters/dns/resolve-target.js';
import type { SecretBox } from '../adapters/keys/secret-box.js';
import type { DeliveryRepo } from '../adapters/pg/delivery-repo.js';
import type { WebhookRepo } from '../adapters/pg/webhook-repo.js';
import type { DeliveryQueue } from '../adapters/redis/delivery-queue.js';
import { eventTypeFilter } from '../domain/webhook-events.js';
import { isEventId } from '../domain/webhook-message.js';
import { formatSecret, newSigningKey } from '../domain/webhook-signature.js';
import { parseWebhookUrl, type WebhookMode } from '../domain/webhook-url.js';
import { pageToken } from './request-filter.js';
import { changeRow } from './change-row.js';
import { subscriptionChange } from './webhook-change.js';
import { stateName, toDelivery, toWebhook } from './webhook-view.js';

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

/** What the WebhookService handlers use. */
export interface WebhookRpcDeps {
  webhooks: WebhookRepo;
  deliveries: DeliveryRepo;
  queue: Pick<DeliveryQueue, 'enqueue'>;
  box: SecretBox;
  mode: WebhookMode;
  lookup?: Lookup;
  logger?: Logger;
}

const webhookId = (value: string) => requireId('webhook_id', value, 'wh');

function eventId(value: string): string {
  const id = value.toLowerCase();
  if (!isEventId(id))
    throw new InvalidArgumentError('event_id', `event_id must be a UUID, got "${clip(value)}"`);
  return id;
}

function description(value: string): string {
  const d = value.trim();
  if (d.length > 500)
    throw new InvalidArgumentError('description', 'description must be at most 500 characters');
  return d;
}

/**
 * The WebhookService handlers. Like AuditService they answer the edge and the operator
 * (mTLS); which admins may manage an org's webhooks is the admin plane's decision.
 */
export function createWebhookRpc(deps: WebhookRpcDeps): ServiceImpl<typeof WebhookService> {
  /** The URL rules, with DNS in production mode: nothing is stored unless they pass. */
  async function checkedUrl(raw: string): Promise<string> {
    const url = parseWebhookUrl('url', raw, deps.mode);
    if (deps.mode === 'development') return url.href;
    const check = await resolveTarget(url, deps.mode, deps.lookup);
    if (check.ok) return url.href;
    throw new InvalidArgumentError(
      'url',
      check.error === 'dns_failed'
        ? `url host "${clip(url.host)}" does not resolve`
        : `url host "${clip(url.host)}" resolves to a ${check.range.replace('_', '-')} address, which webhooks may not reach`,
    );
  }

  /** A new secret for (org, subscription, version): the sealed form, and the text shown once. */
  function issueSecret(orgId: string, subscriptionId: string, version: number) {
    const key = newSigningKey();
    try {
      const sealed = deps.box.seal(key, { orgId, subscriptionId, version });
      return { sealed: { ...sealed, version }, shown: formatSecret(key) };
    } finally {
      key.destroy();
    }
  }

  return {
    async createWebhook(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const actorId = requireText('actor_id', req.actorId, 200);
      const fields = {
        url: await checkedUrl(req.url),
        eventTypes: eventTypeFilter('event_types', req.eventTypes),
        description: description(req.description),
        enabled: true,
      };
      const id = newId('wh');
      const secret = issueSecret(orgId, id, 1);
      const created = await deps.webhooks.create(
        orgId,
        id,
        fields,
        secret.sealed,
        subscriptionChange(orgId, actorId, id, 'create'),
      );
      return create(CreateWebhookResponseSchema, {
        webhook: toWebhook(created),
        secret: secret.shown,
      });
    },

    async getWebhook(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const id = webhookId(req.webhookId);
      const found = await deps.webhooks.get(orgId, id);
      if (!found) throw new NotFoundError('webhook_not_found', `webhook "${id}" not found`);
      return create(GetWebhookResponseSchema, { webhook: toWebhook(found) });
    },

    async listWebhooks(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const limit = pageSize(req.page?.pageSize ?? 0, 50, 200);
      const after = decodePageToken('page.page_token', req.page?.pageToken ?? '');
      const rows = await deps.webhooks.list(orgId, after, limit + 1);
      const shown = rows.slice(0, limit);
      const last = shown.at(-1);
      return create(ListWebhooksResponseSchema, {
        webhooks: shown.map(toWebhook),
        page: { nextPageToken: rows.length > limit && last ? encodePageToken(last.id) : '' },
      });
    },

    async updateWebhook(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const id = webhookId(req.webhookId);
      const actorId = requireText('actor_id', req.actorId, 200);
      const url = req.url === undefined ? undefined : await checkedUrl(req.url);
      const types = req.eventTypes && eventTypeFilter('event_types.types', req.eventTypes.types);
      const desc = req.description === undefined ? undefined : description(req.description);
      const updated = await deps.webhooks.update(
        orgId,
        id,
        (before) => ({
          url: url ?? before.url,
          eventTypes: types ?? before.eventTypes,
          description: desc ?? before.description,
          enabled: req.enabled ?? before.enabled,
        }),
        subscriptionChange(orgId, actorId, id, 'update'),
      );
      if (!updated) throw new NotFoundError('webhook_not_found', `webhook "${id}" not found`);
      return create(UpdateWebhookResponseSchema, { webhook: toWebhook(updated) });
    },

    async deleteWebhook(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const id = webhookId(req.webhookId);
      const actorId = requireText('actor_id', req.actorId, 200);
      const deleted = await deps.webhooks.delete(
        orgId,
        id,
        subscriptionChange(orgId, actorId, id, 'delete'),
      );
      if (!deleted) throw new NotFoundError('webhook_not_found', `webhook "${id}" not found`);
      return create(DeleteWebhookResponseSchema, {});
    },

    async rotateWebhookSecret(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const id = webhookId(req.webhookId);
      const actorId = requireText('actor_id', req.actorId, 200);
      let shown = '';
      const rotated = await deps.webhooks.rotate(
        orgId,
        id,
        (version) => {
          const secret = issueSecret(orgId, id, version);
          shown = secret.shown;
          return secret.sealed;
        },
        ROTATION_OVERLAP_MS,
        subscriptionChange(orgId, actorId, id, 'rotate'),
      );
      if (!rotated) throw new NotFoundError('webhook_not_found', `webhook "${id}" not found`);
      return create(RotateWebhookSecretResponseSchema, {
        webhook: toWebhook(rotated),
        secret: shown,
      });
    },

    async listWebhookDeliveries(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const limit = pageSize(req.page?.pageSize ?? 0, 50, 500);
      const before = pageToken(req.page?.pageToken ?? '');
      const state = stateName(req.state);
      const rows = await deps.deliveries.list(orgId, {
        ...(req.webhookId ? { subscriptionId: webhookId(req.webhookId) } : {}),
        ...(req.eventId ? { eventId: eventId(req.eventId) } : {}),
        ...(state ? { state } : {}),
        ...(before ? { beforeId: before } : {}),
        limit: limit + 1,
      });
      const shown = rows.slice(0, limit);
      const last = shown.at(-1);
      return create(ListWebhookDeliveriesResponseSchema, {
        deliveries: shown.map(toDelivery),
        page: { nextPageToken: rows.length > limit && last ? last.id : '' },
      });
    },

    async replayWebhookDelivery(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const subscriptionId = webhookId(req.webhookId);
      const id = eventId(req.eventId);
      const actorId = requireText('actor_id', req.actorId, 200);
      const job = await deps.deliveries.replay({ orgId, eventId: id, subscriptionId }, () =>
        changeRow(orgId, actorId, {
          type: 'webhook_delivery',
          id: `${subscriptionId}/${id}`,
          operation: 'replay',
        }),
      );
      if (!job)
        throw new NotFoundError(
          'delivery_not_found',
          `no delivery of event "${id}" to webhook "${subscriptionId}"`,
        );
      // The replay is recorded as pending; if Redis cannot take the job now, the sweeper
      // enqueues it once it can.
      await deps.queue
        .enqueue([job])
        .catch((err: unknown) => deps.logger?.warn({ err }, 'replay left to the sweeper'));
      const [delivery] = await deps.deliveries.list(orgId, {
        subscriptionId,
        eventId: id,
        limit: 1,
      });
      return create(ReplayWebhookDeliveryResponseSchema, {
        ...(delivery ? { delivery: toDelivery(delivery) } : {}),
      });
    },
  };
}
