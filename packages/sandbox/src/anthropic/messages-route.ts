import { lastUserMessage, textOf } from './conversation.js';
import { fail, ok, rejectInvalid, type Result } from './errors.js';
import { baseHeaders, sendFailure, sendJson } from './http-io.js';
import { newMessageId } from './ids.js';
import { OVERLOADED, readTriggers } from './magic-strings.js';
import { messageEvents } from './message-events.js';
import { planReply } from './message-generation.js';
import { parseJsonObject, validateMessageRequest, type MessageRequest } from './message-request.js';
import { toMessage } from './message-shape.js';
import type { CatalogModel } from './model-catalog.js';
import { usableModel } from './models.js';
import type { RouteContext } from './route-context.js';
import { writeSse } from './sse-writer.js';
import { estimateInput } from './token-estimate.js';

/** `POST /v1/messages`: validate, honour test triggers, then answer as JSON or as an SSE stream. */
export async function handleMessages(ctx: RouteContext, apiKey: string): Promise<void> {
  const { res, reply, state } = ctx;
  const now = Date.now();
  state.limits.countRequest(now);
  const checked = readRequest(ctx.body, false);
  if (!checked.ok) return sendFailure(res, checked.failure, reply, state.limits.headers(now));
  const { request, model } = checked.value;

  const triggers = readTriggers(textOf(lastUserMessage(request)?.content));
  const triggered =
    triggers.failure ?? (!request.stream && triggers.midstreamError ? OVERLOADED : undefined);
  if (triggered !== undefined) {
    return sendFailure(res, triggered, reply, state.limits.headers(now, triggered.status === 429));
  }

  const estimate = estimateInput(request);
  // Cache entries are per key and model, as the real cache is per organization and model.
  const cache = state.cache.account(`${apiKey}\u0000${model.info.id}`, estimate.breakpoints, now);
  const uncached = estimate.total - cache.read - cache.creation5m - cache.creation1h;
  const plan = planReply(request, triggers.toolUse, triggers.webSearches);
  const message = toMessage(newMessageId(), request.model, plan, { uncached, cache });
  state.limits.countTokens(estimate.total, plan.outputTokens, now);

  if (!request.stream) return sendJson(res, 200, message, reply, state.limits.headers(now));
  res.writeHead(200, {
    ...baseHeaders(reply.requestId),
    ...state.limits.headers(now),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  const events = messageEvents(message, {
    unknownEvent: triggers.unknownEvent,
    midstreamErrorRequestId: triggers.midstreamError ? reply.requestId : undefined,
  });
  await writeSse(res, events, triggers.chunkDelayMs ?? state.chunkDelayMs(), state.signal);
}

/** `POST /v1/messages/count_tokens`: the same input estimate `/v1/messages` bills. */
export function handleCountTokens(ctx: RouteContext): void {
  const checked = readRequest(ctx.body, true);
  if (!checked.ok) return sendFailure(ctx.res, checked.failure, ctx.reply);
  sendJson(ctx.res, 200, { input_tokens: estimateInput(checked.value.request).total }, ctx.reply);
}

function readRequest(
  body: Buffer,
  countTokens: boolean,
): Result<{ request: MessageRequest; model: CatalogModel }> {
  const json = parseJsonObject(body);
  if (!json.ok) return fail(json.failure);
  const request = validateMessageRequest(json.value, countTokens);
  if (!request.ok) return fail(request.failure);
  const model = usableModel(request.value.model);
  if (!model.ok) return fail(model.failure);
  const ceiling = model.value.info.max_tokens;
  if (!countTokens && ceiling !== null && request.value.maxTokens > ceiling) {
    return rejectInvalid(
      `max_tokens: ${request.value.maxTokens} > ${ceiling}, which is the maximum allowed ` +
        `number of output tokens for ${model.value.info.id}`,
    );
  }
  return ok({ request: request.value, model: model.value });
}
