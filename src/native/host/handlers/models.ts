import { modelMethods } from '../../../shared/contract/models';
import type { HandlersFor, HostServices } from '../services';

export function modelHandlers(s: HostServices): HandlersFor<typeof modelMethods> {
  void s;
  return {};
}
