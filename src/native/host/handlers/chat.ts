import { chatMethods } from '../../../shared/contract/chat';
import type { HandlersFor, HostServices } from '../services';

export function chatHandlers(s: HostServices): HandlersFor<typeof chatMethods> {
  void s;
  return {};
}
