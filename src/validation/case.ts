/**
 * The validation case format (../shared/validation/README.md, "Case format"), read leniently: a
 * validator must accept any file in the format, so every field the source may leave unsaid
 * accepts `null` (or may be missing), unknown fields are kept and ignored, and unknown values
 * (a GPU without a profile, an enum value the model lacks) are left for the adapter to skip with
 * its reason. Only what makes an entry not a case at all (an id that is not a string, a number
 * where text belongs) is malformed.
 */
import { z } from 'zod';

const num = z.number().nullish();
const text = z.string().nullish();
/** A section the format has as an object; `null` or missing reads as "nothing stated". */
const section = <T extends z.ZodType>(s: T) => z.preprocess((v) => v ?? {}, s);

export const CaseSchema = z.object({
  id: z.string(),
  source: section(z.object({ title: text, url: text, table: text, kind: text }).loose()),
  model: section(z.object({}).loose()),
  hardware: section(z.object({ gpu: text, gpus: z.number().int().positive().nullish(), gpusPerNode: z.number().int().positive().nullish(), nodeNetworkGbps: num, note: text }).loose()),
  layout: section(z.object({}).loose()),
  measured: section(z.object({ stepSeconds: num, tokensPerSecondPerGpu: num, tflopsPerGpu: num, mfu: num, mfuPeakTflops: num, memoryGiBPerGpu: num }).loose()),
  flags: z.preprocess((v) => v ?? [], z.array(z.string())),
  notes: text,
}).loose();
export type ValidationCase = z.output<typeof CaseSchema>;
