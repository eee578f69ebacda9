// The contract is defined once, as runtime objects carrying phantom types:
// the object's keys are the method/event names (the preload and the servers
// accept only these), the types give params/results/payloads to the client
// proxy and to the host's handler table.

export interface MethodSpec<P, R> {
  readonly kind: 'method';
  /** phantom: never set at runtime */
  readonly __params?: P;
  readonly __result?: R;
}
export interface EventSpec<T> {
  readonly kind: 'event';
  readonly __payload?: T;
}

export function method<P = Record<string, never>, R = void>(): MethodSpec<P, R> {
  return { kind: 'method' };
}
export function event<T>(): EventSpec<T> {
  return { kind: 'event' };
}
