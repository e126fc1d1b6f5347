import type {
  ContextBlock,
  DividerBlock,
  HeaderBlock,
  KnownBlock,
  MessageAttachment,
  MrkdwnElement,
  PlainTextElement,
  SectionBlock,
} from '@slack/types';
import { z } from 'zod';

/**
 * Runtime limits of the Block Kit subset vigil sends, written from Slack's Block Kit reference
 * (docs.slack.dev/reference/block-kit). The official `@slack/types` give the shapes at compile time but not the
 * limits; a payload over a limit is rejected by Slack with `invalid_blocks`/`invalid_payload`, which for us would be a
 * permanent failure of an alert. So every message is checked here before it leaves, and tests validate each render.
 */
export const limits = {
  blocksPerMessage: 50,
  attachmentsPerMessage: 20,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  textObject: 3000,
  blockId: 255,
  /** Slack truncates top-level `text` beyond 40,000 characters; it is only the notification fallback for us. */
  messageText: 40_000,
} as const;

const blockId = z.string().min(1).max(limits.blockId).optional();

const plainText = (max: number) =>
  z.strictObject({ type: z.literal('plain_text'), text: z.string().min(1).max(max), emoji: z.boolean().optional() });
const mrkdwn = (max: number) =>
  z.strictObject({ type: z.literal('mrkdwn'), text: z.string().min(1).max(max), verbatim: z.boolean().optional() });
const textObject = (max: number) => z.discriminatedUnion('type', [plainText(max), mrkdwn(max)]);

export const HeaderBlockSchema = z.strictObject({
  type: z.literal('header'),
  block_id: blockId,
  text: plainText(limits.headerText),
});

export const SectionBlockSchema = z
  .strictObject({
    type: z.literal('section'),
    block_id: blockId,
    text: textObject(limits.sectionText).optional(),
    fields: z.array(textObject(limits.fieldText)).min(1).max(limits.sectionFields).optional(),
    expand: z.boolean().optional(),
  })
  .refine((s) => s.text !== undefined || s.fields !== undefined, { message: 'a section needs text or fields' });

export const ContextBlockSchema = z.strictObject({
  type: z.literal('context'),
  block_id: blockId,
  elements: z.array(textObject(limits.textObject)).min(1).max(limits.contextElements),
});

export const DividerBlockSchema = z.strictObject({ type: z.literal('divider'), block_id: blockId });

export const BlockSchema = z.union([HeaderBlockSchema, SectionBlockSchema, ContextBlockSchema, DividerBlockSchema]);

const uniqueBlockIds = (blocks: { block_id?: string | undefined }[]) => {
  const ids = blocks.map((b) => b.block_id).filter((id): id is string => id !== undefined);
  return new Set(ids).size === ids.length;
};
const Blocks = z
  .array(BlockSchema)
  .min(1)
  .max(limits.blocksPerMessage)
  .refine(uniqueBlockIds, { message: 'block_id must be unique within a message' });

export const AttachmentSchema = z.strictObject({
  color: z.string().regex(/^(#[0-9A-Fa-f]{6}|good|warning|danger)$/),
  fallback: z.string().max(limits.messageText).optional(),
  blocks: Blocks,
});

/**
 * A message for an incoming webhook or chat.postMessage/chat.update. The blocks sit inside one attachment because only
 * attachments carry the coloured severity bar; `text` is what notifications and screen readers show.
 */
export const SlackMessageSchema = z
  .strictObject({
    text: z.string().min(1).max(limits.messageText),
    blocks: Blocks.optional(),
    attachments: z.array(AttachmentSchema).min(1).max(limits.attachmentsPerMessage).optional(),
    unfurl_links: z.boolean().optional(),
    unfurl_media: z.boolean().optional(),
  })
  .refine(
    (m) =>
      (m.blocks?.length ?? 0) + (m.attachments ?? []).reduce((n, a) => n + a.blocks.length, 0) <=
      limits.blocksPerMessage,
    { message: `at most ${limits.blocksPerMessage} blocks in a message` },
  );

/** The message type we build with: Slack's official types, restricted to the subset validated above. */
export type VigilBlock = HeaderBlock | SectionBlock | ContextBlock | DividerBlock;
export interface SlackMessage {
  text: string;
  blocks?: VigilBlock[];
  attachments?: (Omit<MessageAttachment, 'blocks' | 'color'> & { color: string; blocks: VigilBlock[] })[];
  unfurl_links?: boolean;
  unfurl_media?: boolean;
}

// Compile-time proof that what the schema accepts is a valid Slack message according to @slack/types.
type Validated = z.infer<typeof SlackMessageSchema>;
type OfficialMessage = { text: string; blocks?: KnownBlock[]; attachments?: MessageAttachment[] };
const _validatedIsOfficial = (m: Validated): OfficialMessage => m;
const _builtIsOfficial = (m: SlackMessage): OfficialMessage => m;
void _validatedIsOfficial;
void _builtIsOfficial;

export type BlockKitIssue = { path: string; message: string };

/** Checks a message against Slack's limits; returns the problems (empty = valid). */
export function blockKitIssues(message: unknown): BlockKitIssue[] {
  const result = SlackMessageSchema.safeParse(message);
  if (result.success) return [];
  return result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

// Builders with the limits applied, so renderers cannot produce an over-long text by accident.

/** Slack mrkdwn needs only &, < and > escaped; escaping `<` also defuses `<!channel>` mentions in attacker-controlled
 * strings such as user names or user agents. */
export const escapeMrkdwn = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Clips by characters and never leaves half an escape entity or an unclosed code span behind. */
export function clipMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  if ((cut.match(/```/g)?.length ?? 0) % 2 === 1) {
    cut = `${cut.slice(0, Math.max(0, max - 5))}`;
    return `${cut}…\n\`\`\``;
  }
  return `${cut}…`;
}

const clipPlain = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export const plain = (text: string, max: number = limits.textObject): PlainTextElement => ({
  type: 'plain_text',
  text: clipPlain(text.trim() || '-', max),
  emoji: true,
});

export const md = (text: string, max: number = limits.textObject): MrkdwnElement => ({
  type: 'mrkdwn',
  text: clipMrkdwn(text.trim() || '-', max),
});

export const header = (text: string): HeaderBlock => ({ type: 'header', text: plain(text, limits.headerText) });

export const section = (text: string): SectionBlock => ({ type: 'section', text: md(text, limits.sectionText) });

export const fieldsSection = (fields: string[]): SectionBlock => ({
  type: 'section',
  fields: fields.slice(0, limits.sectionFields).map((f) => md(f, limits.fieldText)),
});

export const context = (elements: string[]): ContextBlock => ({
  type: 'context',
  elements: elements.slice(0, limits.contextElements).map((e) => md(e)),
});

export const divider = (): DividerBlock => ({ type: 'divider' });
