/** A bounded memory of the last ids seen, to drop frames delivered twice. */
export class RecentIds {
  private readonly seen = new Set<string>();

  constructor(private readonly limit = 1000) {}

  /** Remember `id`; false if it was already among the last `limit` ids. */
  add(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > this.limit) {
      // A Set iterates in insertion order: the first value is the oldest.
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
    return true;
  }
}
