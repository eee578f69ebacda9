// The one contract between the engine and its faces (Electron renderer,
// browser mode, CLI). Domains live in their own files; this merges them.
import type { EventSpec, MethodSpec } from './define';
import { appEvents, engineMethods } from './engine';
import { jobEvents, jobMethods } from './jobs';
import { modelEvents, modelMethods } from './models';
import { datasetEvents, datasetMethods } from './datasets';
import { chatEvents, chatMethods } from './chat';

export const methods = {
  ...engineMethods,
  ...jobMethods,
  ...modelMethods,
  ...datasetMethods,
  ...chatMethods,
};

export const events = {
  ...appEvents,
  ...jobEvents,
  ...modelEvents,
  ...datasetEvents,
  ...chatEvents,
};

export type Methods = typeof methods;
export type Events = typeof events;
export type MethodName = keyof Methods;
export type EventName = keyof Events;
export type ParamsOf<M extends MethodName> = Methods[M] extends MethodSpec<infer P, unknown> ? P : never;
export type ResultOf<M extends MethodName> = Methods[M] extends MethodSpec<unknown, infer R> ? R : never;
export type PayloadOf<E extends EventName> = Events[E] extends EventSpec<infer T> ? T : never;

const methodNameSet = new Set<string>(Object.keys(methods));
const eventNameSet = new Set<string>(Object.keys(events));
export const isMethodName = (name: unknown): name is MethodName => typeof name === 'string' && methodNameSet.has(name);
export const isEventName = (name: unknown): name is EventName => typeof name === 'string' && eventNameSet.has(name);

export * from './engine';
export * from './jobs';
export * from './models';
export * from './datasets';
export * from './chat';
