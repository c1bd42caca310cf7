import { z } from 'zod';

/**
 * Request shapes of the annotation calls (vocabularies, tiers, segments, history, motif-family
 * proposals). Shapes only: names, labels, colours and frames are checked by the store, whose errors
 * name the session, tier or annotation (annotation-handlers.ts maps them to bad-input / conflict).
 */

const id = z.number().int().positive();
const frame = z.number().int().min(0);
const text = z.string().max(200);
const description = z.string().max(2000);
const colour = z.string().max(16);
const label = z.object({ name: text, colour, description: description.optional() }).strict();
const ids = z.array(id).min(1).max(10_000);

export const ANNOTATION_SCHEMAS = {
  listVocabularies: z.object({}).strict(),
  createVocabulary: z
    .object({ name: text, description: description.optional(), labels: z.array(label).max(500).optional() })
    .strict(),
  updateVocabulary: z
    .object({ vocabularyId: id, name: text.optional(), description: description.optional() })
    .strict(),
  deleteVocabulary: z.object({ vocabularyId: id }).strict(),
  addLabel: label.extend({ vocabularyId: id, position: z.number().int().min(0).optional() }).strict(),
  updateLabel: z
    .object({
      vocabularyId: id,
      label: text,
      name: text.optional(),
      colour: colour.optional(),
      description: description.optional(),
    })
    .strict(),
  removeLabel: z.object({ vocabularyId: id, label: text }).strict(),
  reorderLabels: z.object({ vocabularyId: id, names: z.array(text).max(500) }).strict(),
  listAnnotations: z.object({ sessionId: id }).strict(),
  addTier: z.object({ sessionId: id, name: text, vocabularyId: id.nullable().optional() }).strict(),
  updateTier: z
    .object({ tierId: id, name: text.optional(), vocabularyId: id.nullable().optional() })
    .strict(),
  removeTier: z.object({ tierId: id }).strict(),
  reorderTiers: z.object({ sessionId: id, tierIds: z.array(id).max(1000) }).strict(),
  createAnnotation: z.object({ tierId: id, start: frame, end: frame, label: text }).strict(),
  updateAnnotation: z
    .object({ annotationId: id, start: frame.optional(), end: frame.optional(), label: text.optional() })
    .strict(),
  splitAnnotation: z.object({ annotationId: id, frame }).strict(),
  mergeAnnotations: z
    .object({ annotationIds: z.array(id).min(2).max(1000), label: text.optional() })
    .strict(),
  deleteAnnotation: z.object({ annotationId: id }).strict(),
  undoAnnotation: z.object({ sessionId: id }).strict(),
  redoAnnotation: z.object({ sessionId: id }).strict(),
  annotationHistory: z
    .object({ sessionId: id, limit: z.number().int().min(1).max(10_000).optional() })
    .strict(),
  proposeFamilyLabel: z
    .object({ modelId: id, family: z.number().int().min(0), label: text, tierName: text.optional() })
    .strict(),
  listAnnotationProposals: z
    .object({
      sessionId: id.optional(),
      tierId: id.optional(),
      modelId: id.optional(),
      family: z.number().int().min(0).optional(),
      state: z.enum(['pending', 'accepted', 'rejected']).optional(),
    })
    .strict(),
  acceptProposals: z.object({ ids }).strict(),
  rejectProposals: z.object({ ids }).strict(),
};
