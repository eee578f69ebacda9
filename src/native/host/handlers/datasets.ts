import { datasetMethods } from '../../../shared/contract/datasets';
import type { HandlersFor, HostServices } from '../services';

export function datasetHandlers(s: HostServices): HandlersFor<typeof datasetMethods> {
  void s;
  return {};
}
