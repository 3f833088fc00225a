import { z } from 'zod';

/**
 * The dial plan as data (REST, CLI, YAML). zod checks the shape — every object is strict so a
 * misspelt key is an error naming its path — and compile-dial-plan.ts checks what a schema
 * cannot: patterns, regexes, time zones, rewrites that leave nothing, duplicate names.
 */

const name = z.string().trim().min(1, 'must not be empty').max(100);
const nonEmpty = z.string().min(1, 'must not be empty').max(256);

/** Where the call comes from: a registered user of the tenant, or an inbound trunk. */
export const CALL_SOURCES = ['internal', 'trunk'] as const;
export type CallSource = (typeof CALL_SOURCES)[number];

const matchSchema = z
  .object({
    number: nonEmpty,
    caller: nonEmpty.optional(),
    source: z.enum(['internal', 'trunk', 'any']).default('any'),
    /** name of the inbound trunk; implies source 'trunk' */
    trunk: name.optional(),
  })
  .strict();

const timeConditionSchema = z
  .object({
    days: z.array(z.string()).min(1).optional(),
    from: z.string().optional(),
    to: z.string().optional(),
    timezone: z.string().min(1).optional(),
    dates: z.array(z.string()).min(1).optional(),
    negate: z.boolean().default(false),
  })
  .strict();

const numberRewriteSchema = z
  .object({
    /** a count of leading characters, or a literal prefix removed when present */
    stripPrefix: z.union([z.number().int().min(1).max(32), z.string().min(1).max(32)]).optional(),
    replace: z.object({ pattern: z.string().min(1).max(256), with: z.string().max(256) }).strict().optional(),
    prepend: z.string().min(1).max(32).optional(),
  })
  .strict();

const rewriteSchema = numberRewriteSchema.extend({ callerId: numberRewriteSchema.optional() }).strict();

const ringSeconds = z.number().int().min(1).max(600);

const targetSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('user'), user: nonEmpty }).strict(),
  z
    .object({
      type: z.literal('ring-group'),
      strategy: z.enum(['simultaneous', 'sequential']),
      members: z.array(nonEmpty).min(1, 'a ring group needs at least one member'),
      ringSeconds: ringSeconds.optional(),
    })
    .strict(),
  z.object({ type: z.literal('trunk'), trunk: name, fallbackTrunks: z.array(name).optional() }).strict(),
  // a VoiceXML application: any http(s) URL, or an application hosted for the tenant (by name)
  // (exactly one of the two: the compiler checks)
  z
    .object({
      type: z.literal('vxml'),
      url: nonEmpty.optional(),
      app: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'an application name: a-z, 0-9 and -, up to 64').optional(),
    })
    .strict(),
  z.object({ type: z.literal('voicemail'), mailbox: nonEmpty }).strict(),
  z
    .object({
      type: z.literal('reject'),
      status: z.number().int().min(400, 'reject status must be 400–699').max(699, 'reject status must be 400–699'),
      reason: z.string().min(1).max(128).optional(),
    })
    .strict(),
  z.object({ type: z.literal('number'), number: nonEmpty }).strict(),
]);

export const TARGET_TYPES = ['user', 'ring-group', 'trunk', 'vxml', 'voicemail', 'reject', 'number'] as const;

export const ruleSchema = z
  .object({
    name,
    /** lower runs first; rules with a priority run before rules without */
    priority: z.number().int().min(0).max(1_000_000).optional(),
    match: matchSchema,
    when: z.array(timeConditionSchema).optional(),
    rewrite: rewriteSchema.optional(),
    target: targetSchema,
    /** when the target fails (busy, unreachable, trunk down) the next matching rule is tried */
    continueOnFailure: z.boolean().default(false),
  })
  .strict();

export const dialPlanEnvelopeSchema = z
  .object({
    tenant: name.optional(),
    /** default zone of time conditions that name none */
    timezone: z.string().min(1).default('UTC'),
    rules: z.array(z.unknown()),
  })
  .strict();

export type DialPlanRuleInput = z.input<typeof ruleSchema>;
export type DialPlanInput = Omit<z.input<typeof dialPlanEnvelopeSchema>, 'rules'> & { rules: DialPlanRuleInput[] };
export type RuleConfig = z.output<typeof ruleSchema>;
export type NumberRewrite = z.output<typeof numberRewriteSchema>;
export type TimeConditionConfig = z.output<typeof timeConditionSchema>;
export type Target = z.output<typeof targetSchema>;
export type TargetType = Target['type'];
