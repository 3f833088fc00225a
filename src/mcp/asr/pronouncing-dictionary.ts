/**
 * A CMU-style pronouncing dictionary (`word PH ON ES`, alternates as `word(2) ...`), read once so
 * that each decoder gets a small dictionary of just its grammar's words: pocketsphinx loads the
 * full 134k-word cmudict in ~150 ms and a dozen words in ~10 ms.
 */
import { readFile } from 'node:fs/promises';

export class PronouncingDictionary {
  private constructor(private readonly entries: Map<string, string[]>) {}

  static async load(path: string): Promise<PronouncingDictionary> {
    return PronouncingDictionary.parse(await readFile(path, 'utf8'));
  }

  static parse(text: string): PronouncingDictionary {
    const entries = new Map<string, string[]>();
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*$/, '').trim();
      if (line.length === 0) continue;
      const space = line.search(/\s/);
      if (space <= 0) continue;
      const head = line.slice(0, space);
      const phones = line.slice(space).trim().replace(/\s+/g, ' ');
      if (phones.length === 0) continue;
      const word = head.replace(/\(\d+\)$/, '').toLowerCase();
      const list = entries.get(word);
      if (list === undefined) entries.set(word, [phones]);
      else list.push(phones);
    }
    return new PronouncingDictionary(entries);
  }

  get size(): number {
    return this.entries.size;
  }

  has(word: string): boolean {
    return this.entries.has(word.toLowerCase());
  }

  /** dictionary text for these words (unknown ones left out), alternates numbered as cmudict does */
  subset(words: Iterable<string>): string {
    const lines: string[] = [];
    for (const word of new Set([...words].map((w) => w.toLowerCase()))) {
      const prons = this.entries.get(word);
      if (prons === undefined) continue;
      prons.forEach((p, i) => lines.push(`${i === 0 ? word : `${word}(${i + 1})`} ${p}`));
    }
    return lines.join('\n') + '\n';
  }
}
