// Rendering tokenizer_config.json's Jinja chat_template with @huggingface/jinja, the interpreter
// transformers.js uses (no eval: it runs in Workers). The variables passed are transformers.js v4's
// (tokenization_utils.js apply_chat_template): messages, add_generation_prompt, tools, documents,
// the role tokens (bos_token, eos_token, unk_token, sep_token, pad_token, cls_token, mask_token)
// and any extra keyword; so the same messages render the same text.

import { Template } from '@huggingface/jinja';
import { TesseraError } from '../api/errors.js';
import type { SpecialTokens } from './tokenizer-config.js';

/** One turn of a conversation, as the chat templates on the hub expect it. */
export interface ChatMessage {
  /** 'system', 'user', 'assistant', 'tool', … */
  role: string;
  /** The text, or content parts ({ type: 'text', text }, { type: 'image' }, …) for templates that take them. */
  content: string | Array<{ type: string; [key: string]: unknown }>;
  /** Anything else a template reads (tool_calls, name, reasoning_content, …). */
  [key: string]: unknown;
}

/** Options of `Tokenizer.applyChatTemplate`; other keys are passed to the template as variables. */
export interface ChatTemplateOptions {
  /** End with the tokens that open an assistant turn. Default false. */
  addGenerationPrompt?: boolean;
  /** Return token ids (true, the default) or the rendered text (false). */
  tokenize?: boolean;
  /** JSON-schema tool definitions, for templates that support function calling. */
  tools?: Array<Record<string, unknown>> | null;
  /** Documents for retrieval-augmented templates. */
  documents?: Array<Record<string, string>> | null;
  /** A template, or the name of one of the tokenizer's named templates; default: the tokenizer's. */
  chatTemplate?: string | null;
  /** Extra variables for the template (e.g. enable_thinking). */
  [variable: string]: unknown;
}

const ROLE_KEYS: Array<[keyof SpecialTokens, string]> = [
  ['bos', 'bos_token'], ['eos', 'eos_token'], ['unk', 'unk_token'], ['sep', 'sep_token'],
  ['pad', 'pad_token'], ['cls', 'cls_token'], ['mask', 'mask_token'],
];

/** Compiles templates once per tokenizer and renders them. */
export class ChatTemplates {
  private readonly compiled = new Map<string, Template>();

  constructor(
    private readonly templates: string | Record<string, string> | undefined,
    private readonly special: SpecialTokens,
    private readonly where: string,
  ) {}

  /** Whether the tokenizer has a template of its own. */
  get available(): boolean {
    return this.templates !== undefined;
  }

  /**
   * Picks the template as transformers does: a name among the named ones or a template text; with
   * none given, 'tool_use' when tools are passed and the tokenizer has one, else 'default'.
   */
  pick(chosen: string | null | undefined, hasTools: boolean): string {
    const t = this.templates;
    if (t !== undefined && typeof t === 'object') {
      if (chosen != null) return Object.hasOwn(t, chosen) ? t[chosen]! : chosen;
      if (hasTools && Object.hasOwn(t, 'tool_use')) return t.tool_use!;
      if (Object.hasOwn(t, 'default')) return t.default!;
      throw new TesseraError('INVALID_ARGUMENT', `${this.where}: tokenizer_config.json has several chat templates (${Object.keys(t).sort().join(', ')}) and none is named 'default'; pass chatTemplate`);
    }
    if (chosen != null) return chosen;
    if (t === undefined) throw new TesseraError('INVALID_ARGUMENT', `${this.where}: tokenizer_config.json has no "chat_template" (or there is no tokenizer_config.json); pass chatTemplate`);
    return t;
  }

  /** The rendered prompt. */
  render(messages: readonly ChatMessage[], options: ChatTemplateOptions): string {
    if (!Array.isArray(messages)) throw new TesseraError('INVALID_ARGUMENT', `${this.where}: messages should be an array of { role, content }`);
    const { addGenerationPrompt = false, tokenize: _t, tools = null, documents = null, chatTemplate = null, ...extra } = options;
    const source = this.pick(chatTemplate, tools !== null);
    let template = this.compiled.get(source);
    if (!template) {
      try {
        template = new Template(source);
      } catch (e) {
        throw new TesseraError('INVALID_ARGUMENT', `${this.where}: the chat template does not parse: ${(e as Error).message}`, { cause: e });
      }
      this.compiled.set(source, template);
    }
    const roles: Record<string, string> = {};
    for (const [role, key] of ROLE_KEYS) if (this.special[role] !== undefined) roles[key] = this.special[role]!;
    try {
      return template.render({ messages, add_generation_prompt: addGenerationPrompt, tools, documents, ...roles, ...extra });
    } catch (e) {
      // raise_exception(...) in a template ends up here: the template refused these messages.
      throw new TesseraError('INVALID_ARGUMENT', `${this.where}: the chat template failed: ${(e as Error).message}`, { cause: e });
    }
  }
}
