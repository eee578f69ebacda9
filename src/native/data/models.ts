// SQL for the model registry. Every query takes the database first and binds
// its parameters. A record points at a folder; it never owns it: removing a
// record leaves the files unless `deleteFiles` is asked for explicitly.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import type { Db } from './db';
import { openCheckpoint } from '../checkpoint/checkpoint';
import { summarizeCheckpoint, type CheckpointSummary } from '../checkpoint/summary';
import type { ExpansionPlan } from '../checkpoint/expand-plan';

export type ModelKind = 'imported' | 'expanded' | 'trained';

export interface ModelLineage {
  kind: ModelKind;
  /** the model it was expanded or trained from (null for imported, or once the parent record is removed) */
  parentId: string | null;
  /** the expansion plan, for expanded models */
  plan: ExpansionPlan | null;
  /** anything else that says where it came from, e.g. { jobId, runId } */
  origin: Record<string, unknown> | null;
}

export interface ModelRecord {
  id: string;
  name: string;
  /** absolute path of the model folder */
  path: string;
  summary: CheckpointSummary;
  lineage: ModelLineage;
  createdAt: number;
}

interface ModelRow {
  id: string;
  name: string;
  path: string;
  summary: string;
  kind: ModelKind;
  parent_id: string | null;
  plan: string | null;
  origin: string | null;
  created_at: number;
}

const toRecord = (r: ModelRow): ModelRecord => ({
  id: r.id,
  name: r.name,
  path: r.path,
  summary: JSON.parse(r.summary) as CheckpointSummary,
  lineage: {
    kind: r.kind,
    parentId: r.parent_id,
    plan: r.plan === null ? null : (JSON.parse(r.plan) as ExpansionPlan),
    origin: r.origin === null ? null : (JSON.parse(r.origin) as Record<string, unknown>),
  },
  createdAt: r.created_at,
});

export interface NewModel {
  name: string;
  path: string;
  summary: CheckpointSummary;
  kind: ModelKind;
  parentId?: string | null;
  plan?: ExpansionPlan | null;
  origin?: Record<string, unknown> | null;
  id?: string;
  createdAt?: number;
}

