// The datasets domain of the contract: methods and events. Filled by the
// engineers of that capability; merged in ./index.ts.
import { event, method } from './define';

export const datasetMethods = {};
export const datasetEvents = {};

void event;
void method;
