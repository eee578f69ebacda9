// The models domain: the registry of local Hugging Face folders (add, list,
// rename, remove), inspecting a folder without registering it, planning an
// expansion with the figures the Expand page shows, and starting the expand
// job. The checkpoint engine does the reading, planning and writing; this
// file validates what arrives over the wire and shapes records for the UI.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeepenError } from '../../../shared/errors';
import { modelMethods, type ExpansionPlan, type ModelRecord, type PreservationCheck, type StructuralCheck } from '../../../shared/contract/models';
import { parseBlockName } from '../../checkpoint/block-names';
import { openCheckpoint } from '../../checkpoint/checkpoint';
import { expandStrategies, normalizePlan, planExpansion } from '../../checkpoint/expand-plan';
import { summarizeCheckpoint } from '../../checkpoint/summary';
import * as modelsSql from '../../data/models';
import type { ExpandModelJobInput } from '../jobs/expand-job';
import { folderNameFor, planFigures, suggestedExpandedName, toPlanRequest, type BlockProfile } from '../models-service';
import type { HandlersFor, HostServices } from '../services';

export function modelHandlers(s: HostServices): HandlersFor<typeof modelMethods> {
  // Bytes per block, read once per folder: the figures are asked for on every click.
  const profiles = new Map<string, Promise<BlockProfile>>();
  const profileOf = (dir: string): Promise<BlockProfile> => {
    let p = profiles.get(dir);
    if (!p) {
      p = readBlockProfile(dir);
      p.catch(() => profiles.delete(dir));
      profiles.set(dir, p);
    }
    return p;
  };
  const changed = (id: string, removed?: boolean) => s.emit('model.changed', removed ? { id, removed } : { id });

  return {
    'models.list': () => modelsSql.listModels(s.db).map((m) => toDto(s, m)),
    'models.get': (p) => toDto(s, modelsSql.requireModel(s.db, requireString(p?.id, 'id'))),
    'models.add': async (p) => {
      const dir = userPath(requireString(p?.path, 'path', 'Type or pick the folder that holds config.json and the .safetensors files.'));
      const record = await modelsSql.importModelFolder(s.db, dir, { name: optionalString(p.name, 'name') });
      changed(record.id);
      return toDto(s, record);
    },
    'models.remove': async (p) => {
      const id = requireString(p?.id, 'id');
      const { filesDeleted, removed } = await modelsSql.removeModel(s.db, id, { deleteFiles: p.deleteFiles === true });
      profiles.delete(removed.path);
      changed(id, true);
      return { id, filesDeleted };
    },
    'models.rename': (p) => {
      const name = requireString(p?.name, 'name', 'Give the model a name.');
      const record = modelsSql.renameModel(s.db, requireString(p.id, 'id'), name);
      changed(record.id);
      return toDto(s, record);
    },
    'models.inspect': async (p) => {
      const dir = userPath(requireString(p?.path, 'path', 'Type or pick a model folder.'));
      const ckpt = await openCheckpoint(dir);
      try {
        return { path: ckpt.dir, summary: await summarizeCheckpoint(ckpt), warnings: ckpt.warnings };
      } finally {
        await ckpt.close();
      }
    },
    'models.plan': async (p) => {
      const model = presentModel(s, requireString(p?.modelId, 'modelId'));
      if (!expandStrategies.includes(p.strategy)) throw new DeepenError('bad_request', `Unknown strategy ${JSON.stringify(p.strategy)}; use one of ${expandStrategies.join(', ')}.`, { field: 'strategy' });
      const plan = planExpansion(model.summary.layers, toPlanRequest(p));
      const figures = planFigures(model.summary, await profileOf(model.path), plan, { seqLen: p.seqLen, batch: p.batch });
      const suggestedName = suggestedExpandedName(model.name, plan.newDepth);
      return { plan, figures, suggestedName, suggestedOutDir: freeFolder(path.join(s.dataDir, 'models'), folderNameFor(suggestedName)) };
    },
    'models.expand': (p) => {
      const model = presentModel(s, requireString(p?.modelId, 'modelId'));
      if (!p.plan || typeof p.plan !== 'object') throw new DeepenError('bad_request', 'An expansion plan is required: make one with models.plan.', { field: 'plan' });
      // Rebuilt from its insertions: a plan from the wire is never trusted as is.
      const plan = normalizePlan(p.plan as Parameters<typeof normalizePlan>[0], model.summary.layers);
      const name = optionalString(p.name, 'name') ?? suggestedExpandedName(model.name, plan.newDepth);
      const outDir = p.outDir !== undefined ? userPath(requireString(p.outDir, 'outDir')) : path.join(s.dataDir, 'models', folderNameFor(name));
      if (path.resolve(outDir) === path.resolve(model.path)) {
        throw new DeepenError('conflict', `The output folder is the base model's own folder (${outDir}). Choose a new folder.`, { field: 'outDir', outDir });
      }
      if (fs.existsSync(outDir)) {
        throw new DeepenError('conflict', `The output folder ${outDir} already exists. Choose another name or folder; Deepen never writes into an existing one.`, { field: 'outDir', outDir });
      }
      const input: ExpandModelJobInput = { baseDir: model.path, outDir, plan: plan as ExpansionPlan, parentId: model.id, name, register: true };
      const job = s.jobs.start('expand', `Expand ${model.name} → ${name} (${plan.baseLayers} + ${plan.added} = ${plan.newDepth} blocks)`, input);
      return { jobId: job.id };
    },
  };
}