export function insertModel(db: Db, m: NewModel): ModelRecord {
  const abs = path.resolve(m.path);
  const existing = getModelByPath(db, abs);
  if (existing) throw new DeepenError('conflict', `${abs} is already registered as "${existing.name}".`, { id: existing.id, path: abs });
  if (m.parentId && !getModel(db, m.parentId)) throw new DeepenError('not_found', `No model with id ${m.parentId} to record as the parent.`, { parentId: m.parentId });
  const id = m.id ?? randomUUID();
  db.prepare(`INSERT INTO models (id, name, path, summary, kind, parent_id, plan, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
    id,
    m.name,
    abs,
    JSON.stringify(m.summary),
    m.kind,
    m.parentId ?? null,
    m.plan ? JSON.stringify(m.plan) : null,
    m.origin ? JSON.stringify(m.origin) : null,
    m.createdAt ?? Date.now(),
  );
  return getModel(db, id)!;
}

export function getModel(db: Db, id: string): ModelRecord | null {
  const row = db.prepare(`SELECT * FROM models WHERE id = ?`).get(id) as ModelRow | undefined;
  return row ? toRecord(row) : null;
}

export function requireModel(db: Db, id: string): ModelRecord {
  const m = getModel(db, id);
  if (!m) throw new DeepenError('not_found', `No model with id ${id}. It may have been removed; refresh the model list.`, { id });
  return m;
}

export function getModelByPath(db: Db, dir: string): ModelRecord | null {
  const row = db.prepare(`SELECT * FROM models WHERE path = ?`).get(path.resolve(dir)) as ModelRow | undefined;
  return row ? toRecord(row) : null;
}

export function listModels(db: Db): ModelRecord[] {
  return (db.prepare(`SELECT * FROM models ORDER BY created_at DESC, rowid DESC`).all() as ModelRow[]).map(toRecord);
}

/** The model's ancestors, nearest first (stops at a removed parent). */
export function ancestors(db: Db, id: string): ModelRecord[] {
  const chain: ModelRecord[] = [];
  const seen = new Set<string>([id]);
  let parent = requireModel(db, id).lineage.parentId;
  while (parent && !seen.has(parent)) {
    seen.add(parent);
    const m = getModel(db, parent);
    if (!m) break;
    chain.push(m);
    parent = m.lineage.parentId;
  }
  return chain;
}

export function childrenOf(db: Db, id: string): ModelRecord[] {
  return (db.prepare(`SELECT * FROM models WHERE parent_id = ? ORDER BY created_at, rowid`).all(id) as ModelRow[]).map(toRecord);
}

export function renameModel(db: Db, id: string, name: string): ModelRecord {
  if (!name.trim()) throw new DeepenError('bad_request', 'A model name cannot be empty.');
  requireModel(db, id);
  db.prepare(`UPDATE models SET name = ? WHERE id = ?`).run(name.trim(), id);
  return getModel(db, id)!;
}

export function updateModelSummary(db: Db, id: string, summary: CheckpointSummary): ModelRecord {
  requireModel(db, id);
  db.prepare(`UPDATE models SET summary = ? WHERE id = ?`).run(JSON.stringify(summary), id);
  return getModel(db, id)!;
}

/**
 * Removes the record. The folder is deleted only with `deleteFiles: true`,
 * and only if it still looks like a model folder (has config.json), so a
 * stale record can never make us delete something else.
 */
export async function removeModel(db: Db, id: string, opts: { deleteFiles?: boolean } = {}): Promise<{ removed: ModelRecord; filesDeleted: boolean }> {
  const m = requireModel(db, id);
  let filesDeleted = false;
  if (opts.deleteFiles) {
    const isModelFolder = await fs.stat(path.join(m.path, 'config.json')).then(
      (s) => s.isFile(),
      () => false,
    );
    if (isModelFolder) {
      await fs.rm(m.path, { recursive: true, force: true });
      filesDeleted = true;
    }
  }
  db.prepare(`DELETE FROM models WHERE id = ?`).run(id);
  return { removed: m, filesDeleted };
}

/** Registers a local Hugging Face folder: reads it fully (headers, config) and stores its summary. */
export async function importModelFolder(db: Db, dir: string, opts: { name?: string; kind?: ModelKind; parentId?: string | null; plan?: ExpansionPlan | null; origin?: Record<string, unknown> | null } = {}): Promise<ModelRecord> {
  const abs = path.resolve(dir);
  const existing = getModelByPath(db, abs);
  if (existing) throw new DeepenError('conflict', `${abs} is already registered as "${existing.name}".`, { id: existing.id, path: abs });
  const ckpt = await openCheckpoint(abs);
  try {
    const summary = await summarizeCheckpoint(ckpt);
    return insertModel(db, {
      name: opts.name?.trim() || path.basename(abs),
      path: abs,
      summary,
      kind: opts.kind ?? 'imported',
      parentId: opts.parentId ?? null,
      plan: opts.plan ?? null,
      origin: opts.origin ?? null,
    });
  } finally {
    await ckpt.close();
  }
}

/** Records the result of an expand job (see checkpoint/expand-job.ts) as a child of its base model. */
export function registerExpandedModel(
  db: Db,
  result: { outDir: string; summary: CheckpointSummary; plan: ExpansionPlan },
  opts: { parentId: string | null; name?: string; jobId?: string },
): ModelRecord {
  return insertModel(db, {
    name: opts.name?.trim() || path.basename(result.outDir),
    path: result.outDir,
    summary: result.summary,
    kind: 'expanded',
    parentId: opts.parentId,
    plan: result.plan,
    origin: opts.jobId ? { jobId: opts.jobId } : null,
  });
}
