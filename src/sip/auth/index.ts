export {
  computeDigestResponse,
  digestEquals,
  digestHash,
  ha1,
  hashNameOf,
  isSessionAlgorithm,
  parseAlgorithm,
  type DigestAlgorithm,
  type DigestHashName,
  type DigestQop,
  type DigestResponseInput,
} from './digest.js';
export {
  DigestAuthenticator,
  type DigestAuthenticatorOptions,
  type DigestFailureReason,
  type DigestVerifyResult,
  type Ha1Lookup,
  type VerifyOptions,
} from './digest-authenticator.js';
export { answerChallenge, selectChallenge, type DigestAnswerOptions } from './digest-client.js';
export { formatDigestHeader } from './format.js';
export { NonceCountTracker } from './nonce-count-tracker.js';
export { StatelessNonce, newCnonce, type NonceCheck } from './stateless-nonce.js';
