/**
 * Where this window is in each of its topics: the last `"o"` the server sent
 * per topic (named by a tag), sent back in the socket URL (`?dfwspos=`) when it
 * reconnects so that the server replays what was missed meanwhile.
 */
import { POSITIONS_QUERY, type Positions } from "./wire.generated";

export class PositionBook {
  private positions: Positions = {};

  /** Remember the positions of a frame, in arrival order: the last one of a topic wins. */
  record(positions: Positions | undefined): void {
    if (positions !== undefined) Object.assign(this.positions, positions);
  }

  /** The last position seen per topic tag. */
  snapshot(): Positions {
    return { ...this.positions };
  }

  /** Forget every position (another window: its topics are not these). */
  clear(): void {
    this.positions = {};
  }

  /** `url` with `?dfwspos=` appended when a position is known, else `url` itself. */
  urlWith(url: string): string {
    if (Object.keys(this.positions).length === 0) return url;
    const value = encodeURIComponent(JSON.stringify(this.positions));
    return `${url}${url.includes("?") ? "&" : "?"}${POSITIONS_QUERY}=${value}`;
  }
}