/** A registry record as the renderer sees it: lineage with the parent's name, checks, whether the folder is still there. */
export function toDto(s: HostServices, m: modelsSql.ModelRecord): ModelRecord {
  const origin = (m.lineage.origin ?? {}) as { parentName?: string; parentPath?: string; jobId?: string; runId?: string; preservation?: PreservationCheck; structural?: StructuralCheck };
  const parent = m.lineage.parentId ? modelsSql.getModel(s.db, m.lineage.parentId) : null;
  const derived = m.lineage.kind !== 'imported';
  return {
    id: m.id,
    name: m.name,
    path: m.path,
    addedAt: m.createdAt,
    summary: m.summary,
    lineage: derived
      ? {
          kind: m.lineage.kind as 'expanded' | 'trained',
          parentId: parent?.id ?? null,
          parentName: parent?.name ?? origin.parentName ?? 'a removed model',
          parentPath: parent?.path ?? origin.parentPath ?? '',
          ...(m.lineage.plan ? { plan: m.lineage.plan, newBlockIndices: m.lineage.plan.newBlockIndices } : {}),
          ...(origin.jobId ? { jobId: origin.jobId } : {}),
          ...(origin.runId ? { runId: origin.runId } : {}),
        }
      : null,
    preservation: origin.preservation ?? null,
    structural: origin.structural ?? null,
    present: fs.existsSync(path.join(m.path, 'config.json')),
  };
}

function presentModel(s: HostServices, id: string): modelsSql.ModelRecord {
  const model = modelsSql.requireModel(s.db, id);
  if (!fs.existsSync(path.join(model.path, 'config.json'))) {
    throw new DeepenError('not_found', `The folder of "${model.name}" (${model.path}) is gone or has no config.json. Put it back, or remove the model and add it again from its new place.`, { id, path: model.path });
  }
  return model;
}

async function readBlockProfile(dir: string): Promise<BlockProfile> {
  const ckpt = await openCheckpoint(dir);
  try {
    const blockBytes = new Array<number>(ckpt.config.numLayers).fill(0);
    for (const t of ckpt.tensors.values()) {
      const b = parseBlockName(t.name);
      if (b) blockBytes[b.index] += t.length;
    }
    return { blockBytes };
  } finally {
    await ckpt.close();
  }
}

/** `base/name`, or `base/name-2`, … : the first that does not exist yet. */
function freeFolder(base: string, name: string): string {
  for (let i = 1; ; i++) {
    const candidate = path.join(base, i === 1 ? name : `${name}-${i}`);
    if (!fs.existsSync(candidate)) return candidate;
  }
}

/** A path as a user types it: surrounding quotes and spaces dropped, `~` expanded, made absolute. */
function userPath(raw: string): string {
  let p = raw.trim().replace(/^(["'])(.*)\1$/, '$2');
  if (p === '~' || p.startsWith('~/') || p.startsWith('~\\')) p = path.join(os.homedir(), p.slice(1));
  return path.resolve(p);
}

function requireString(v: unknown, field: string, hint = ''): string {
  if (typeof v !== 'string' || !v.trim()) throw new DeepenError('bad_request', `${field} is required.${hint ? ` ${hint}` : ''}`, { field });
  return v;
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new DeepenError('bad_request', `${field} must be text.`, { field });
  return v.trim() || undefined;
}
