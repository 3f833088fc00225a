export { Player } from './player.js';
export type { PlayerOptions, PlayerState, PlayItemError, PlayerOutcome } from './player.js';
