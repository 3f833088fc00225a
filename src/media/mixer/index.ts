export {
  ConferenceMixer,
  softLimit,
  type ConferenceMixerOptions,
  type MixerParticipant,
  type MixerParticipantOptions,
} from './conference-mixer.js';
