// The generated global declaration of the client must stay the client's API
// (frontend/src/client.ts): each is assignable to the other, `call` apart
// (the generated one is typed per signal and accepts the client's calls too).
import type { DFSignalsApi as ClientApi } from "dfws-client";

declare const client: ClientApi;
declare const declared: DFSignalsApi;

export const declaredFromClient: Omit<DFSignalsApi, "call"> = client;
export const clientFromDeclared: ClientApi = declared;
