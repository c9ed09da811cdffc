import type { TextCitation } from '@anthropic-ai/sdk/resources/messages';
import type { CitableDocument } from './conversation.js';
import { isObject } from './wire-types.js';

/** The sentence the reply quotes from a document, and the citation pointing at it. */
export interface Quote {
  readonly text: string;
  readonly citation: TextCitation;
}

const MAX_QUOTE = 200;

/**
 * Quotes the start of a document the way the real API cites each source kind: plain text by
 * character range, custom content by block range, and PDFs (whose text the fake cannot read)
 * by page range.
 */
export function quoteDocument({ index, block }: CitableDocument): Quote {
  const title = typeof block['title'] === 'string' ? block['title'] : null;
  const source = isObject(block['source']) ? block['source'] : {};

  if (source['type'] === 'text' && typeof source['data'] === 'string') {
    const data = source['data'];
    const start = data.length - data.trimStart().length;
    const sentence = /^[^.!?]*[.!?]?/.exec(data.slice(start))?.[0] ?? '';
    const cited = sentence.slice(0, MAX_QUOTE);
    return {
      text: cited.trim() === '' ? 'the document is empty' : cited.trim(),
      citation: {
        type: 'char_location',
        cited_text: cited,
        document_index: index,
        document_title: title,
        start_char_index: start,
        end_char_index: start + cited.length,
        file_id: null,
      },
    };
  }

  if (source['type'] === 'content') {
    const content = source['content'];
    const blocks: readonly unknown[] = Array.isArray(content) ? content : [];
    const first = blocks.find((b) => isObject(b) && b['type'] === 'text');
    const text =
      typeof content === 'string'
        ? content
        : isObject(first) && typeof first['text'] === 'string'
          ? first['text']
          : '';
    return {
      text: text.trim() === '' ? 'the first block is empty' : text.slice(0, MAX_QUOTE).trim(),
      citation: {
        type: 'content_block_location',
        cited_text: text,
        document_index: index,
        document_title: title,
        start_block_index: 0,
        end_block_index: 1,
        file_id: null,
      },
    };
  }

  return {
    text: 'the first page covers this',
    citation: {
      type: 'page_location',
      cited_text: '',
      document_index: index,
      document_title: title,
      start_page_number: 1,
      end_page_number: 2,
      file_id:
        source['type'] === 'file' && typeof source['file_id'] === 'string'
          ? source['file_id']
          : null,
    },
  };
}
