/**
 * Checks that a target answers like the Messages API before it is measured, so that a broken
 * proxy never produces numbers: a 200 with a valid message (JSON) or a valid event stream (SSE)
 * whose text is `expectedText`.
 */

interface MessageLike {
  id?: unknown;
  type?: unknown;
  role?: unknown;
  content?: unknown;
  stop_reason?: unknown;
  usage?: { input_tokens?: unknown; output_tokens?: unknown };
}

function fail(name: string, what: string, body: string): never {
  throw new Error(`${name}: ${what}; body: ${body.slice(0, 500)}`);
}

function textOf(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .map((b: { type?: unknown; text?: unknown }) =>
      b.type === 'text' && typeof b.text === 'string' ? b.text : '',
    )
    .join('');
}

/** Validates a non-streaming answer; returns its text. */
export function checkMessage(name: string, status: number, body: string): string {
  if (status !== 200) fail(name, `status ${status}`, body);
  let m: MessageLike;
  try {
    m = JSON.parse(body) as MessageLike;
  } catch {
    return fail(name, 'not JSON', body);
  }
  if (
    typeof m.id !== 'string' ||
    !m.id.startsWith('msg_') ||
    m.type !== 'message' ||
    m.role !== 'assistant' ||
    !Array.isArray(m.content) ||
    typeof m.stop_reason !== 'string' ||
    typeof m.usage?.input_tokens !== 'number' ||
    typeof m.usage.output_tokens !== 'number'
  ) {
    fail(name, 'not a Messages API message', body);
  }
  return textOf(m.content);
}

/** Validates a streamed answer (event order, JSON data, final usage); returns its text. */
export function checkStream(name: string, status: number, body: string): string {
  if (status !== 200) fail(name, `status ${status}`, body);
  const events = body
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      const event = /^event: (.+)$/m.exec(frame)?.[1];
      const data = /^data: (.+)$/m.exec(frame)?.[1];
      if (event === undefined || data === undefined) fail(name, `bad SSE frame ${frame}`, body);
      const parsed = JSON.parse(data) as { type?: unknown } & Record<string, unknown>;
      if (parsed.type !== event)
        fail(name, `event ${event} carries type ${String(parsed.type)}`, body);
      return { event, data: parsed };
    });
  const names = events.map((e) => e.event).filter((e) => e !== 'ping');
  if (names[0] !== 'message_start' || names.at(-1) !== 'message_stop')
    fail(name, `stream does not go message_start … message_stop (${names.join(',')})`, body);
  const start = events[0]?.data['message'] as MessageLike | undefined;
  if (typeof start?.id !== 'string' || start.role !== 'assistant')
    fail(name, 'message_start without a message', body);
  const delta = events.find((e) => e.event === 'message_delta')?.data as
    { delta?: { stop_reason?: unknown }; usage?: { output_tokens?: unknown } } | undefined;
  if (
    typeof delta?.delta?.stop_reason !== 'string' ||
    typeof delta.usage?.output_tokens !== 'number'
  )
    fail(name, 'no message_delta with stop_reason and usage', body);
  let text = '';
  for (const e of events) {
    const d = e.data['delta'] as { type?: unknown; text?: unknown } | undefined;
    if (e.event === 'content_block_delta' && d?.type === 'text_delta' && typeof d.text === 'string')
      text += d.text;
  }
  return text;
}
