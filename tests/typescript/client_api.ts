// The generated global declaration of the client must stay the client's API
// (frontend/src/): each is assignable to the other, `call` apart (the generated
// one is typed per signal and accepts the client's calls too), and so are the
// types its members use.
import type { Binding, BindingError, BindingProgress, BindingResult } from "dfws-client/bindings";
import type { CallProgress } from "dfws-client/calls";
import type { CallOptions, DFSignalsApi as ClientApi } from "dfws-client/client";
import type { ClientEventMap, ConnectionState } from "dfws-client/events";
import type { DFSignalsOptions as ClientOptions } from "dfws-client/options";
import type { SocketLike } from "dfws-client/connection";

// assignable both ways, and the same keys (an optional member left out is still assignable)
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Same<A, B> = Mutual<A, B> extends true ? Mutual<keyof A, keyof B> : false;

declare const client: ClientApi;
declare const declared: DFSignalsApi;

export const declaredFromClient: Omit<DFSignalsApi, "call"> = client;
export const clientFromDeclared: ClientApi = declared;

export const sameTypes: [
  Mutual<keyof ClientApi, keyof DFSignalsApi>,
  Same<CallOptions, DFSignalsCallOptions>,
  Same<CallProgress, DFSignalsCallProgress>,
  Same<ClientEventMap, DFSignalsEventMap>,
  Same<ConnectionState, DFSignalsApi["state"]>,
  Same<ClientOptions, DFSignalsOptions>,
  Same<SocketLike, DFSignalsSocket>,
  Same<Binding, DFSignalsBinding>,
  Same<BindingResult, DFSignalsBindingResult>,
  Same<BindingProgress, DFSignalsBindingProgress>,
  Same<BindingError, DFSignalsBindingError>,
] = [true, true, true, true, true, true, true, true, true, true, true];
