/**
 * The transition check shared by the user-agent usage machines (STYLE.md §3): each machine
 * keeps its own state union and table in its own file; an illegal move is a bug and throws.
 */
import { ConflictError } from '../../lib/index.js';

export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export class UsageMachine<S extends string> {
  #state: S;

  constructor(
    private readonly name: string,
    initial: S,
    private readonly table: TransitionTable<S>,
  ) {
    this.#state = initial;
  }

  get state(): S {
    return this.#state;
  }

  is(...states: S[]): boolean {
    return states.includes(this.#state);
  }

  can(to: S): boolean {
    return this.table[this.#state].includes(to);
  }

  transition(to: S): void {
    if (!this.can(to)) throw new ConflictError(`${this.name}: illegal transition ${this.#state} -> ${to}`);
    this.#state = to;
  }
}
