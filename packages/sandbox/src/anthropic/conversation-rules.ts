import { isValidSignature } from './thinking.js';
import type { WireMessage } from './wire-types.js';

/**
 * Rules the real API enforces across turns: every `tool_result` answers a `tool_use` of the
 * previous assistant turn, and thinking blocks come back exactly as the API signed them.
 * Returns the error message of the first violation, or undefined.
 */
export function checkConversation(turns: readonly WireMessage[]): string | undefined {
  for (const [i, turn] of turns.entries()) {
    if (typeof turn.content === 'string') continue;
    for (const [j, block] of turn.content.entries()) {
      if (turn.role === 'assistant' && block.type === 'thinking') {
        const { thinking, signature } = block;
        const intact =
          typeof thinking === 'string' &&
          typeof signature === 'string' &&
          isValidSignature(thinking, signature);
        if (!intact)
          return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
      }
      if (turn.role === 'user' && block.type === 'tool_result') {
        const previous = turns[i - 1];
        const id = block['tool_use_id'];
        const paired =
          previous?.role === 'assistant' &&
          typeof previous.content !== 'string' &&
          previous.content.some((b) => b.type === 'tool_use' && b['id'] === id);
        if (!paired) {
          return (
            `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ` +
            `${String(id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block ` +
            'in the previous message.'
          );
        }
      }
    }
  }
  return undefined;
}
