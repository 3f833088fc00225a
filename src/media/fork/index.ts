export { AudioFork, type AudioForkEvents, type AudioForkOptions, type AudioForkState, type AudioForkStats } from './audio-fork.js';
