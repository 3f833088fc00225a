/** The SIP user agent for the B2BUA (RFC 3261 §12-§15, 3262, 3311, 3515, 3891, 4028). */
export { UserAgentService, type UserAgentServiceOptions, type UserAgentServiceEvents } from './user-agent-service.js';
export { IncomingInvite, type IncomingInviteEvents, type ProgressOptions, type AcceptOptions } from './incoming-invite.js';
export {
  OutgoingInvite,
  type InviteOptions,
  type Credentials,
  type CredentialLookup,
  type ProvisionalInfo,
  type InviteFailure,
  type FailureCause,
  type InviteResult,
  type OutgoingInviteEvents,
} from './outgoing-invite.js';
export { UaDialog, type UaDialogEvents, type DialogEnd, type DialogEndCause, type OfferAnswer, type InDialogSendOptions } from './ua-dialog.js';
export { IncomingOffer, IncomingRefer, IncomingDialogRequest, type IncomingInfo, type ReferNotify, type AnswerOptions, type RejectOptions, type ResponseOptions } from './dialog-requests.js';
export { SessionTimer, negotiateAsUas, MIN_SE_FLOOR, type ActiveSession, type SessionRole } from './session-timer.js';
export type { SessionTimerSettings } from './ua-host.js';
export type { IncomingInviteState } from './incoming-invite-state.js';
export type { OutgoingInviteState } from './outgoing-invite-state.js';
export {
  parseReplaces,
  formatReplaces,
  parseReferTo,
  formatReferTo,
  parseDtmfBody,
  parseSipfragStatus,
  parseSessionExpires,
  type ReplacesTarget,
  type ReferTarget,
  type Dtmf,
  type SessionExpires,
} from './ua-messages.js';
